import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, nodeMetrics, podMetrics, usageList } from './api.js';

test('usage as metrics-server writes it: canonical nanocores, binary bytes', () => {
  assert.deepEqual(usageList({ cpuNanoCores: 250_000_000, memoryBytes: 64 * 2 ** 20 }), { cpu: '250m', memory: '64Mi' });
  assert.deepEqual(usageList({ cpuNanoCores: 1_234_567, memoryBytes: 4096 * 3 }), { cpu: '1234567n', memory: '12Ki' });
  assert.deepEqual(usageList({ cpuNanoCores: 2_000_000_000, memoryBytes: 1000 }), { cpu: '2', memory: '1k' });
  assert.deepEqual(usageList({ cpuNanoCores: 0, memoryBytes: 0 }), { cpu: '0', memory: '0' });
});

test('window as a Go duration', () => {
  assert.equal(goDuration(15_000), '15s');
  assert.equal(goDuration(1500), '1.5s');
  assert.equal(goDuration(300), '300ms');
  assert.equal(goDuration(90_000), '1m30s');
});

test('NodeMetrics and PodMetrics objects', () => {
  const at = Date.parse('2026-01-01T00:00:05.300Z');
  const nm = nodeMetrics({ metadata: { name: 'n', labels: { a: 'b' } } }, { name: 'n', timestamp: at, windowMs: 15_000, cpuNanoCores: 1e9, memoryBytes: 2 ** 30 }, at);
  assert.deepEqual(nm, {
    kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: 'n', creationTimestamp: '2026-01-01T00:00:05Z', labels: { a: 'b' } },
    timestamp: '2026-01-01T00:00:05Z', window: '15s', usage: { cpu: '1', memory: '1Gi' },
  });
  const pm = podMetrics({ metadata: { name: 'p', namespace: 'ns' } }, {
    name: 'p', namespace: 'ns', uid: 'u', timestamp: at, windowMs: 15_000, containers: [{ name: 'c', cpuNanoCores: 5e6, memoryBytes: 2 ** 20 }],
  }, at);
  assert.deepEqual(pm.containers, [{ name: 'c', usage: { cpu: '5m', memory: '1Mi' } }]);
  assert.equal(pm.kind, 'PodMetrics');
  assert.equal(pm.metadata.namespace, 'ns');
});

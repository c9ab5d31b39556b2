import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { DEFAULT_CALCULATOR_OPTIONS, resourceReplicas, type PodMetricsInfo } from './replica-calculator.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A Running, Ready pod started long ago (past the cpu initialization period), 1 core requested. */
function pod(name: string, opts: { phase?: string; ready?: boolean; startedAgoMs?: number; readySinceAgoMs?: number; request?: string } = {}): Pod {
  const started = NOW - (opts.startedAgoMs ?? 3_600_000);
  return {
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: opts.request ?? '1' } } }] },
    status: {
      phase: opts.phase ?? 'Running', startTime: iso(started),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: iso(NOW - (opts.readySinceAgoMs ?? 3_000_000)) }],
    },
  };
}

const metrics = (values: Record<string, number>): PodMetricsInfo =>
  new Map(Object.entries(values).map(([n, v]) => [n, { value: v, timestamp: NOW - 1000, windowMs: 15_000 }]));

const calc = (currentReplicas: number, pods: Pod[], m: PodMetricsInfo, targetUtilization = 50) =>
  resourceReplicas({ currentReplicas, pods, metrics: m, resource: 'cpu', targetUtilization, opts: DEFAULT_CALCULATOR_OPTIONS, now: NOW });

test('scale up: ceil(current × usage / target)', () => {
  const p = calc(3, ['a', 'b', 'c'].map((n) => pod(n)), metrics({ a: 300, b: 500, c: 700 }), 30);
  assert.equal(p.replicas, 5);
  assert.equal(p.utilization, 50);
  assert.equal(p.rawAverage, 500);
});

test('scale down', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const p = calc(5, names.map((n) => pod(n)), metrics({ a: 100, b: 300, c: 500, d: 250, e: 250 }));
  assert.equal(p.utilization, 28);
  assert.equal(p.replicas, 3);
});

test('within the 10% tolerance nothing changes', () => {
  const p = calc(3, ['a', 'b', 'c'].map((n) => pod(n)), metrics({ a: 1010, b: 1030, c: 1020 }), 100);
  assert.equal(p.replicas, 3);
});

test('missing metrics: counted as 0 on a scale-up, as their whole request on a scale-down', () => {
  const four = ['a', 'b', 'c', 'd'].map((n) => pod(n));
  // 3 × 100% of 1 core against 50%: up; d counts 0 → 75% → ×1.5 of 4 pods.
  assert.equal(calc(4, four, metrics({ a: 1000, b: 1000, c: 1000 })).replicas, 6);
  // 3 × 10%: down; d counts 100% → 32% → 0.64 × 4.
  assert.equal(calc(4, four, metrics({ a: 100, b: 100, c: 100 })).replicas, 3);
});

test('unready pods: counted as 0 on a scale-up, ignored otherwise', () => {
  const pods = [pod('a'), pod('b'), pod('c', { phase: 'Pending' })];
  // a, b at 100% against 50%: up; c counts 0 → 66% → ratio 1.32 × 3 = 4.
  assert.equal(calc(3, pods, metrics({ a: 1000, b: 1000 })).replicas, 4);
  // a, b at 10%: down, c ignored → ceil(0.2 × 2) = 1.
  assert.equal(calc(3, pods, metrics({ a: 100, b: 100 })).replicas, 1);
});

test('cpu of a pod that just turned ready (less than a window ago) is not trusted', () => {
  const fresh = pod('c', { startedAgoMs: 10_000, readySinceAgoMs: 5000 });
  const p = calc(3, [pod('a'), pod('b'), fresh], metrics({ a: 1000, b: 1000, c: 5000 }));
  // c's burst is ignored and counted as 0: (1000+1000+0)/3000 → 66%.
  assert.equal(p.replicas, 4);
  assert.equal(p.utilization, 100);
});

test('deleted and failed pods are ignored; no metrics at all is an error', () => {
  const gone: Pod = { ...pod('b'), metadata: { ...pod('b').metadata, deletionTimestamp: iso(NOW) } };
  assert.equal(calc(2, [pod('a'), gone], metrics({ a: 1000, b: 0 })).replicas, 2);
  assert.throws(() => calc(2, [pod('a', { phase: 'Pending' })], metrics({})), /did not receive metrics/);
  assert.throws(() => calc(2, [], metrics({ a: 1 })), /no pods returned by selector/);
});

test('a container without a request is an error for a utilization target', () => {
  const p = pod('a');
  delete p.spec!.containers[0].resources;
  assert.throws(() => calc(1, [p], metrics({ a: 100 })), /missing request for cpu in container c of Pod a/);
});

test('AverageValue: against the target per pod, no requests needed', () => {
  const pods = ['a', 'b'].map((n) => pod(n));
  const p = resourceReplicas({ currentReplicas: 2, pods, metrics: metrics({ a: 400, b: 600 }), resource: 'cpu', targetAverageMilli: 250, opts: DEFAULT_CALCULATOR_OPTIONS, now: NOW });
  assert.equal(p.replicas, 4);
  assert.equal(p.rawAverage, 500);
  assert.equal(p.utilization, undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { defaultClusterCidr, nodeInternalIP, nodePodCidr, parseDuration, parseLabels, parseTaints, zoneName } from './node-spec.js';
import { desiredPhase, hollowPodStatus, statusMatches } from './pod-status.js';

test('zones, pod CIDRs and node addresses are deterministic by index', () => {
  assert.deepEqual([0, 1, 25, 26, 27].map(zoneName), ['zone-a', 'zone-b', 'zone-z', 'zone-aa', 'zone-ab']);
  assert.equal(nodePodCidr('10.42.0.0/16', 0), '10.42.0.0/24');
  assert.equal(nodePodCidr('10.42.0.0/16', 255), '10.42.255.0/24');
  assert.throws(() => nodePodCidr('10.42.0.0/16', 256), /room for 256/);
  assert.equal(defaultClusterCidr(255), '10.42.0.0/16');
  assert.equal(defaultClusterCidr(4999), '10.128.0.0/9');
  assert.equal(nodePodCidr('10.128.0.0/9', 4999), '10.147.135.0/24');
  assert.equal(nodeInternalIP(0), '10.99.0.1');
  assert.equal(nodeInternalIP(254), '10.99.1.1');
});

test('flag parsers', () => {
  assert.deepEqual(parseLabels('a=1, b=x=y'), { a: '1', b: 'x=y' });
  assert.throws(() => parseLabels('novalue'), /key=value/);
  assert.deepEqual(parseTaints('k=v:NoSchedule,gpu:NoExecute'), [{ key: 'k', value: 'v', effect: 'NoSchedule' }, { key: 'gpu', effect: 'NoExecute' }]);
  assert.throws(() => parseTaints('k=v:Sometimes'), /invalid taint/);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('soon'), undefined);
});

test('pod status: annotations steer ready, fail and completion', () => {
  const pod = (ann: Record<string, string>, restartPolicy = 'Always'): Pod => ({
    metadata: { name: 'p', namespace: 'd', uid: 'u1', annotations: ann },
    spec: { restartPolicy, containers: [{ name: 'c', image: 'img' }], initContainers: [{ name: 'i', image: 'init' }] },
  });
  assert.deepEqual(desiredPhase(pod({}), undefined), { phase: 'Running', ready: true });
  assert.deepEqual(desiredPhase(pod({ 'sim.bosun.io/ready': 'false' }), undefined), { phase: 'Running', ready: false });
  assert.equal(desiredPhase(pod({ 'sim.bosun.io/fail': 'true' }), undefined).phase, 'Failed');
  // complete-after only for pods that are not restarted
  assert.equal(desiredPhase(pod({ 'sim.bosun.io/complete-after': '1s' }), 0, 5000).phase, 'Running');
  assert.equal(desiredPhase(pod({ 'sim.bosun.io/complete-after': '1s' }, 'OnFailure'), 0, 5000).phase, 'Succeeded');
  assert.deepEqual(desiredPhase(pod({ 'sim.bosun.io/complete-after': '1s' }, 'Never'), 1000, 1500), { phase: 'Running', ready: true, completeAt: 2000 });

  const p = pod({});
  const s = hollowPodStatus(p, { phase: 'Running', ready: true }, { podIP: '10.42.0.2', hostIP: '10.99.0.1' });
  assert.equal(s.containerStatuses![0].containerID, 'hollow://u1/c');
  assert.equal(s.initContainerStatuses![0].state!.terminated!.reason, 'Completed');
  assert.ok(statusMatches({ ...p, status: s }, { phase: 'Running', ready: true }, '10.42.0.2'));
  assert.ok(!statusMatches({ ...p, status: s }, { phase: 'Running', ready: false }, '10.42.0.2'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScalingHistory, convertDesiredReplicasWithRules, defaultScaleUpRules, scaleDownLimit, scaleUpLimit } from './behavior.js';

test('without behavior: min/max and at most double (at least 4) a step', () => {
  assert.deepEqual(convertDesiredReplicasWithRules(2, 9, 1, 10).replicas, 4);
  assert.equal(convertDesiredReplicasWithRules(2, 9, 1, 10).reason, 'ScaleUpLimit');
  assert.equal(convertDesiredReplicasWithRules(8, 30, 1, 10).reason, 'TooManyReplicas');
  assert.equal(convertDesiredReplicasWithRules(8, 30, 1, 10).replicas, 10);
  assert.equal(convertDesiredReplicasWithRules(3, 1, 2, 10).reason, 'TooFewReplicas');
  assert.equal(convertDesiredReplicasWithRules(3, 5, 2, 10).reason, 'DesiredWithinRange');
});

test('default scale-up policies: max(+4 pods, +100%) per 15 s', () => {
  const now = 1_000_000;
  assert.equal(scaleUpLimit(1, [], [], defaultScaleUpRules(), now), 5);
  assert.equal(scaleUpLimit(10, [], [], defaultScaleUpRules(), now), 20);
  // 4 already added in this period: the period started at 6.
  assert.equal(scaleUpLimit(10, [{ change: 4, at: now - 5000 }], [], defaultScaleUpRules(), now), 12);
  assert.equal(scaleUpLimit(10, [], [], { ...defaultScaleUpRules(), selectPolicy: 'Min' }, now), 14);
  assert.equal(scaleUpLimit(10, [], [], { ...defaultScaleUpRules(), selectPolicy: 'Disabled' }, now), 10);
  assert.equal(scaleDownLimit(10, [], [], { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }] }, now), 5);
  assert.equal(scaleDownLimit(10, [], [], { selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }] }, now), 9);
});

test('scale-down waits for the stabilization window: the highest recent recommendation wins', () => {
  const h = new ScalingHistory(300_000);
  const behavior = { scaleDown: { stabilizationWindowSeconds: 60 } };
  const t0 = 1_000_000;
  assert.equal(h.normalize({ key: 'k', current: 5, desired: 5, min: 1, max: 10, behavior, now: t0 }).replicas, 5);
  const held = h.normalize({ key: 'k', current: 5, desired: 2, min: 1, max: 10, behavior, now: t0 + 30_000 });
  assert.equal(held.replicas, 5);
  assert.equal(held.ableToScale.reason, 'ScaleDownStabilized');
  // The 5 fell out of the window.
  const down = h.normalize({ key: 'k', current: 5, desired: 2, min: 1, max: 10, behavior, now: t0 + 61_000 });
  assert.equal(down.replicas, 2);
  assert.equal(down.ableToScale.reason, 'ReadyForNewScale');
  assert.equal(down.limited.status, false);
});

test('scale-up: no window by default, limited by the rate policies', () => {
  const h = new ScalingHistory(300_000);
  const behavior = { scaleUp: { policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }] } };
  const r = h.normalize({ key: 'k', current: 2, desired: 9, min: 1, max: 10, behavior, now: 1_000_000 });
  assert.equal(r.replicas, 4);
  assert.deepEqual(r.limited, { status: true, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
  h.recordScale('k', behavior, 2, 4, 1_000_000);
  // Within the same minute nothing more may be added.
  assert.equal(h.normalize({ key: 'k', current: 4, desired: 9, min: 1, max: 10, behavior, now: 1_010_000 }).replicas, 4);
  assert.equal(h.normalize({ key: 'k', current: 4, desired: 9, min: 1, max: 10, behavior, now: 1_061_000 }).replicas, 6);
});

test('without behavior the downscale stabilization flag holds scale-downs', () => {
  const h = new ScalingHistory(10_000);
  h.normalize({ key: 'k', current: 6, desired: 6, min: 1, max: 10, now: 0 });
  assert.equal(h.normalize({ key: 'k', current: 6, desired: 2, min: 1, max: 10, now: 5000 }).replicas, 6);
  assert.equal(h.normalize({ key: 'k', current: 6, desired: 2, min: 1, max: 10, now: 11_000 }).replicas, 2);
});

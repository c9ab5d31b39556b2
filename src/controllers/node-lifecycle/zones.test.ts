import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeCondition } from 'kubernetes-types/core/v1';
import { RateLimitedNodeQueue, TokenBucket, computeZoneState, zoneKeyOf, zoneLabel } from './zones.js';
import { matchingTolerations, minTolerationMs } from './taint-manager.js';

const ready = (status: string): NodeCondition => ({ type: 'Ready', status });

test('zone state: upstream ComputeZoneState thresholds', () => {
  const T = 0.55;
  assert.deepEqual(computeZoneState([ready('True'), ready('True')], T), { notReady: 0, state: 'Normal' });
  assert.deepEqual(computeZoneState([ready('Unknown'), undefined], T), { notReady: 2, state: 'FullDisruption' });
  // Two not-ready nodes are never a partial disruption, however small the zone.
  assert.equal(computeZoneState([ready('False'), ready('Unknown'), ready('True')], T).state, 'Normal');
  assert.equal(computeZoneState([ready('False'), ready('Unknown'), ready('Unknown'), ready('True')], T).state, 'PartialDisruption');
  assert.equal(computeZoneState([ready('False'), ready('Unknown'), ready('Unknown'), ready('True'), ready('True'), ready('True')], T).state, 'Normal');
});

test('zone key joins region and zone', () => {
  const key = zoneKeyOf({ metadata: { labels: { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'a' } } });
  assert.equal(zoneLabel(key), 'r1/a');
  assert.equal(zoneKeyOf({ metadata: {} }), '');
});

test('token bucket: burst 1, refills at qps, qps 0 refuses', () => {
  const b = new TokenBucket(2, 0);
  assert.equal(b.tryAccept(0), true);
  assert.equal(b.tryAccept(100), false);
  assert.equal(b.tryAccept(500), true);
  assert.equal(new TokenBucket(0, 0).tryAccept(10_000), false);
});

test('rate-limited node queue takes one node per token, unique, retries failures', async () => {
  const q = new RateLimitedNodeQueue(1);
  assert.equal(q.add('a'), true);
  assert.equal(q.add('a'), false);
  q.add('b');
  const seen: string[] = [];
  await q.try(async (n) => { seen.push(n); return false; }, Date.now());
  assert.deepEqual(seen, ['a']);
  assert.equal(q.length, 2);
  q.swapLimiter(0);
  await q.try(async (n) => { seen.push(n); return true; }, Date.now() + 60_000);
  assert.deepEqual(seen, ['a']);
});

test('tolerations: all taints must be tolerated; the shortest tolerationSeconds wins; none means forever', () => {
  const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
  assert.equal(matchingTolerations([unreachable], []), undefined);
  const used = matchingTolerations([unreachable], [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
    { operator: 'Exists', tolerationSeconds: 10 },
  ])!;
  assert.equal(minTolerationMs(used), 10_000);
  assert.equal(minTolerationMs(matchingTolerations([unreachable], [{ operator: 'Exists' }])!), -1);
  assert.equal(minTolerationMs([{ operator: 'Exists', tolerationSeconds: 0 }]), 0);
});

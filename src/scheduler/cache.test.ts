import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerCache } from './cache.js';
import { testNode, testPod } from './testing.js';

test('assume counts the pod at once; forget gives the room back', () => {
  const cache = new SchedulerCache();
  cache.addNode(testNode('n', { cpu: '2' }));
  const pod = testPod('p', { cpu: '1', nodeName: 'n' });
  cache.assumePod(pod, 'n');
  assert.equal(cache.nodeInfo('n')!.requested.milliCPU, 1000);
  assert.ok(cache.isAssumed(pod));
  cache.forgetPod(pod);
  assert.equal(cache.nodeInfo('n')!.requested.milliCPU, 0);
  assert.equal(cache.nodeInfo('n')!.pods.size, 0);
});

test('the informer confirms an assumed pod (even on another node); unconfirmed ones expire after the TTL', () => {
  let now = 0;
  const cache = new SchedulerCache(30_000, () => now);
  cache.addNode(testNode('a'));
  cache.addNode(testNode('b'));
  const p1 = testPod('p1', { cpu: '1', nodeName: 'a' });
  cache.assumePod(p1, 'a');
  cache.finishBinding(p1);
  cache.addPod({ ...p1, spec: { ...p1.spec!, nodeName: 'b' } });
  assert.equal(cache.nodeInfo('a')!.pods.size, 0);
  assert.equal(cache.nodeInfo('b')!.pods.size, 1);
  assert.ok(!cache.isAssumed(p1));

  const p2 = testPod('p2', { cpu: '1', nodeName: 'a' });
  cache.assumePod(p2, 'a');
  now = 60_000;
  assert.deepEqual(cache.cleanupExpiredAssumedPods(), [], 'no expiry while the binding is in flight');
  cache.finishBinding(p2);
  now += 30_001;
  assert.equal(cache.cleanupExpiredAssumedPods().length, 1);
  assert.equal(cache.nodeInfo('a')!.pods.size, 0);
});

test('pods seen before their node are kept and counted once the node arrives', () => {
  const cache = new SchedulerCache();
  cache.addPod(testPod('early', { cpu: '500m', nodeName: 'late' }));
  assert.equal(cache.nodeCount, 0);
  cache.addNode(testNode('late'));
  assert.equal(cache.nodeInfo('late')!.requested.milliCPU, 500);
  cache.removePod(testPod('early', { nodeName: 'late' }));
});

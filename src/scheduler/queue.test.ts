import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulingQueue } from './queue.js';
import { testPod } from './testing.js';

function clock() { let t = 1000; return { now: () => t, advance: (ms: number) => { t += ms; } }; }

test('activeQ pops higher priority first, then the older pod', async () => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(testPod('low'), 'low', 0); c.advance(1);
  q.add(testPod('high'), 'high', 100); c.advance(1);
  q.add(testPod('low2'), 'low2', 0);
  assert.deepEqual([(await q.pop())!.key, (await q.pop())!.key, (await q.pop())!.key], ['high', 'low', 'low2']);
});

test('back-off doubles from 1 s up to 10 s', async () => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(testPod('p'), 'p', 0);
  const info = (await q.pop())!;
  const durations = [];
  for (let i = 1; i <= 6; i++) { info.attempts = i; durations.push(q.backoffDuration(info)); }
  assert.deepEqual(durations, [1000, 2000, 4000, 8000, 10000, 10000]);
});

test('an unschedulable pod waits for an event, then backs off before it is active again', async () => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(testPod('p'), 'p', 0);
  const info = (await q.pop())!;
  q.addUnschedulable(info, ['NodeResourcesFit']);
  assert.deepEqual(q.lengths, { active: 0, backoff: 0, unschedulable: 1 });
  // A pod landing elsewhere does not help a pod short of resources.
  q.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
  assert.equal(q.lengths.unschedulable, 1);
  q.moveAllToActiveOrBackoffQueue('NodeAdd');
  assert.deepEqual(q.lengths, { active: 0, backoff: 1, unschedulable: 0 });
  q.flushBackoffQCompleted();
  assert.equal(q.lengths.backoff, 1);
  c.advance(1001);
  q.flushBackoffQCompleted();
  assert.deepEqual(q.lengths, { active: 1, backoff: 0, unschedulable: 0 });
});

test('an event during the scheduling attempt sends the pod to backoffQ rather than unschedulablePods', async () => {
  const q = new SchedulingQueue();
  q.add(testPod('p'), 'p', 0);
  const info = (await q.pop())!;
  q.moveAllToActiveOrBackoffQueue('NodeAdd');
  q.addUnschedulable(info, ['NodeResourcesFit']);
  assert.deepEqual(q.lengths, { active: 0, backoff: 1, unschedulable: 0 });
});

test('long-unschedulable pods are flushed; deleted pods leave every queue', async () => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now, maxInUnschedulableMs: 60_000 });
  q.add(testPod('p'), 'p', 0);
  q.addUnschedulable((await q.pop())!, []);
  c.advance(61_000);
  q.flushUnschedulablePodsLeftover();
  assert.deepEqual(q.lengths, { active: 1, backoff: 0, unschedulable: 0 });
  q.delete('p');
  assert.deepEqual(q.lengths, { active: 0, backoff: 0, unschedulable: 0 });
  const ac = new AbortController();
  const popped = q.pop(ac.signal);
  ac.abort();
  assert.equal(await popped, undefined);
});

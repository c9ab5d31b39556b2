import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { WorkQueue, exponential, maxOf, overall } from './work-queue.js';

test('an item added while queued is queued once', async () => {
  const q = new WorkQueue<string>();
  q.add('a'); q.add('b'); q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
});

test('an item added while being processed is processed again after done, not concurrently', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  const item = await q.get();
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0, 'not handed to another worker while processing');
  q.done(item!);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  assert.equal(q.len(), 0);
});

test('get waits for an add and shutDown wakes waiters with undefined', async () => {
  const q = new WorkQueue<string>();
  const waiting = q.get();
  setTimeout(() => q.add('x'), 10);
  assert.equal(await waiting, 'x');
  const w1 = q.get();
  const w2 = q.get();
  q.shutDown();
  assert.equal(await w1, undefined);
  assert.equal(await w2, undefined);
  q.add('y');
  assert.equal(q.len(), 0, 'adds after shutdown are ignored');
});

test('exponential back-off doubles per item from base to max and forget resets it', () => {
  const rl = exponential<string>(5, 1_000_000);
  assert.deepEqual([rl.when('a'), rl.when('a'), rl.when('a'), rl.when('b')], [5, 10, 20, 5]);
  assert.equal(rl.numRequeues('a'), 3);
  for (let i = 0; i < 100; i++) rl.when('a');
  assert.equal(rl.when('a'), 1_000_000);
  rl.forget('a');
  assert.equal(rl.when('a'), 5);
});

test('maxOf takes the longest delay; the overall bucket lets a burst through', () => {
  const rl = maxOf(exponential<string>(1, 1000), overall<string>(1, 2));
  assert.equal(rl.when('a'), 1);
  assert.equal(rl.when('b'), 1);
  assert.ok(rl.when('c') > 900, 'the third in a burst of 2 waits about a second');
});

test('addAfter delivers later; the earlier of two delays wins', async () => {
  const q = new WorkQueue<string>();
  q.addAfter('a', 400);
  q.addAfter('a', 20);
  q.addAfter('b', 0);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'b');
  const t0 = Date.now();
  assert.equal(await q.get(), 'a');
  const waited = Date.now() - t0;
  // Well before 400 ms: the 20 ms delay was the one that counted.
  assert.ok(waited >= 15 && waited < 300, `waited ${waited} ms`);
  await delay(450);
  assert.equal(q.len(), 0, 'the later add was folded into the earlier');
  q.shutDown();
});

test('addRateLimited backs off per item', async () => {
  const q = new WorkQueue<string>({ rateLimiter: exponential(20, 1000) });
  q.addRateLimited('a');
  q.addRateLimited('a'); // second failure: 40 ms, the pending 20 ms add wins
  assert.equal(q.numRequeues('a'), 2);
  const t0 = Date.now();
  assert.equal(await q.get(), 'a');
  assert.ok(Date.now() - t0 >= 15);
  q.forget('a');
  assert.equal(q.numRequeues('a'), 0);
  q.shutDown();
});

test('process retries a failing key with back-off, then forgets it on success', async () => {
  const errors: string[] = [];
  const q = new WorkQueue<string>({ rateLimiter: exponential(5, 1000), onError: (item, err) => errors.push(`${item}: ${(err as Error).message}`) });
  const calls: number[] = [];
  const ac = new AbortController();
  let attempts = 0;
  const done = q.process(2, (key) => {
    calls.push(Date.now());
    attempts++;
    if (attempts < 4) throw new Error(`fail ${attempts}`);
    assert.equal(key, 'k');
    ac.abort();
  }, ac.signal);
  q.add('k');
  await done;
  assert.equal(attempts, 4);
  assert.deepEqual(errors, ['k: fail 1', 'k: fail 2', 'k: fail 3']);
  // 5 + 10 + 20 ms of back-off between the four attempts.
  assert.ok(calls[3] - calls[0] >= 30, `took ${calls[3] - calls[0]} ms`);
  assert.equal(q.numRequeues('k'), 0);
});

test('process never runs one key on two workers at once and coalesces adds during processing', async () => {
  const q = new WorkQueue<string>();
  const ac = new AbortController();
  let running = 0;
  let maxRunning = 0;
  const seen: string[] = [];
  const done = q.process(4, async (key) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    seen.push(key);
    await delay(30);
    running--;
  }, ac.signal);
  q.add('a');
  await delay(5);
  for (let i = 0; i < 10; i++) q.add('a'); // while 'a' is processing
  await delay(100);
  assert.equal(maxRunning, 1);
  assert.deepEqual(seen, ['a', 'a'], 'processed once more after done, not ten times');
  ac.abort();
  await done;
});

test('process spreads distinct keys over workers and stops on abort after the current items', async () => {
  const q = new WorkQueue<number>();
  const ac = new AbortController();
  let running = 0;
  let maxRunning = 0;
  let finished = 0;
  const done = q.process(3, async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await delay(40);
    running--;
    finished++;
  }, ac.signal);
  for (let i = 1; i <= 9; i++) q.add(i);
  await delay(10);
  ac.abort();
  await done;
  assert.equal(maxRunning, 3);
  assert.equal(finished, 3, 'in-flight items finish; queued ones are dropped');
  assert.ok(q.shuttingDown);
});

test('the function gets a signal that aborts with the queue', async () => {
  const q = new WorkQueue<string>();
  const ac = new AbortController();
  let aborted = false;
  const done = q.process(1, async (_key, signal) => {
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => { aborted = true; resolve(); }));
  }, ac.signal);
  q.add('a');
  await delay(10);
  ac.abort();
  await done;
  assert.ok(aborted);
});

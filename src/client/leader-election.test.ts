import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { ApiError } from './errors.js';
import { LeaderElector, microTime, type LeaderElectionConfig, type LeaseLock } from './leader-election.js';

/** A Lease in memory with the API's compare-and-swap, and a switch to make one candidate's calls fail or hang. */
class MemoryLease {
  lease?: Lease;
  rv = 0;
  writes: Lease[] = [];

  lockFor(mode: { value: 'ok' | 'fail' | 'hang' } = { value: 'ok' }): LeaseLock {
    const gate = async (signal: AbortSignal) => {
      await delay(1);
      if (mode.value === 'fail') throw new Error('connection refused');
      if (mode.value === 'hang') {
        await new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
    };
    const conflict = () => new ApiError({ code: 409, reason: 'Conflict', message: 'the object has been modified' });
    return {
      namespace: 'kube-system', name: 'test',
      get: async (signal) => { await gate(signal); return this.lease && structuredClone(this.lease); },
      create: async (lease, signal) => {
        await gate(signal);
        if (this.lease) throw new ApiError({ code: 409, reason: 'AlreadyExists', message: 'exists' });
        return this.store(lease);
      },
      update: async (lease, signal) => {
        await gate(signal);
        if (!this.lease || lease.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) throw conflict();
        return this.store(lease);
      },
    };
  }

  private store(lease: Lease): Lease {
    this.lease = structuredClone({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } });
    this.writes.push(structuredClone(this.lease));
    return structuredClone(this.lease);
  }

  get holder(): string | undefined { return this.lease?.spec?.holderIdentity; }
}

const FAST = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 100 };

interface Candidate { elector: LeaderElector; stop: AbortController; done: Promise<void>; started: number[]; stopped: number[]; leadingSignal?: AbortSignal }

function candidate(lock: LeaseLock, identity: string, extra: Partial<LeaderElectionConfig> = {}): Candidate {
  const c: Candidate = { stop: new AbortController(), started: [], stopped: [], elector: undefined as unknown as LeaderElector, done: Promise.resolve() };
  c.elector = new LeaderElector({
    lock, identity, ...FAST, log: () => {},
    onStartedLeading: (signal) => { c.started.push(performance.now()); c.leadingSignal = signal; },
    onStoppedLeading: () => { c.stopped.push(performance.now()); },
    ...extra,
  });
  c.done = c.elector.run(c.stop.signal);
  return c;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
  return performance.now() - t0;
}

test('microTime has six fractional digits, as metav1.MicroTime', () => {
  assert.equal(microTime(Date.UTC(2006, 0, 2, 15, 4, 5, 123)), '2006-01-02T15:04:05.123000Z');
});

test('config is checked as client-go checks it', () => {
  const lock = new MemoryLease().lockFor();
  const base = { lock, onStartedLeading: () => {} };
  assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 1000, renewDeadlineMs: 1000 }), /leaseDuration/);
  assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 1000, renewDeadlineMs: 500, retryPeriodMs: 500 }), /renewDeadline/);
  const e = new LeaderElector(base);
  assert.match(e.identity, /_[0-9a-f-]{36}$/);
});

test('one of two candidates leads; a graceful stop releases the lease and the other takes over fast', async () => {
  const mem = new MemoryLease();
  const a = candidate(mem.lockFor(), 'a');
  await until(() => a.elector.isLeader(), 2000, 'a to lead');
  const b = candidate(mem.lockFor(), 'b');
  await delay(FAST.leaseDurationMs * 2);
  assert.equal(mem.holder, 'a');
  assert.equal(b.started.length, 0, 'b never leads while a renews');
  assert.ok(mem.writes.length >= 8, 'a renews every retryPeriod');
  const spec = mem.lease!.spec!;
  assert.equal(spec.leaseDurationSeconds, 1);
  assert.equal(spec.leaseTransitions, 0);
  assert.match(spec.renewTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.notEqual(spec.renewTime, spec.acquireTime);

  const stoppedAt = performance.now();
  a.stop.abort();
  await a.done;
  assert.ok(a.leadingSignal!.aborted, 'a stopped acting');
  assert.equal(a.stopped.length, 1);
  assert.equal(mem.writes.at(-1)!.spec!.holderIdentity, '', 'released');
  await until(() => b.elector.isLeader(), 2000, 'b to lead');
  const takeover = performance.now() - stoppedAt;
  assert.ok(takeover < FAST.leaseDurationMs, `took over in ${takeover.toFixed(0)} ms, before the lease would have expired`);
  assert.equal(mem.holder, 'b');
  assert.equal(mem.lease!.spec!.leaseTransitions, 1);
  b.stop.abort();
  await b.done;
});

test('without a release the other candidate waits the lease out, then takes it', async () => {
  const mem = new MemoryLease();
  const aMode = { value: 'ok' as 'ok' | 'fail' | 'hang' };
  const a = candidate(mem.lockFor(aMode), 'a');
  await until(() => a.elector.isLeader(), 2000, 'a to lead');
  const b = candidate(mem.lockFor(), 'b');
  await delay(200);
  aMode.value = 'fail'; // a is cut off from the API server
  const lastWrite = performance.now();
  const waited = await until(() => b.elector.isLeader(), 3000, 'b to lead');
  assert.ok(a.leadingSignal!.aborted, 'a stopped acting before b started');
  assert.ok(a.stopped[0] < b.started[0]);
  assert.ok(waited >= FAST.leaseDurationMs - 110, `b waited only ${waited.toFixed(0)} ms`);
  assert.ok(performance.now() - lastWrite < FAST.leaseDurationMs + 2.2 * FAST.retryPeriodMs + 300);
  a.stop.abort(); b.stop.abort();
  await Promise.all([a.done, b.done]);
});

test('a leader whose renewals hang stops acting within renewDeadline', async () => {
  const mem = new MemoryLease();
  const mode = { value: 'ok' as 'ok' | 'fail' | 'hang' };
  const a = candidate(mem.lockFor(mode), 'a');
  await until(() => a.elector.isLeader(), 2000, 'a to lead');
  await delay(250);
  const lastRenewal = performance.now();
  mode.value = 'hang';
  await until(() => a.leadingSignal!.aborted, 2000, 'a to stop');
  const took = performance.now() - lastRenewal;
  assert.ok(took <= FAST.renewDeadlineMs + 150, `stopped ${took.toFixed(0)} ms after its last renewal`);
  assert.equal(a.elector.isLeader(), false);
  await a.done; // the term is over without any stop request
  assert.equal(a.stopped.length, 1);
});

test('a leader that finds the lease taken stops at once', async () => {
  const mem = new MemoryLease();
  const a = candidate(mem.lockFor(), 'a');
  await until(() => a.elector.isLeader(), 2000, 'a to lead');
  // Someone else overwrote the record (e.g. an operator, or a partition healed late).
  mem.lease = { ...mem.lease!, metadata: { ...mem.lease!.metadata, resourceVersion: String(++mem.rv) }, spec: { ...mem.lease!.spec, holderIdentity: 'intruder' } };
  const took = await until(() => a.leadingSignal!.aborted, 2000, 'a to stop');
  assert.ok(took < FAST.retryPeriodMs * 3, `took ${took.toFixed(0)} ms`);
  await a.done;
});

test('expiry is judged by the local clock, not by the timestamps in the lease', async () => {
  const mem = new MemoryLease();
  // a's wall clock is an hour behind: its renewTimes look long expired to anyone comparing clocks.
  const a = candidate(mem.lockFor(), 'a', { wallClock: () => Date.now() - 3_600_000 });
  await until(() => a.elector.isLeader(), 2000, 'a to lead');
  const b = candidate(mem.lockFor(), 'b');
  await delay(FAST.leaseDurationMs * 3);
  assert.equal(b.started.length, 0);
  assert.equal(mem.holder, 'a');
  a.stop.abort(); b.stop.abort();
  await Promise.all([a.done, b.done]);
});

test('racing candidates never lead at the same time', async () => {
  const mem = new MemoryLease();
  const leaders = new Set<string>();
  let overlap = 0;
  const cs = ['a', 'b', 'c'].map((id) => candidate(mem.lockFor(), id, {
    onStartedLeading: (signal) => {
      leaders.add(id);
      if (leaders.size > 1) overlap++;
      signal.addEventListener('abort', () => leaders.delete(id));
    },
  }));
  await until(() => leaders.size === 1, 2000, 'a leader');
  const first = [...leaders][0];
  const c = cs.find((x) => x.elector.identity === first)!;
  c.stop.abort();
  await c.done;
  await until(() => leaders.size === 1, 2000, 'a second leader');
  assert.notEqual([...leaders][0], first);
  for (const x of cs) x.stop.abort();
  await Promise.all(cs.map((x) => x.done));
  assert.equal(overlap, 0);
  const observed = new Set(cs.flatMap((x) => [x.elector.getLeader()]));
  assert.ok(observed.size >= 1);
});

test('onNewLeader reports holders as they change; campaign stands again after a lost term', async () => {
  const mem = new MemoryLease();
  const mode = { value: 'ok' as 'ok' | 'fail' | 'hang' };
  const seen: string[] = [];
  let terms = 0;
  const stop = new AbortController();
  const a = new LeaderElector({
    lock: mem.lockFor(mode), identity: 'a', ...FAST, log: () => {},
    onStartedLeading: () => { terms++; },
    onNewLeader: (id) => seen.push(id),
  });
  const done = a.campaign(stop.signal);
  await until(() => terms === 1, 2000, 'first term');
  mode.value = 'fail';
  await until(() => !a.isLeader(), 2000, 'term lost');
  mode.value = 'ok';
  await until(() => terms === 2, 3000, 'second term');
  stop.abort();
  await done;
  assert.deepEqual(seen, ['a']);
  assert.equal(mem.holder, '');
});

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1';
import type { Client } from './client.js';
import { isNotFound } from './errors.js';
import { leases } from './resources.js';

/** The object leadership is recorded in: a `coordination.k8s.io/v1` Lease. */
export interface LeaseLock {
  /** undefined when the lease does not exist yet. */
  get(signal: AbortSignal): Promise<Lease | undefined>;
  create(lease: Lease, signal: AbortSignal): Promise<Lease>;
  /** A compare-and-swap on `metadata.resourceVersion`: throws (409) if someone wrote first. */
  update(lease: Lease, signal: AbortSignal): Promise<Lease>;
  readonly namespace: string;
  readonly name: string;
}

export function leaseLock(client: Client, namespace: string, name: string): LeaseLock {
  return {
    namespace, name,
    get: (signal) => client.get(leases, namespace, name, { signal }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    }),
    create: (lease, signal) => client.create(leases, lease, { signal }),
    update: (lease, signal) => client.update(leases, lease, { signal }),
  };
}

export interface LeaderElectionConfig {
  lock: LeaseLock;
  /** Unique per candidate; default `<hostname>_<uuid>`, as upstream components use. */
  identity?: string;
  /** How long non-leaders wait, after they last saw the lease change, before taking it. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it stops leading. Default 10 s. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  /** Clear the holder on a graceful stop, so another candidate takes over at once. Default true. */
  releaseOnCancel?: boolean;
  /**
   * Runs while this candidate leads. `signal` aborts the moment leadership is
   * lost or the elector stops: all work must stop with it. A returned promise
   * is awaited (up to renewDeadline) before the lease is released.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  onStoppedLeading?: () => void;
  /** Whenever a different holder is observed (this candidate included). */
  onNewLeader?: (identity: string) => void;
  /** Wall clock for the timestamps written into the lease; never used to judge expiry. */
  wallClock?: () => number;
  log?: (message: string) => void;
}

/** client-go's `JitterFactor`: acquire attempts are spread over retryPeriod·[1, 2.2). */
const JITTER_FACTOR = 1.2;

/** metav1.MicroTime's wire format: `2006-01-02T15:04:05.000000Z`. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  if (signal.aborted) { resolve(); return; }
  const timer = setTimeout(done, ms);
  signal.addEventListener('abort', done, { once: true });
  function done() { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
});

/** What decides whether a lease changed: the holder's record, not the object's metadata. */
const recordOf = (spec: LeaseSpec | undefined): string => JSON.stringify([
  spec?.holderIdentity ?? '', spec?.leaseDurationSeconds ?? 0, spec?.acquireTime ?? '', spec?.renewTime ?? '', spec?.leaseTransitions ?? 0,
]);

/**
 * Leader election on a Lease, as client-go's `leaderelection`: a candidate
 * takes the lease only after it has seen the lease unchanged for
 * leaseDuration by its own monotonic clock (clocks of different machines are
 * never compared), renews it every retryPeriod, and stops leading at once if
 * it could not renew for renewDeadline. Writes are compare-and-swap on
 * resourceVersion, so of two candidates racing, one wins and one gets 409.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly wallClock: () => number;
  private readonly log: (message: string) => void;
  private observed?: Lease;
  private observedRecord = '';
  /** Monotonic time at which `observedRecord` was last seen to change. */
  private observedAt = 0;
  private reportedLeader = '';
  private term?: AbortController;

  constructor(private readonly config: LeaderElectionConfig) {
    this.identity = config.identity ?? `${hostname()}_${randomUUID()}`;
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new RangeError('leaseDuration must be greater than renewDeadline');
    if (!(this.renewDeadlineMs > JITTER_FACTOR * this.retryPeriodMs)) throw new RangeError(`renewDeadline must be greater than retryPeriod*${JITTER_FACTOR}`);
    if (!(this.retryPeriodMs > 0)) throw new RangeError('retryPeriod must be greater than zero');
    if (!this.identity) throw new RangeError('identity must not be empty');
    this.wallClock = config.wallClock ?? Date.now;
    this.log = config.log ?? ((m) => console.error(`leader election ${config.lock.namespace}/${config.lock.name}: ${m}`));
  }

  /** True while this candidate holds the lease and its `onStartedLeading` signal is live. */
  isLeader(): boolean { return this.term !== undefined && !this.term.signal.aborted; }

  /** The holder last observed, if any. */
  getLeader(): string | undefined { return this.observed?.spec?.holderIdentity || undefined; }

  /**
   * One term: waits to acquire, leads until leadership is lost or `signal`
   * aborts, then returns (having released the lease on a graceful stop).
   */
  async run(signal: AbortSignal): Promise<void> {
    const acquiredAt = await this.acquire(signal);
    if (acquiredAt === undefined) return;
    const term = new AbortController();
    this.term = term;
    const work = Promise.resolve()
      .then(() => this.config.onStartedLeading(term.signal))
      .catch((err: unknown) => this.log(`onStartedLeading failed: ${err instanceof Error ? err.message : String(err)}`));
    try {
      await this.renewUntilLost(signal, term, acquiredAt);
    } finally {
      if (!term.signal.aborted) term.abort(signal.reason);
      try { this.config.onStoppedLeading?.(); } catch (err) { this.log(`onStoppedLeading failed: ${String(err)}`); }
    }
    // The lease stays ours until the work has stopped, so no one else acts meanwhile.
    await Promise.race([work, new Promise((r) => setTimeout(r, this.renewDeadlineMs).unref())]);
    if (signal.aborted && (this.config.releaseOnCancel ?? true)) await this.release();
  }

  /** Terms one after another until `signal` aborts: a candidate that lost the lease stands again. */
  async campaign(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.run(signal);
      if (!signal.aborted) await sleep(this.retryPeriodMs, signal);
    }
  }

  /** Resolves with the monotonic time of the winning attempt's start, or undefined if stopped first. */
  private async acquire(signal: AbortSignal): Promise<number | undefined> {
    while (!signal.aborted) {
      const start = performance.now();
      const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.renewDeadlineMs)]);
      if (await this.tryAcquireOrRenew(attempt, false).catch((err: unknown) => this.failed('acquire', err, signal))) return start;
      await sleep(this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR), signal);
    }
    return undefined;
  }

  /**
   * Renews every retryPeriod. A timer set renewDeadline after the start of
   * the last successful renewal ends the term even while a request hangs.
   */
  private async renewUntilLost(signal: AbortSignal, term: AbortController, acquiredAt: number): Promise<void> {
    let deadline: NodeJS.Timeout | undefined;
    const arm = (since: number) => {
      clearTimeout(deadline);
      deadline = setTimeout(() => {
        this.log(`failed to renew lease within ${this.renewDeadlineMs} ms: stopping leading`);
        term.abort(new Error('leader election lost'));
      }, Math.max(0, since + this.renewDeadlineMs - performance.now()));
    };
    arm(acquiredAt);
    const either = AbortSignal.any([signal, term.signal]);
    try {
      while (!either.aborted) {
        await sleep(this.retryPeriodMs, either);
        if (either.aborted) break;
        const start = performance.now();
        const ok = await this.tryAcquireOrRenew(either, true).catch((err: unknown) => this.failed('renew', err, either));
        if (either.aborted) break;
        if (ok) { arm(start); continue; }
        const holder = this.observed?.spec?.holderIdentity;
        if (holder && holder !== this.identity) {
          this.log(`lease taken by ${holder}: stopping leading`);
          term.abort(new Error('leader election lost'));
        }
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  private failed(what: string, err: unknown, signal: AbortSignal): false {
    if (!signal.aborted) this.log(`failed to ${what} lease: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }

  private desiredSpec(current: LeaseSpec | undefined, now: string): LeaseSpec {
    const held = current?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.leaseDurationMs / 1000)),
      acquireTime: held ? current?.acquireTime ?? now : now,
      renewTime: now,
      leaseTransitions: held ? current?.leaseTransitions ?? 0 : (current?.leaseTransitions ?? -1) + 1,
    };
  }

  private observe(lease: Lease, at: number): void {
    const record = recordOf(lease.spec);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = at;
    }
    this.observed = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      try { this.config.onNewLeader?.(holder); } catch (err) { this.log(`onNewLeader failed: ${String(err)}`); }
    }
  }

  /** One attempt; true if this candidate holds the lease afterwards. */
  private async tryAcquireOrRenew(signal: AbortSignal, renewing: boolean): Promise<boolean> {
    const { lock } = this.config;
    const at = performance.now();
    const now = microTime(this.wallClock());

    // Fast path: the leader renews from the lease it last wrote, one request a period.
    if (renewing && this.observed?.spec?.holderIdentity === this.identity) {
      try {
        this.observe(await lock.update({ ...this.observed, spec: this.desiredSpec(this.observed.spec, now) }, signal), at);
        return true;
      } catch (err) {
        if (signal.aborted) throw err;
      }
    }

    const current = await lock.get(signal);
    if (!current) {
      const created = await lock.create({
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { namespace: lock.namespace, name: lock.name },
        spec: this.desiredSpec(undefined, now),
      }, signal).catch((err: unknown) => { if (signal.aborted) throw err; return undefined; });
      if (!created) return false;
      this.observe(created, at);
      return true;
    }
    this.observe(current, at);
    const holder = current.spec?.holderIdentity;
    if (holder && holder !== this.identity && this.observedAt + this.leaseDurationMs > at) return false;
    // A 409 means another candidate wrote first: try again next period.
    const updated = await lock.update({ ...current, spec: this.desiredSpec(current.spec, now) }, signal)
      .catch((err: unknown) => { if (signal.aborted) throw err; return undefined; });
    if (!updated) return false;
    this.observe(updated, at);
    return true;
  }

  /** Clears the holder (as client-go's ReleaseOnCancel) so the next candidate need not wait out the lease. */
  private async release(): Promise<void> {
    const lease = this.observed;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    const now = microTime(this.wallClock());
    try {
      const released = await this.config.lock.update({
        ...lease,
        spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
      }, AbortSignal.timeout(this.renewDeadlineMs));
      this.observe(released, performance.now());
    } catch (err) {
      this.log(`failed to release lease: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * The scheduling queue (upstream's PriorityQueue): activeQ, a heap of pods
 * ready to try, highest priority then oldest first; backoffQ, pods that
 * failed and wait out 1 s doubling to 10 s; and unschedulablePods, which
 * wait for a cluster event that could make them fit (or a periodic flush).
 */
import type { Pod } from 'kubernetes-types/core/v1';

export const DEFAULT_POD_INITIAL_BACKOFF_MS = 1_000;
export const DEFAULT_POD_MAX_BACKOFF_MS = 10_000;
export const DEFAULT_POD_MAX_IN_UNSCHEDULABLE_MS = 60_000;

export interface QueuedPodInfo {
  pod: Pod;
  key: string;
  priority: number;
  /** When it last entered the queue; the tie-breaker in activeQ. */
  timestamp: number;
  initialAttemptTimestamp?: number;
  attempts: number;
  /** Plugins that rejected it last time: which events may help it. */
  unschedulablePlugins: Set<string>;
  /** The cycle it was popped in, for events that happen while it is being scheduled. */
  cycle: number;
}

class Heap<T> {
  private readonly items: T[] = [];
  private readonly index = new Map<T, number>();
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get size(): number { return this.items.length; }
  peek(): T | undefined { return this.items[0]; }
  push(x: T): void { this.items.push(x); this.index.set(x, this.items.length - 1); this.up(this.items.length - 1); }
  pop(): T | undefined {
    if (!this.items.length) return undefined;
    const top = this.items[0];
    this.removeAt(0);
    return top;
  }
  remove(x: T): boolean {
    const i = this.index.get(x);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }
  values(): readonly T[] { return this.items; }
  private removeAt(i: number): void {
    const last = this.items.pop()!;
    this.index.delete(this.items.length === i ? last : this.items[i]);
    if (i < this.items.length) {
      this.items[i] = last;
      this.index.set(last, i);
      this.down(i);
      this.up(i);
    }
  }
  private swap(i: number, j: number): void {
    const a = this.items[i], b = this.items[j];
    this.items[i] = b; this.items[j] = a;
    this.index.set(b, i); this.index.set(a, j);
  }
  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.items[i], this.items[p])) break;
      this.swap(i, p); i = p;
    }
  }
  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.less(this.items[l], this.items[m])) m = l;
      if (r < n && this.less(this.items[r], this.items[m])) m = r;
      if (m === i) break;
      this.swap(i, m); i = m;
    }
  }
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxInUnschedulableMs?: number;
  now?: () => number;
}

/** What can happen in the cluster; a pod rejected by a plugin comes back only on an event that plugin cares about. */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'AssignedPodAdd' | 'AssignedPodUpdate' | 'AssignedPodDelete' | 'ForceActivate';

const PLUGINS_BY_EVENT: Partial<Record<ClusterEvent, Set<string>>> = {
  // A pod landing somewhere only helps pods waiting on other pods.
  AssignedPodAdd: new Set(['InterPodAffinity', 'PodTopologySpread']),
  AssignedPodUpdate: new Set(['InterPodAffinity', 'PodTopologySpread', 'NodeResourcesFit']),
};

export class SchedulingQueue {
  private readonly activeQ = new Heap<QueuedPodInfo>((a, b) => a.priority > b.priority || (a.priority === b.priority && a.timestamp < b.timestamp));
  private readonly backoffQ = new Heap<QueuedPodInfo>((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  /** Every queued pod by key, whichever sub-queue holds it. */
  private readonly where = new Map<string, { info: QueuedPodInfo; q: 'active' | 'backoff' | 'unschedulable' }>();
  /** Pods popped and not yet done (being scheduled or bound). */
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  private waiters: Array<() => void> = [];
  private schedulingCycle = 0;
  private moveRequestCycle = -1;
  private closed = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  private readonly now: () => number;
  onChange?: () => void;

  constructor(opts: QueueOptions = {}) {
    this.initialBackoffMs = opts.initialBackoffMs ?? DEFAULT_POD_INITIAL_BACKOFF_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? DEFAULT_POD_MAX_BACKOFF_MS;
    this.maxInUnschedulableMs = opts.maxInUnschedulableMs ?? DEFAULT_POD_MAX_IN_UNSCHEDULABLE_MS;
    this.now = opts.now ?? Date.now;
  }

  get lengths(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size };
  }

  /** The back-off a pod waits after its attempts so far: 1 s, 2 s, 4 s, … capped. */
  backoffDuration(info: QueuedPodInfo): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < info.attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoffMs) return this.maxBackoffMs;
    }
    return Math.min(d, this.maxBackoffMs);
  }
  private backoffExpiry(info: QueuedPodInfo): number { return info.timestamp + this.backoffDuration(info); }
  private isBackingOff(info: QueuedPodInfo): boolean { return info.attempts > 0 && this.backoffExpiry(info) > this.now(); }

  private push(info: QueuedPodInfo, q: 'active' | 'backoff' | 'unschedulable'): void {
    this.where.set(info.key, { info, q });
    if (q === 'active') { this.activeQ.push(info); this.wake(); }
    else if (q === 'backoff') this.backoffQ.push(info);
    else this.unschedulable.set(info.key, info);
    this.onChange?.();
  }
  private take(key: string): QueuedPodInfo | undefined {
    const w = this.where.get(key);
    if (!w) return undefined;
    this.where.delete(key);
    if (w.q === 'active') this.activeQ.remove(w.info);
    else if (w.q === 'backoff') this.backoffQ.remove(w.info);
    else this.unschedulable.delete(key);
    return w.info;
  }
  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  has(key: string): boolean { return this.where.has(key) || this.inFlight.has(key); }

  /** A new pending pod. */
  add(pod: Pod, key: string, priority: number): void {
    if (this.where.has(key) || this.inFlight.has(key)) { this.update(pod, key, priority); return; }
    this.push({ pod, key, priority, timestamp: this.now(), attempts: 0, unschedulablePlugins: new Set(), cycle: 0 }, 'active');
  }

  /** The pod changed: keep the newest object; an unschedulable pod gets another try, as its change may make it fit. */
  update(pod: Pod, key: string, priority: number): void {
    const flying = this.inFlight.get(key);
    if (flying) { flying.pod = pod; flying.priority = priority; return; }
    const w = this.where.get(key);
    if (!w) { this.add(pod, key, priority); return; }
    if (w.q === 'unschedulable') {
      const info = this.take(key)!;
      info.pod = pod; info.priority = priority;
      this.push(info, this.isBackingOff(info) ? 'backoff' : 'active');
      return;
    }
    if (w.q === 'active') { this.activeQ.remove(w.info); w.info.pod = pod; w.info.priority = priority; this.activeQ.push(w.info); return; }
    w.info.pod = pod; w.info.priority = priority;
  }

  delete(key: string): void { this.take(key); this.inFlight.delete(key); this.onChange?.(); }

  /** The next pod to schedule, waiting for one; undefined once closed or aborted. */
  async pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      const info = this.activeQ.pop();
      if (info) {
        this.where.delete(info.key);
        info.attempts++;
        info.initialAttemptTimestamp ??= this.now();
        info.cycle = ++this.schedulingCycle;
        this.inFlight.set(info.key, info);
        this.onChange?.();
        return info;
      }
      await new Promise<void>((resolve) => {
        const done = () => { signal?.removeEventListener('abort', done); resolve(); };
        this.waiters.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** The popped pod is finished with (bound, or handed back through `addUnschedulable`). */
  done(key: string): void { this.inFlight.delete(key); }

  /**
   * A popped pod that did not fit: it waits in unschedulablePods for an event,
   * unless one already came while it was being scheduled — then it only backs off.
   */
  addUnschedulable(info: QueuedPodInfo, unschedulablePlugins: Iterable<string> = []): void {
    if (this.inFlight.get(info.key) !== info) return; // deleted (or replaced) meanwhile
    this.inFlight.delete(info.key);
    info.timestamp = this.now();
    info.unschedulablePlugins = new Set(unschedulablePlugins);
    this.push(info, this.moveRequestCycle >= info.cycle ? 'backoff' : 'unschedulable');
  }

  /** A popped pod that failed for an internal reason (bind error…): back off and try again. */
  addBackoff(info: QueuedPodInfo): void {
    if (this.inFlight.get(info.key) !== info) return;
    this.inFlight.delete(info.key);
    info.timestamp = this.now();
    this.push(info, 'backoff');
  }

  /** A cluster event that may make unschedulable pods fit: back to activeQ (or backoffQ while backing off). */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent): void {
    const interested = PLUGINS_BY_EVENT[event];
    for (const info of [...this.unschedulable.values()]) {
      if (interested && info.unschedulablePlugins.size && ![...info.unschedulablePlugins].some((p) => interested.has(p))) continue;
      this.take(info.key);
      this.push(info, this.isBackingOff(info) ? 'backoff' : 'active');
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  /** Moves pods whose back-off is over to activeQ (upstream runs this every second). */
  flushBackoffQCompleted(): void {
    const now = this.now();
    for (;;) {
      const top = this.backoffQ.peek();
      if (!top || this.backoffExpiry(top) > now) return;
      this.take(top.key);
      this.push(top, 'active');
    }
  }

  /** Pods unschedulable for longer than the limit get another try anyway (upstream every 30 s). */
  flushUnschedulablePodsLeftover(): void {
    const now = this.now();
    for (const info of [...this.unschedulable.values()]) {
      if (now - info.timestamp > this.maxInUnschedulableMs) {
        this.take(info.key);
        this.push(info, this.isBackingOff(info) ? 'backoff' : 'active');
      }
    }
  }

  /** Pending pods, queued or in flight, nominated to a node (for preemption's bookkeeping). */
  pendingPods(): QueuedPodInfo[] { return [...[...this.where.values()].map((w) => w.info), ...this.inFlight.values()]; }

  close(): void { this.closed = true; this.wake(); }
}

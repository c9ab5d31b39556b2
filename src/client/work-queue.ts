import { TokenBucket } from './rate-limiter.js';

/** How long to wait before an item is retried, per item, as client-go's `workqueue.RateLimiter`. */
export interface ItemRateLimiter<T> {
  /** The delay for this retry of `item`; counts it as a failure. */
  when(item: T): number;
  /** The item succeeded: its back-off starts over. */
  forget(item: T): void;
  numRequeues(item: T): number;
}

/** base·2^failures, capped: client-go's `ItemExponentialFailureRateLimiter` (5 ms … 1000 s in controllers). */
export function exponential<T>(baseMs = 5, maxMs = 1_000_000): ItemRateLimiter<T> {
  const failures = new Map<T, number>();
  return {
    when(item) {
      const n = failures.get(item) ?? 0;
      failures.set(item, n + 1);
      // 2^n overflows long before n reaches 1024; the cap applies well before.
      return n > 60 ? maxMs : Math.min(maxMs, baseMs * 2 ** n);
    },
    forget(item) { failures.delete(item); },
    numRequeues(item) { return failures.get(item) ?? 0; },
  };
}

/** One token bucket over all items: caps the total retry rate (client-go's `BucketRateLimiter`). */
export function overall<T>(qps = 10, burst = 100): ItemRateLimiter<T> {
  const bucket = new TokenBucket(qps, burst);
  return { when: () => bucket.reserve(), forget: () => {}, numRequeues: () => 0 };
}

/** The longest delay of several limiters (client-go's `MaxOfRateLimiter`). */
export function maxOf<T>(...limiters: ItemRateLimiter<T>[]): ItemRateLimiter<T> {
  return {
    when: (item) => Math.max(...limiters.map((l) => l.when(item))),
    forget: (item) => { for (const l of limiters) l.forget(item); },
    numRequeues: (item) => Math.max(...limiters.map((l) => l.numRequeues(item))),
  };
}

/** client-go's `DefaultControllerRateLimiter`: per-item 5 ms doubling to 1000 s, at most 10 retries/s overall (burst 100). */
export const defaultControllerRateLimiter = <T>(): ItemRateLimiter<T> => maxOf(exponential<T>(5, 1_000_000), overall<T>(10, 100));

export interface WorkQueueOptions<T> {
  rateLimiter?: ItemRateLimiter<T>;
  /** Names the queue in error reports. */
  name?: string;
  /** Called when `process`'s function throws; the item is then re-queued with back-off. */
  onError?: (item: T, err: unknown) => void;
}

/**
 * A de-duplicating work queue as client-go's: an item added while queued is
 * queued once; an item added while being processed is processed again after
 * `done`, never by two workers at once. Items are compared with `===`
 * (controllers queue `ns/name` strings).
 */
export class WorkQueue<T extends NonNullable<unknown>> {
  private items: T[] = [];
  private head = 0;
  /** Wanted: queued, or to be re-queued when its processing ends. */
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly waiting = new Map<T, { at: number; timer: NodeJS.Timeout }>();
  private waiters: Array<() => void> = [];
  private shutting = false;
  private readonly rateLimiter: ItemRateLimiter<T>;
  private readonly name: string;
  private readonly onError: (item: T, err: unknown) => void;

  constructor(opts: WorkQueueOptions<T> = {}) {
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>();
    this.name = opts.name ?? 'workqueue';
    this.onError = opts.onError ?? ((item, err) => {
      console.error(`${this.name}: ${String(item)}: ${err instanceof Error ? err.message : String(err)} (retry ${this.numRequeues(item)})`);
    });
  }

  add(item: T): void {
    if (this.shutting || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.items.push(item);
    this.waiters.shift()?.();
  }

  /** Adds `item` after `ms`; if it is already waiting, the earlier time wins. */
  addAfter(item: T, ms: number): void {
    if (this.shutting) return;
    if (ms <= 0) { this.add(item); return; }
    const at = Date.now() + ms;
    const existing = this.waiting.get(item);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => { this.waiting.delete(item); this.add(item); }, ms);
    this.waiting.set(item, { at, timer });
  }

  /** Adds `item` once its rate limiter allows: after each failure, later. */
  addRateLimited(item: T): void { this.addAfter(item, this.rateLimiter.when(item)); }

  /** Stops tracking `item`'s failures (it succeeded). */
  forget(item: T): void { this.rateLimiter.forget(item); }

  numRequeues(item: T): number { return this.rateLimiter.numRequeues(item); }

  /** Items ready to be processed (not those being processed or waiting for their delay). */
  len(): number { return this.items.length - this.head; }

  get shuttingDown(): boolean { return this.shutting; }

  /**
   * The next item, marked as being processed until `done(item)`; undefined
   * once the queue is shut down (queued items are then dropped: a controller
   * that lost its leadership must stop, not drain).
   */
  async get(): Promise<T | undefined> {
    while (this.len() === 0 && !this.shutting) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.shutting) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    this.processing.add(item);
    this.dirty.delete(item);
    return item;
  }

  /** Ends processing of `item`; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    this.processing.delete(item);
    if (this.dirty.has(item) && !this.shutting) {
      this.items.push(item);
      this.waiters.shift()?.();
    }
  }

  /** Refuses new items and wakes every waiting `get` with undefined. */
  shutDown(): void {
    if (this.shutting) return;
    this.shutting = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Runs `workers` loops that take an item, call `fn(item)`, forget its
   * failures on success and re-queue it with back-off when `fn` throws.
   * Aborting `signal` shuts the queue down; resolves when every worker has
   * finished its current item.
   */
  async process(workers: number, fn: (item: T, signal: AbortSignal) => Promise<void> | void, signal?: AbortSignal): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => { stop.abort(signal?.reason); this.shutDown(); };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const worker = async () => {
      for (let item = await this.get(); item !== undefined; item = await this.get()) {
        try {
          await fn(item, stop.signal);
          this.forget(item);
        } catch (err) {
          if (!this.shutting) {
            this.onError(item, err);
            this.addRateLimited(item);
          }
        } finally {
          this.done(item);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Waits until a request may go out. */
export interface RequestRateLimiter {
  wait(signal?: AbortSignal): Promise<void>;
}

/** client-go's `rest.Config` defaults. */
export const DEFAULT_QPS = 5;
export const DEFAULT_BURST = 10;

/**
 * A token bucket as client-go's `flowcontrol.NewTokenBucketRateLimiter`:
 * `burst` requests at once, then `qps` a second. A waiter reserves its token
 * up front, so waiters leave in arrival order.
 */
export class TokenBucket implements RequestRateLimiter {
  private tokens: number;
  private last: number;

  constructor(readonly qps: number, readonly burst: number, private readonly now: () => number = () => performance.now()) {
    if (!(qps > 0)) throw new RangeError('TokenBucket: qps must be > 0');
    this.burst = Math.max(1, Math.floor(burst));
    this.tokens = this.burst;
    this.last = now();
  }

  /** Milliseconds until a token is available, having taken it. */
  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  async wait(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const delay = this.reserve();
    if (delay <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        this.tokens += 1; // the request never went out
        reject(signal!.reason);
      };
      const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, delay);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** No limit: what `qps: 0` selects. */
export const unlimited: RequestRateLimiter = { wait: async (signal) => { signal?.throwIfAborted(); } };

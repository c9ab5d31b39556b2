/** upstream's ExpectationsTimeout: a lost watch event must not wedge a controller forever. */
const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation { add: number; del: Set<string>; at: number }

/**
 * ControllerExpectations: what a controller has asked for and not yet seen in
 * its informer. While creates or deletes are outstanding a sync must not act
 * again on the stale cache, or it would create twice.
 */
export class Expectations {
  private readonly items = new Map<string, Expectation>();

  constructor(private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS) {}

  satisfied(key: string): boolean {
    const e = this.items.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del.size === 0) return true;
    return Date.now() - e.at > this.timeoutMs;
  }

  expectCreations(key: string, n: number): void { this.set(key).add += n; }
  expectDeletions(key: string, podKeys: string[]): void { const e = this.set(key); for (const k of podKeys) e.del.add(k); }

  creationObserved(key: string): void { const e = this.items.get(key); if (e) e.add--; }
  deletionObserved(key: string, podKey: string): void { this.items.get(key)?.del.delete(podKey); }

  forget(key: string): void { this.items.delete(key); }

  private set(key: string): Expectation {
    let e = this.items.get(key);
    if (!e || (e.add <= 0 && e.del.size === 0)) {
      e = { add: Math.max(0, e?.add ?? 0), del: e?.del ?? new Set(), at: Date.now() };
      this.items.set(key, e);
    }
    e.at = Date.now();
    return e;
  }
}

/**
 * The kubelet's crash-loop and image-pull back-off (upstream's
 * flowcontrol.Backoff): the first failure is retried at once and starts a
 * 10 s delay; each further one doubles it, to at most 5 min. A key quiet for
 * twice the maximum starts over.
 */
export class Backoff {
  private readonly entries = new Map<string, { delayMs: number; lastUpdate: number }>();

  constructor(private readonly initialMs = 10_000, private readonly maxMs = 300_000) {}

  /** Records a try at `at` (a container start after a crash, a failed pull) and returns the delay now in force. */
  next(key: string, at = Date.now()): number {
    const e = this.entries.get(key);
    const delayMs = !e || at - e.lastUpdate > 2 * this.maxMs ? this.initialMs : Math.min(e.delayMs * 2, this.maxMs);
    this.entries.set(key, { delayMs, lastUpdate: at });
    return delayMs;
  }

  /** Milliseconds still to wait after an event at `since` (a container's exit); 0 when it may go. */
  remaining(key: string, since: number, now = Date.now()): number {
    const e = this.entries.get(key);
    if (!e || since - e.lastUpdate > 2 * this.maxMs) return 0;
    return Math.max(0, e.delayMs - (now - since));
  }

  /** When `key` last failed, if it has. */
  lastUpdate(key: string): number | undefined { return this.entries.get(key)?.lastUpdate; }

  delay(key: string): number | undefined { return this.entries.get(key)?.delayMs; }

  reset(key: string): void { this.entries.delete(key); }

  /** Drops every key starting with `prefix` (a pod's containers when the pod goes). */
  resetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** A delay as Go's time.Duration prints it: `10s`, `1m20s`, `5m0s`. */
export function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

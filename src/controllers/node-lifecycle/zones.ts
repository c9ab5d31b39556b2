import type { Node, NodeCondition } from 'kubernetes-types/core/v1';

/** upstream's ZoneState values, as its metrics and logs name them. */
export type ZoneState = 'Initial' | 'Normal' | 'FullDisruption' | 'PartialDisruption';

/** upstream's utilnode.GetZoneKey: region and zone, so equal zone names in two regions stay apart. */
export function zoneKeyOf(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const region = labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region || zone ? `${region}:\u0000:${zone}` : '';
}

/** A readable zone key for logs and events (`region/zone`, or `zone`). */
export const zoneLabel = (key: string): string => {
  const [region, zone] = key.split(':\u0000:');
  return key ? (region ? `${region}/${zone}` : zone) : '(no zone)';
};

/**
 * upstream's ComputeZoneState: no Ready node at all is a full disruption;
 * more than two not-ready nodes and at least `unhealthyZoneThreshold` of the
 * zone is a partial one.
 */
export function computeZoneState(readyConditions: ReadonlyArray<NodeCondition | undefined>, unhealthyZoneThreshold: number): { notReady: number; state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const c of readyConditions) if (c?.status === 'True') ready++; else notReady++;
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyZoneThreshold) return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

/**
 * A token bucket of burst 1 (client-go's flowcontrol limiter as upstream
 * uses it for evictions); qps 0 refuses every take.
 */
export class TokenBucket {
  private tokens = 1;
  private last: number;
  constructor(readonly qps: number, now = Date.now()) { this.last = now; }

  tryAccept(now = Date.now()): boolean {
    if (this.qps <= 0) return false;
    this.tokens = Math.min(1, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * upstream's RateLimitedTimedQueue, reduced to what tainting needs: a FIFO
 * of node names, unique, taken one per token. A node that failed goes to the
 * back so one bad node does not hold up its zone.
 */
export class RateLimitedNodeQueue {
  private readonly items: string[] = [];
  private limiter: TokenBucket;
  constructor(qps: number) { this.limiter = new TokenBucket(qps); }

  get qps(): number { return this.limiter.qps; }
  /** upstream's SwapLimiter: a new bucket, so a zone that calms down does not keep a burst saved up. */
  swapLimiter(qps: number): void { if (qps !== this.limiter.qps) this.limiter = new TokenBucket(qps); }
  add(name: string): boolean {
    if (this.items.includes(name)) return false;
    this.items.push(name);
    return true;
  }
  remove(name: string): boolean {
    const i = this.items.indexOf(name);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
  has(name: string): boolean { return this.items.includes(name); }
  get length(): number { return this.items.length; }

  /** Calls `fn` for queued nodes while tokens last; `fn` returns false to retry the node later. */
  async try(fn: (name: string) => Promise<boolean>, now = Date.now()): Promise<void> {
    while (this.items.length && this.limiter.tryAccept(now)) {
      const name = this.items.shift()!;
      let ok = false;
      try { ok = await fn(name); } catch { ok = false; }
      if (!ok) this.items.push(name);
    }
  }
}

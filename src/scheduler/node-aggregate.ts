/**
 * A sum over every node kept up to date incrementally: each node contributes
 * (group, key, count) triples; after pods land or leave, only the changed
 * nodes are recounted (from the cache's change log). This turns
 * PodTopologySpread's and InterPodAffinity's per-pod pass over all nodes into
 * work proportional to what changed since the previous pod.
 */
import type { FrameworkHandle } from './framework.js';
import type { NodeInfo } from './node-info.js';

export type Contribution = ReadonlyArray<readonly [group: string, key: string, count: number]>;
export interface Total { nodes: number; count: number }

export class NodeAggregate {
  private seq = -1;
  private readonly perNode = new Map<string, Contribution>();
  /** group → key → nodes contributing (a domain exists while > 0) and their summed count. */
  readonly totals = new Map<string, Map<string, Total>>();

  constructor(private readonly contribution: (ni: NodeInfo) => Contribution | undefined) {}

  refresh(handle: FrameworkHandle): this {
    const ch = handle.changedNodesSince(this.seq);
    if (this.seq < 0 || !ch.names) {
      this.perNode.clear();
      this.totals.clear();
      for (const ni of handle.nodeInfos()) this.add(ni);
    } else if (ch.names.length) {
      for (const name of new Set(ch.names)) {
        this.remove(name);
        const ni = handle.nodeInfo(name);
        if (ni) this.add(ni);
      }
    }
    this.seq = ch.seq;
    return this;
  }

  group(g: string): ReadonlyMap<string, Total> | undefined { return this.totals.get(g); }

  private add(ni: NodeInfo): void {
    const c = this.contribution(ni);
    if (!c) return;
    this.perNode.set(ni.name, c);
    for (const [g, k, n] of c) {
      let m = this.totals.get(g);
      if (!m) this.totals.set(g, m = new Map());
      const t = m.get(k);
      if (t) { t.nodes++; t.count += n; } else m.set(k, { nodes: 1, count: n });
    }
  }

  private remove(name: string): void {
    const c = this.perNode.get(name);
    if (!c) return;
    this.perNode.delete(name);
    for (const [g, k, n] of c) {
      const m = this.totals.get(g)!;
      const t = m.get(k)!;
      t.nodes--; t.count -= n;
      if (t.nodes === 0) { m.delete(k); if (m.size === 0) this.totals.delete(g); }
    }
  }
}

/** A bounded cache of aggregates by key (selector, namespace, topology…). */
export class AggregateCache {
  private readonly map = new Map<string, NodeAggregate>();
  get(key: string, make: () => NodeAggregate): NodeAggregate {
    let a = this.map.get(key);
    if (!a) {
      if (this.map.size >= 256) this.map.delete(this.map.keys().next().value!);
      this.map.set(key, a = make());
    }
    return a;
  }
}

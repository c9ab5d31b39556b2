import type { Summary } from './summary.js';

/** Usage of one node or container at one instant: cpu in nanocores, memory as working-set bytes. */
export interface Usage { cpuNanoCores: number; memoryBytes: number }

export interface NodePoint extends Usage {
  name: string;
  /** When the kubelet measured it (ms since the epoch). */
  timestamp: number;
  /** The interval the cpu rate was averaged over (ms). */
  windowMs: number;
}

export interface ContainerPoint extends Usage { name: string }

export interface PodPoint {
  namespace: string;
  name: string;
  uid: string;
  timestamp: number;
  windowMs: number;
  containers: ContainerPoint[];
}

const parseTime = (t: string | undefined, fallback: number): number => {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : fallback;
};

/**
 * The latest points of every node scraped successfully, as metrics-server
 * keeps them: a node whose scrape failed has no metrics (rather than stale
 * ones), and so have its pods.
 */
export class MetricsStore {
  private nodes = new Map<string, NodePoint>();
  /** `namespace/name` → point. */
  private pods = new Map<string, PodPoint>();

  /** Replaces everything with one scrape round's summaries. */
  replace(summaries: Array<{ summary: Summary; scrapedAt: number }>, windowMs: number): void {
    const nodes = new Map<string, NodePoint>();
    const pods = new Map<string, PodPoint>();
    for (const { summary, scrapedAt } of summaries) {
      const n = summary.node;
      // metrics-server drops a node whose cpu or memory is missing: a partial point would read as zero load.
      if (n?.nodeName && n.cpu?.usageNanoCores !== undefined && n.memory?.workingSetBytes !== undefined) {
        nodes.set(n.nodeName, {
          name: n.nodeName, timestamp: parseTime(n.cpu.time, scrapedAt), windowMs,
          cpuNanoCores: n.cpu.usageNanoCores, memoryBytes: n.memory.workingSetBytes,
        });
      }
      for (const p of summary.pods ?? []) {
        const containers: ContainerPoint[] = [];
        let complete = true;
        let time: string | undefined;
        for (const c of p.containers ?? []) {
          if (c.cpu?.usageNanoCores === undefined || c.memory?.workingSetBytes === undefined) { complete = false; break; }
          time ??= c.cpu.time;
          containers.push({ name: c.name, cpuNanoCores: c.cpu.usageNanoCores, memoryBytes: c.memory.workingSetBytes });
        }
        if (!complete || !containers.length || !p.podRef?.name) continue;
        pods.set(`${p.podRef.namespace}/${p.podRef.name}`, {
          namespace: p.podRef.namespace, name: p.podRef.name, uid: p.podRef.uid,
          timestamp: parseTime(time, scrapedAt), windowMs, containers,
        });
      }
    }
    this.nodes = nodes;
    this.pods = pods;
  }

  node(name: string): NodePoint | undefined { return this.nodes.get(name); }
  pod(namespace: string, name: string): PodPoint | undefined { return this.pods.get(`${namespace}/${name}`); }
  get nodeCount(): number { return this.nodes.size; }
  get podCount(): number { return this.pods.size; }
}

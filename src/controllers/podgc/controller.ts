import type { Node, Pod } from 'kubernetes-types/core/v1';
import { isNotFound, keyOf, nodes, pods, type Client, type InformerFactory, type Lister } from '../../client/index.js';
import { isPodTerminated } from '../util/pods.js';

export interface PodGCOptions {
  /** --terminated-pod-gc-threshold: terminated pods kept before the oldest go; 0 turns this off. Default 12500. */
  terminatedPodGcThreshold?: number;
  /** upstream's gcCheckPeriod (20 s). */
  periodMs?: number;
  /** How long a pod's node must be missing before the pod goes (upstream's quarantineTime, 40 s). */
  quarantineMs?: number;
  log?: (m: string) => void;
}

/**
 * The pod garbage collector: terminated pods beyond the threshold (oldest
 * first), pods bound to nodes that no longer exist, and unscheduled pods
 * that are terminating (no kubelet will ever finish them).
 */
export class PodGC {
  private readonly pods: Lister<Pod>;
  private readonly nodes: Lister<Node>;
  private readonly threshold: number;
  private readonly periodMs: number;
  private readonly quarantineMs: number;
  private readonly log: (m: string) => void;
  /** Pod key → when its node was first seen missing. */
  private readonly missingSince = new Map<string, number>();

  constructor(private readonly client: Client, informers: InformerFactory, opts: PodGCOptions = {}) {
    this.pods = informers.for(pods).lister();
    this.nodes = informers.for(nodes).lister();
    this.threshold = opts.terminatedPodGcThreshold ?? 12500;
    this.periodMs = opts.periodMs ?? 20_000;
    this.quarantineMs = opts.quarantineMs ?? 40_000;
    this.log = opts.log ?? ((m: string) => console.error(m));
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try { await this.gc(); } catch (err) { if (!signal.aborted) this.log(`pod-garbage-collector: ${err instanceof Error ? err.message : String(err)}`); }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.periodMs);
        signal.addEventListener('abort', done, { once: true });
        function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
      });
    }
  }

  async gc(): Promise<void> {
    const all = this.pods.list();
    await this.gcTerminated(all);
    await this.gcOrphaned(all);
    await this.gcUnscheduledTerminating(all);
  }

  private async gcTerminated(all: Pod[]): Promise<void> {
    if (this.threshold <= 0) return;
    const terminated = all.filter((p) => isPodTerminated(p) && !p.metadata?.deletionTimestamp);
    const excess = terminated.length - this.threshold;
    if (excess <= 0) return;
    terminated.sort((a, b) => (Date.parse(a.metadata?.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata?.creationTimestamp ?? '') || 0));
    this.log(`pod-garbage-collector: garbage collecting ${excess} pods`);
    await Promise.all(terminated.slice(0, excess).map((p) => this.forceDelete(p)));
  }

  private async gcOrphaned(all: Pod[]): Promise<void> {
    const now = Date.now();
    const stillMissing = new Set<string>();
    for (const pod of all) {
      const node = pod.spec?.nodeName;
      if (!node || this.nodes.get(node)) continue;
      const key = keyOf(pod);
      stillMissing.add(key);
      const since = this.missingSince.get(key) ?? now;
      this.missingSince.set(key, since);
      if (now - since < this.quarantineMs) continue;
      // The cache may lag a node that just registered.
      try { await this.client.get(nodes, undefined, node); continue; } catch (err) { if (!isNotFound(err)) throw err; }
      this.log(`pod-garbage-collector: deleting orphaned pod ${key} (node ${node} is gone)`);
      await this.forceDelete(pod);
    }
    for (const key of this.missingSince.keys()) if (!stillMissing.has(key)) this.missingSince.delete(key);
  }

  private async gcUnscheduledTerminating(all: Pod[]): Promise<void> {
    for (const pod of all) {
      // Grace 0 already: only its finalizers hold it, and deleting again would not help.
      if (pod.metadata?.deletionTimestamp && !pod.spec?.nodeName && pod.metadata.deletionGracePeriodSeconds !== 0) await this.forceDelete(pod);
    }
  }

  private async forceDelete(pod: Pod): Promise<void> {
    try {
      await this.client.delete(pods, pod.metadata?.namespace, pod.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

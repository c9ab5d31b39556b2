import type { Pod } from 'kubernetes-types/core/v1';
import { pods } from '../../client/resources.js';
import { isNotFound } from '../../client/errors.js';
import { Code, Status, fitErrorMessage, type CycleState, type FrameworkHandle, type PostFilterPlugin, type PostFilterResult } from '../framework.js';
import { PodInfo, type NodeInfo } from '../node-info.js';

export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod.';

interface Candidate { node: NodeInfo; victims: PodInfo[] }

/**
 * PostFilter: when a pod fits nowhere, find a node where evicting pods of
 * lower priority makes room (removing all of them, then reprieving as many as
 * still leave room, highest priority first), pick the node whose victims
 * matter least, delete them and nominate the node for the pod.
 */
export class DefaultPreemption implements PostFilterPlugin {
  static readonly pluginName = 'DefaultPreemption';
  constructor(private readonly handle: FrameworkHandle) {}
  name(): string { return DefaultPreemption.pluginName; }

  async postFilter(state: CycleState, pod: Pod, statuses: Map<string, Status>): Promise<{ result?: PostFilterResult; status: Status }> {
    if (pod.spec?.preemptionPolicy === 'Never') return { status: Status.unschedulable('not eligible due to preemptionPolicy=Never.') };
    const prio = this.handle.priorityOf(pod);
    const nodeStatuses = new Map<string, Status>();
    const candidates: Candidate[] = [];
    for (const ni of this.handle.nodeInfos()) {
      const st = statuses.get(ni.name);
      if (st && st.code === Code.UnschedulableAndUnresolvable) { nodeStatuses.set(ni.name, Status.unschedulableAndUnresolvable(PREEMPTION_NOT_HELPFUL)); continue; }
      const c = this.selectVictimsOnNode(state, pod, prio, ni);
      if (c) candidates.push(c);
      else nodeStatuses.set(ni.name, Status.unschedulable(NO_VICTIMS));
      // Upstream looks at a bounded share of candidates; 100 is its absolute floor.
      if (candidates.length >= 100) break;
    }
    if (candidates.length === 0) {
      return { status: Status.unschedulable(`preemption: ${fitErrorMessage(nodeStatuses.size, nodeStatuses)}`) };
    }
    const best = pickOneNodeForPreemption(candidates, (p) => this.handle.priorityOf(p));
    const client = this.handle.client;
    if (client) {
      await Promise.all(best.victims.map(async (v) => {
        try {
          await client.delete(pods, v.pod.metadata?.namespace, v.pod.metadata?.name ?? '', { preconditions: { uid: v.pod.metadata?.uid } });
          this.handle.recordEvent?.(v.pod, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata?.uid ?? ''} on node ${best.node.name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }));
    }
    return { result: { nominatedNodeName: best.node.name }, status: Status.success() };
  }

  private selectVictimsOnNode(state: CycleState, pod: Pod, prio: number, ni: NodeInfo): Candidate | undefined {
    const lower = [...ni.pods.values()].filter((pi) => this.handle.priorityOf(pi.pod) < prio && !pi.pod.metadata?.deletionTimestamp);
    if (lower.length === 0) return undefined;
    const clone = ni.clone();
    for (const pi of lower) clone.removePod(pi.key);
    if (!this.handle.runFilterPlugins(state, pod, clone).isSuccess()) return undefined;
    // Reprieve the most important first: only what must go, goes.
    lower.sort((a, b) => this.handle.priorityOf(b.pod) - this.handle.priorityOf(a.pod));
    const victims: PodInfo[] = [];
    for (const pi of lower) {
      clone.addPod(pi);
      if (!this.handle.runFilterPlugins(state, pod, clone).isSuccess()) { clone.removePod(pi.key); victims.push(pi); }
    }
    return victims.length ? { node: ni, victims } : undefined;
  }
}

/** Upstream's pickOneNodeForPreemption, without PDBs: lowest highest-victim priority, then lowest priority sum, then fewest victims. */
function pickOneNodeForPreemption(cs: Candidate[], priorityOf: (p: Pod) => number): Candidate {
  const key = (c: Candidate): [number, number, number] => {
    let max = -Infinity, sum = 0;
    for (const v of c.victims) { const p = priorityOf(v.pod); if (p > max) max = p; sum += p; }
    return [max, sum, c.victims.length];
  };
  let best = cs[0], bk = key(best);
  for (const c of cs.slice(1)) {
    const k = key(c);
    if (k[0] < bk[0] || (k[0] === bk[0] && (k[1] < bk[1] || (k[1] === bk[1] && k[2] < bk[2])))) { best = c; bk = k; }
  }
  return best;
}

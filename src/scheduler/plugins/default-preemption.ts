import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { labelSelectorFromObject, type Selector } from '../../api/labels.js';
import { pods } from '../../client/resources.js';
import { isNotFound } from '../../client/errors.js';
import { Code, Status, fitErrorMessage, type CycleState, type FrameworkHandle, type PostFilterPlugin, type PostFilterResult } from '../framework.js';
import { PodInfo, type NodeInfo } from '../node-info.js';

export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod.';

/** `numPDBViolations`: how many victims' eviction breaks a PodDisruptionBudget (upstream's NumPDBViolations). */
interface Candidate { node: NodeInfo; victims: PodInfo[]; numPDBViolations: number }

/**
 * PostFilter: when a pod fits nowhere, find a node where evicting pods of
 * lower priority makes room (removing all of them, then reprieving as many as
 * still leave room, highest priority first, PDB-protected ones before the
 * rest), pick the node whose victims break the fewest PodDisruptionBudgets
 * and matter least, delete them and nominate the node for the pod. Budgets
 * are best effort, as upstream: they steer the choice, never forbid it.
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
    const pdbs = this.handle.podDisruptionBudgets?.() ?? [];
    for (const ni of this.handle.nodeInfos()) {
      const st = statuses.get(ni.name);
      if (st && st.code === Code.UnschedulableAndUnresolvable) { nodeStatuses.set(ni.name, Status.unschedulableAndUnresolvable(PREEMPTION_NOT_HELPFUL)); continue; }
      const c = this.selectVictimsOnNode(state, pod, prio, ni, pdbs);
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

  private selectVictimsOnNode(state: CycleState, pod: Pod, prio: number, ni: NodeInfo, pdbs: readonly PodDisruptionBudget[]): Candidate | undefined {
    const lower = [...ni.pods.values()].filter((pi) => this.handle.priorityOf(pi.pod) < prio && !pi.pod.metadata?.deletionTimestamp);
    if (lower.length === 0) return undefined;
    const clone = ni.clone();
    for (const pi of lower) clone.removePod(pi.key);
    if (!this.handle.runFilterPlugins(state, pod, clone).isSuccess()) return undefined;
    // Reprieve the most important first: only what must go, goes.
    lower.sort((a, b) => this.handle.priorityOf(b.pod) - this.handle.priorityOf(a.pod));
    // Protected victims are reprieved first, so that what must go is, where possible, what no budget protects.
    const { violating, nonViolating } = filterPodsWithPDBViolation(lower, pdbs);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (pi: PodInfo): boolean => {
      clone.addPod(pi);
      if (this.handle.runFilterPlugins(state, pod, clone).isSuccess()) return true;
      clone.removePod(pi.key);
      victims.push(pi);
      return false;
    };
    for (const pi of violating) if (!reprieve(pi)) numPDBViolations++;
    for (const pi of nonViolating) reprieve(pi);
    return victims.length ? { node: ni, victims, numPDBViolations } : undefined;
  }
}

/**
 * Upstream's filterPodsWithPDBViolation: splits pods (most important first)
 * into those whose eviction would break a budget and those whose would not.
 * Each matching pod uses up one of its budget's `disruptionsAllowed`, so the
 * second victim of a budget allowing one disruption is the violating one.
 */
export function filterPodsWithPDBViolation(podInfos: readonly PodInfo[], pdbs: readonly PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((pdb) => pdb.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map(pdbSelector);
  const violating: PodInfo[] = [], nonViolating: PodInfo[] = [];
  for (const pi of podInfos) {
    const labels = pi.pod.metadata?.labels;
    let violated = false;
    // A pod without labels matches no budget.
    if (labels && Object.keys(labels).length) {
      for (let i = 0; i < pdbs.length; i++) {
        const sel = selectors[i];
        if (pdbs[i].metadata?.namespace !== pi.pod.metadata?.namespace || !sel || !sel.matches(labels)) continue;
        // Already counted by the disruption controller: decrementing again would spend the budget twice.
        if (Object.hasOwn(pdbs[i].status?.disruptedPods ?? {}, pi.pod.metadata?.name ?? '')) continue;
        if (--allowed[i] < 0) violated = true;
      }
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** A budget's selector; undefined when it matches nothing (invalid, or nil/empty: upstream treats an empty PDB selector as selecting no pods). */
function pdbSelector(pdb: PodDisruptionBudget): Selector | undefined {
  try {
    const sel = labelSelectorFromObject(pdb.spec?.selector);
    return sel.empty() ? undefined : sel;
  } catch {
    return undefined;
  }
}

/** Upstream's pickOneNodeForPreemption: fewest PDB violations, then lowest highest-victim priority, then lowest priority sum, then fewest victims. */
function pickOneNodeForPreemption(cs: Candidate[], priorityOf: (p: Pod) => number): Candidate {
  const key = (c: Candidate): number[] => {
    let max = -Infinity, sum = 0;
    for (const v of c.victims) { const p = priorityOf(v.pod); if (p > max) max = p; sum += p; }
    return [c.numPDBViolations, max, sum, c.victims.length];
  };
  const less = (a: number[], b: number[]): boolean => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
    return false;
  };
  let best = cs[0], bk = key(best);
  for (const c of cs.slice(1)) {
    const k = key(c);
    if (less(k, bk)) { best = c; bk = k; }
  }
  return best;
}

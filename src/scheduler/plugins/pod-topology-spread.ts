import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1';
import { labelSelectorFromObject, type Selector } from '../../api/labels.js';
import { MAX_NODE_SCORE, Status, type CycleState, type FilterPlugin, type FrameworkHandle, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { requiredNodeAffinityMatches, tolerates } from '../helpers.js';
import { AggregateCache, NodeAggregate, type Total } from '../node-aggregate.js';

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = "node(s) didn't match pod topology spread constraints (missing required label)";
const PREFILTER_KEY = 'PreFilterPodTopologySpread';
const PRESCORE_KEY = 'PreScorePodTopologySpread';

export interface PodTopologySpreadArgs {
  /** System (default): upstream's built-in ScheduleAnyway constraints for pods that have none; List: `defaultConstraints`. */
  defaultingType?: 'System' | 'List';
  defaultConstraints?: TopologySpreadConstraint[];
}

/** Upstream's systemDefaultConstraints. */
export const SYSTEM_DEFAULT_CONSTRAINTS: TopologySpreadConstraint[] = [
  { topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

interface Constraint {
  maxSkew: number;
  minDomains: number;
  topologyKey: string;
  selector: Selector;
  selectorKey: string;
  honorAffinity: boolean;
  honorTaints: boolean;
}

/** Per constraint: domain → matching pods. */
type Counts = Array<ReadonlyMap<string, Total>>;
interface FilterState { constraints: Constraint[]; counts: Counts; minMatch: number[]; selfMatch: number[] }
interface ScoreState { constraints: Constraint[]; counts: Counts; weights: number[] }
const NONE: ReadonlyMap<string, Total> = new Map();

/** Matching, non-terminating pods of `namespace` on a node; memoised per node generation. */
export function countMatchingPods(ni: NodeInfo, namespace: string, selector: Selector, selectorKey: string): number {
  const key = `${namespace}|${selectorKey}`;
  const m = ni.memo.get(key);
  if (m && m.generation === ni.generation) return m.count;
  let count = 0;
  for (const pi of ni.pods.values()) {
    const p = pi.pod;
    if (p.metadata?.deletionTimestamp || (p.metadata?.namespace ?? 'default') !== namespace) continue;
    if (selector.matches(p.metadata?.labels)) count++;
  }
  if (ni.memo.size > 64) ni.memo.clear();
  ni.memo.set(key, { generation: ni.generation, count });
  return count;
}

/**
 * Spreads matching pods evenly over topology domains: DoNotSchedule
 * constraints filter (skew = pods in this domain + self − min over domains
 * must stay ≤ maxSkew; fewer domains than minDomains make the min 0),
 * ScheduleAnyway constraints score.
 */
export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'PodTopologySpread';
  private readonly defaults: TopologySpreadConstraint[];
  private readonly aggregates = new AggregateCache();
  constructor(private readonly handle: FrameworkHandle, args: PodTopologySpreadArgs = {}) {
    this.defaults = args.defaultingType === 'List' ? args.defaultConstraints ?? [] : SYSTEM_DEFAULT_CONSTRAINTS;
  }
  name(): string { return PodTopologySpread.pluginName; }

  private constraints(pod: Pod, when: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
    let list = pod.spec?.topologySpreadConstraints ?? [];
    let defaulted = false;
    if (list.length === 0) {
      // Defaults need the selector of the pod's owning workload; the pod's own labels stand in for it when it has an owner.
      const owned = (pod.metadata?.ownerReferences ?? []).some((o) => o.controller);
      if (!owned || !pod.metadata?.labels || Object.keys(pod.metadata.labels).length === 0) return [];
      list = this.defaults;
      defaulted = true;
    }
    const out: Constraint[] = [];
    for (const c of list) {
      if (c.whenUnsatisfiable !== when) continue;
      let labelSelector = c.labelSelector;
      if (defaulted) labelSelector = { matchLabels: pod.metadata?.labels };
      if (c.matchLabelKeys?.length && labelSelector) {
        const extra = c.matchLabelKeys.filter((k) => pod.metadata?.labels?.[k] !== undefined).map((k) => ({ key: k, operator: 'In', values: [pod.metadata!.labels![k]] }));
        labelSelector = { ...labelSelector, matchExpressions: [...(labelSelector.matchExpressions ?? []), ...extra] };
      }
      let selector: Selector;
      try { selector = labelSelectorFromObject(labelSelector); } catch { continue; }
      out.push({
        maxSkew: c.maxSkew, minDomains: c.minDomains ?? 1, topologyKey: c.topologyKey, selector, selectorKey: selector.toString(),
        honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor', honorTaints: c.nodeTaintsPolicy === 'Honor',
      });
    }
    return out;
  }

  private eligible(pod: Pod, ni: NodeInfo, cs: Constraint[]): boolean {
    const labels = ni.labels;
    for (const c of cs) if (!(c.topologyKey in labels)) return false;
    if (cs.some((c) => c.honorAffinity) && !requiredNodeAffinityMatches(pod, ni.node)) return false;
    if (cs.some((c) => c.honorTaints)) {
      for (const t of ni.node.spec?.taints ?? []) {
        if ((t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec?.tolerations, t)) return false;
      }
    }
    return true;
  }

  /**
   * Matching pods per (constraint, domain) over the nodes that count, and the
   * number of domains per constraint; kept incrementally per distinct
   * (namespace, constraints, node eligibility) so a pod costs what changed since the last one.
   */
  private count(pod: Pod, cs: Constraint[]): Counts {
    const ns = pod.metadata?.namespace ?? 'default';
    const honorTaints = cs.some((c) => c.honorTaints);
    const eligKey = JSON.stringify([
      cs.some((c) => c.honorAffinity) ? [pod.spec?.nodeSelector, pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution] : null,
      honorTaints ? pod.spec?.tolerations : null,
    ]);
    const key = `${ns}|${eligKey}|${cs.map((c) => `${c.topologyKey}@${c.selectorKey}@${c.honorAffinity}@${c.honorTaints}`).join(';')}`;
    const agg = this.aggregates.get(key, () => new NodeAggregate((ni) => {
      if (!this.eligible(pod, ni, cs)) return undefined;
      return cs.map((c, i) => [String(i), ni.labels[c.topologyKey], countMatchingPods(ni, ns, c.selector, c.selectorKey)] as const);
    })).refresh(this.handle);
    return cs.map((_, i) => agg.group(String(i)) ?? NONE);
  }

  preFilter(state: CycleState, pod: Pod) {
    const cs = this.constraints(pod, 'DoNotSchedule');
    if (cs.length === 0) return { status: Status.skip() };
    const counts = this.count(pod, cs);
    const minMatch = counts.map((m, i) => {
      if (m.size < cs[i].minDomains) return 0;
      let min = Infinity;
      for (const t of m.values()) if (t.count < min) min = t.count;
      return min === Infinity ? 0 : min;
    });
    const selfMatch = cs.map((c) => (c.selector.matches(pod.metadata?.labels) ? 1 : 0));
    state.write(PREFILTER_KEY, { constraints: cs, counts, minMatch, selfMatch } satisfies FilterState);
    return { status: Status.success() };
  }

  filter(state: CycleState, _pod: Pod, ni: NodeInfo): Status {
    const s = state.read<FilterState>(PREFILTER_KEY);
    if (!s) return Status.success();
    const labels = ni.labels;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = labels[c.topologyKey];
      if (v === undefined) return Status.unschedulableAndUnresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      const skew = (s.counts[i].get(v)?.count ?? 0) + s.selfMatch[i] - s.minMatch[i];
      if (skew > c.maxSkew) return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: Pod): Status {
    const cs = this.constraints(pod, 'ScheduleAnyway');
    if (cs.length === 0) return Status.skip();
    const counts = this.count(pod, cs);
    const weights = counts.map((m) => Math.log(m.size + 2));
    state.write(PRESCORE_KEY, { constraints: cs, counts, weights } satisfies ScoreState);
    return Status.success();
  }

  score(state: CycleState, _pod: Pod, ni: NodeInfo): number {
    const s = state.read<ScoreState>(PRESCORE_KEY);
    if (!s) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const v = ni.labels[s.constraints[i].topologyKey];
      if (v === undefined) return -1; // no domain: scored 0 below, as upstream's invalidScore
      score += (s.counts[i].get(v)?.count ?? 0) * s.weights[i] + (s.constraints[i].maxSkew - 1);
    }
    return Math.round(score);
  }

  /** Fewer matching pods in the node's domains is better. */
  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): void {
    let min = Infinity, max = 0;
    for (const s of scores) {
      if (s.score < 0) continue;
      if (s.score < min) min = s.score;
      if (s.score > max) max = s.score;
    }
    for (const s of scores) {
      if (s.score < 0) { s.score = 0; continue; }
      s.score = max === 0 ? MAX_NODE_SCORE : Math.floor(MAX_NODE_SCORE * (max + min - s.score) / max);
    }
  }
}

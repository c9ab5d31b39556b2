import type { Pod } from 'kubernetes-types/core/v1';
import { MAX_NODE_SCORE, Status, type CycleState, type FilterPlugin, type FrameworkHandle, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo, PodInfo } from '../node-info.js';
import { affinityTerm, termMatchesPod, type AffinityTerm } from '../helpers.js';
import { AggregateCache, NodeAggregate } from '../node-aggregate.js';

export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";
const PREFILTER_KEY = 'PreFilterInterPodAffinity';
const PRESCORE_KEY = 'PreScoreInterPodAffinity';

/** topologyKey → value → count. */
type TopologyCounts = Map<string, Map<string, number>>;
function bump(m: TopologyCounts, key: string, value: string, n: number): void {
  let inner = m.get(key);
  if (!inner) m.set(key, inner = new Map());
  inner.set(value, (inner.get(value) ?? 0) + n);
}
const get = (m: TopologyCounts, key: string, value: string | undefined): number => (value === undefined ? 0 : m.get(key)?.get(value) ?? 0);

interface FilterState {
  existingAnti: TopologyCounts;
  affinity: TopologyCounts;
  anti: TopologyCounts;
  affinityTerms: AffinityTerm[];
  antiTerms: AffinityTerm[];
  /** Any existing pod matched all the affinity terms anywhere. */
  affinityAnywhere: boolean;
  selfMatchesAffinity: boolean;
}

/** Parsed terms of an existing pod, kept with the PodInfo (it is immutable). */
const termCache = new WeakMap<PodInfo, { required: AffinityTerm[]; requiredAnti: AffinityTerm[]; preferred: Array<[AffinityTerm, number]>; preferredAnti: Array<[AffinityTerm, number]> }>();
function termsOf(pi: PodInfo) {
  let t = termCache.get(pi);
  if (!t) {
    t = {
      required: pi.requiredAffinity.map((x) => affinityTerm(pi.pod, x)),
      requiredAnti: pi.requiredAntiAffinity.map((x) => affinityTerm(pi.pod, x)),
      preferred: pi.preferredAffinity.map((w) => [affinityTerm(pi.pod, w.podAffinityTerm), w.weight] as [AffinityTerm, number]),
      preferredAnti: pi.preferredAntiAffinity.map((w) => [affinityTerm(pi.pod, w.podAffinityTerm), w.weight] as [AffinityTerm, number]),
    };
    termCache.set(pi, t);
  }
  return t;
}

/**
 * Pod affinity and anti-affinity over topology domains: the incoming pod's
 * required terms and existing pods' required anti-affinity filter; preferred
 * terms (both ways) and existing pods' required affinity score.
 */
export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'InterPodAffinity';
  private readonly hardPodAffinityWeight: number;
  constructor(private readonly handle: FrameworkHandle, args: { hardPodAffinityWeight?: number } = {}) {
    this.hardPodAffinityWeight = args.hardPodAffinityWeight ?? 1;
  }
  name(): string { return InterPodAffinity.pluginName; }

  private nsLabels = (ns: string) => this.handle.namespaceLabels(ns);

  /** Matching pods on a node for a term (one term: memoised per node generation; several: all must match). */
  private countOnNode(ni: NodeInfo, terms: AffinityTerm[]): number {
    const key = `ipa|${terms.map((t) => t.key).join('&')}`;
    const m = ni.memo.get(key);
    if (m && m.generation === ni.generation) return m.count;
    let count = 0;
    for (const pi of ni.pods.values()) {
      if (pi.pod.metadata?.deletionTimestamp) continue;
      if (terms.every((t) => termMatchesPod(t, pi.pod, this.nsLabels))) count++;
    }
    if (ni.memo.size > 64) ni.memo.clear();
    ni.memo.set(key, { generation: ni.generation, count });
    return count;
  }

  /** Terms seen on existing pods, by key, so aggregates can name them by key. */
  private readonly termsByKey = new Map<string, AffinityTerm>();
  private readonly aggregates = new AggregateCache();

  /** Existing pods' required anti-affinity: term → `topologyKey\0value` → pods. */
  private existingAntiAggregate(): NodeAggregate {
    return this.aggregates.get('existing-anti', () => new NodeAggregate((ni) => {
      if (ni.podsWithRequiredAntiAffinity.size === 0) return undefined;
      const out: Array<[string, string, number]> = [];
      for (const pi of ni.podsWithRequiredAntiAffinity) {
        for (const t of termsOf(pi).requiredAnti) {
          const v = ni.labels[t.topologyKey];
          if (v === undefined) continue;
          this.termsByKey.set(t.key, t);
          out.push([t.key, `${t.topologyKey}\u0000${v}`, 1]);
        }
      }
      return out;
    })).refresh(this.handle);
  }

  /** Pods matching all `terms`, per value of `topologyKey`. */
  private termAggregate(terms: AffinityTerm[], topologyKeys: string[]): NodeAggregate {
    const key = `terms|${terms.map((t) => t.key).join('&')}|${topologyKeys.join(',')}`;
    return this.aggregates.get(key, () => new NodeAggregate((ni) => {
      if (ni.pods.size === 0) return undefined;
      const n = this.countOnNode(ni, terms);
      if (n === 0) return undefined;
      const out: Array<[string, string, number]> = [];
      for (const tk of topologyKeys) { const v = ni.labels[tk]; if (v !== undefined) out.push([tk, v, n]); }
      return out;
    })).refresh(this.handle);
  }

  preFilter(state: CycleState, pod: Pod) {
    const a = pod.spec?.affinity;
    const affinityTerms = (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));
    const antiTerms = (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));
    if (affinityTerms.length === 0 && antiTerms.length === 0 && !this.handle.havePodsWithRequiredAntiAffinity()) return { status: Status.skip() };
    const existingAnti: TopologyCounts = new Map();
    if (this.handle.havePodsWithRequiredAntiAffinity()) {
      for (const [termKey, pairs] of this.existingAntiAggregate().totals) {
        const t = this.termsByKey.get(termKey);
        if (!t || !termMatchesPod(t, pod, this.nsLabels)) continue;
        for (const [pair, total] of pairs) {
          const i = pair.indexOf('\u0000');
          bump(existingAnti, pair.slice(0, i), pair.slice(i + 1), total.count);
        }
      }
    }
    const affinity: TopologyCounts = new Map();
    let affinityAnywhere = false;
    if (affinityTerms.length) {
      const agg = this.termAggregate(affinityTerms, [...new Set(affinityTerms.map((t) => t.topologyKey))]);
      for (const [tk, values] of agg.totals) for (const [v, total] of values) { bump(affinity, tk, v, total.count); affinityAnywhere = true; }
    }
    const anti: TopologyCounts = new Map();
    for (const t of antiTerms) {
      const agg = this.termAggregate([t], [t.topologyKey]);
      for (const [v, total] of agg.group(t.topologyKey) ?? []) bump(anti, t.topologyKey, v, total.count);
    }
    if (existingAnti.size === 0 && affinityTerms.length === 0 && antiTerms.length === 0) return { status: Status.skip() };
    const selfMatchesAffinity = affinityTerms.every((t) => termMatchesPod(t, pod, this.nsLabels));
    state.write(PREFILTER_KEY, { existingAnti, affinity, anti, affinityTerms, antiTerms, affinityAnywhere, selfMatchesAffinity } satisfies FilterState);
    return { status: Status.success() };
  }

  filter(state: CycleState, _pod: Pod, ni: NodeInfo): Status {
    const s = state.read<FilterState>(PREFILTER_KEY);
    if (!s) return Status.success();
    const labels = ni.labels;
    for (const [key, values] of s.existingAnti) {
      const v = labels[key];
      if (v !== undefined && (values.get(v) ?? 0) > 0) return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);
    }
    for (const t of s.antiTerms) {
      if (get(s.anti, t.topologyKey, labels[t.topologyKey]) > 0) return Status.unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
    }
    if (s.affinityTerms.length) {
      const ok = s.affinityTerms.every((t) => get(s.affinity, t.topologyKey, labels[t.topologyKey]) > 0);
      if (!ok) {
        // The first pod of a group that selects itself may go anywhere its topology keys exist.
        const first = !s.affinityAnywhere && s.selfMatchesAffinity && s.affinityTerms.every((t) => labels[t.topologyKey] !== undefined);
        if (!first) return Status.unschedulableAndUnresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
      }
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: Pod): Status {
    const a = pod.spec?.affinity;
    const preferred = (a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => [affinityTerm(pod, w.podAffinityTerm), w.weight] as const);
    const preferredAnti = (a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => [affinityTerm(pod, w.podAffinityTerm), w.weight] as const);
    if (!preferred.length && !preferredAnti.length && !this.handle.havePodsWithAffinity()) return Status.skip();
    const scores: TopologyCounts = new Map();
    for (const [t, w] of preferred) {
      for (const [v, total] of this.termAggregate([t], [t.topologyKey]).group(t.topologyKey) ?? []) bump(scores, t.topologyKey, v, total.count * w);
    }
    for (const [t, w] of preferredAnti) {
      for (const [v, total] of this.termAggregate([t], [t.topologyKey]).group(t.topologyKey) ?? []) bump(scores, t.topologyKey, v, -total.count * w);
    }
    if (this.handle.havePodsWithAffinity()) {
      // Existing pods' terms that select the incoming pod, summed by (term, domain) with their weights.
      const agg = this.aggregates.get('existing-affinity', () => new NodeAggregate((ni) => {
        if (ni.podsWithAffinity.size === 0) return undefined;
        const out: Array<[string, string, number]> = [];
        const add = (t: AffinityTerm, w: number) => {
          const v = ni.labels[t.topologyKey];
          if (v === undefined) return;
          this.termsByKey.set(t.key, t);
          out.push([t.key, `${t.topologyKey}\u0000${v}`, w]);
        };
        for (const pi of ni.podsWithAffinity) {
          const terms = termsOf(pi);
          for (const t of terms.required) add(t, this.hardPodAffinityWeight);
          for (const [t, w] of terms.preferred) add(t, w);
          for (const [t, w] of terms.preferredAnti) add(t, -w);
        }
        return out;
      })).refresh(this.handle);
      for (const [termKey, pairs] of agg.totals) {
        const t = this.termsByKey.get(termKey);
        if (!t || !termMatchesPod(t, pod, this.nsLabels)) continue;
        for (const [pair, total] of pairs) {
          const i = pair.indexOf('\u0000');
          bump(scores, pair.slice(0, i), pair.slice(i + 1), total.count);
        }
      }
    }
    if (scores.size === 0) return Status.skip();
    state.write(PRESCORE_KEY, scores);
    return Status.success();
  }

  score(state: CycleState, _pod: Pod, ni: NodeInfo): number {
    const scores = state.read<TopologyCounts>(PRESCORE_KEY);
    if (!scores) return 0;
    let s = 0;
    for (const [key, values] of scores) {
      const v = ni.labels[key];
      if (v !== undefined) s += values.get(v) ?? 0;
    }
    return s;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): void {
    let min = Infinity, max = -Infinity;
    for (const s of scores) { if (s.score < min) min = s.score; if (s.score > max) max = s.score; }
    const diff = max - min;
    for (const s of scores) s.score = diff > 0 ? Math.floor(MAX_NODE_SCORE * (s.score - min) / diff) : 0;
  }
}

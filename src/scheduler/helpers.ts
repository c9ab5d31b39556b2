/** Helpers shared by several plugins: tolerations, node selector terms, affinity term matching. */
import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodAffinityTerm } from 'kubernetes-types/core/v1';
import { labelSelectorFromObject, type Selector } from '../api/labels.js';

export { toleratesTaint, tolerates } from '../api/taints.js';

function requirementMatches(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = has ? labels[r.key] : undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return v !== undefined && values.includes(v);
    case 'NotIn': return v === undefined || !values.includes(v);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt': case 'Lt': {
      if (v === undefined || values.length !== 1 || !/^-?\d+$/.test(v) || !/^-?\d+$/.test(values[0])) return false;
      const a = BigInt(v), b = BigInt(values[0]);
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default: return false;
  }
}

/** A term with no requirements matches nothing, as upstream. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const r of exprs) if (!requirementMatches(r, labels)) return false;
  if (fields.length) {
    const f = { 'metadata.name': node.metadata?.name ?? '' };
    for (const r of fields) if (r.key !== 'metadata.name' || !requirementMatches(r, f)) return false;
  }
  return true;
}

/** Terms are ORed. */
export const nodeSelectorMatches = (sel: NodeSelector, node: Node): boolean =>
  (sel.nodeSelectorTerms ?? []).some((t) => nodeSelectorTermMatches(t, node));

/** `spec.nodeSelector` and required node affinity, both (upstream's RequiredNodeAffinity). */
export function requiredNodeAffinityMatches(pod: Pod, node: Node): boolean {
  const ns = pod.spec?.nodeSelector;
  if (ns) {
    const labels = node.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(ns)) if (labels[k] !== v) return false;
  }
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return req ? nodeSelectorMatches(req, node) : true;
}

/** An affinity term ready to match pods: its selector, namespaces and topology key. */
export interface AffinityTerm {
  selector: Selector;
  namespaces: Set<string>;
  /** Undefined: only `namespaces`; else namespaces whose labels it matches count too. */
  namespaceSelector?: Selector;
  topologyKey: string;
  /** A stable text for memoising per-node counts. */
  key: string;
}

const selectorCache = new Map<string, Selector>();
function cachedSelector(ls: PodAffinityTerm['labelSelector']): Selector {
  const k = JSON.stringify(ls ?? null);
  let s = selectorCache.get(k);
  if (!s) {
    try { s = labelSelectorFromObject(ls); } catch { s = labelSelectorFromObject(null); }
    if (selectorCache.size > 5000) selectorCache.clear();
    selectorCache.set(k, s);
  }
  return s;
}

export function affinityTerm(pod: Pod, term: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set<string>(term.namespaces ?? []);
  if (namespaces.size === 0 && !term.namespaceSelector) namespaces.add(pod.metadata?.namespace ?? 'default');
  const selector = cachedSelector(term.labelSelector);
  const namespaceSelector = term.namespaceSelector ? cachedSelector(term.namespaceSelector) : undefined;
  return {
    selector, namespaces, namespaceSelector, topologyKey: term.topologyKey,
    key: `${selector.toString()}|${[...namespaces].sort().join(',')}|${namespaceSelector?.toString() ?? '-'}`,
  };
}

export function termMatchesPod(t: AffinityTerm, pod: Pod, nsLabels: (ns: string) => Record<string, string> | undefined): boolean {
  const ns = pod.metadata?.namespace ?? 'default';
  if (!t.namespaces.has(ns)) {
    if (!t.namespaceSelector) return false;
    if (!t.namespaceSelector.empty() && !t.namespaceSelector.matches(nsLabels(ns) ?? {})) return false;
  }
  return t.selector.matches(pod.metadata?.labels);
}

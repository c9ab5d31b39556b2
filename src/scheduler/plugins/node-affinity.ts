import type { Pod, PreferredSchedulingTerm } from 'kubernetes-types/core/v1';
import { MAX_NODE_SCORE, Status, defaultNormalizeScore, type CycleState, type FilterPlugin, type NodeScore, type PreFilterPlugin, type PreFilterResult, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { nodeSelectorTermMatches, requiredNodeAffinityMatches } from '../helpers.js';

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
const PRESCORE_KEY = 'PreScoreNodeAffinity';

/** `spec.nodeSelector` and node affinity: required terms filter (all operators), preferred terms score by weight. */
export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'NodeAffinity';
  name(): string { return NodeAffinity.pluginName; }

  preFilter(_state: CycleState, pod: Pod) {
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!pod.spec?.nodeSelector && !required) return { status: Status.skip() };
    // Terms that only pin `metadata.name` In […] narrow the nodes to look at, as upstream's PreFilterResult.
    let result: PreFilterResult | undefined;
    const terms = required?.nodeSelectorTerms ?? [];
    if (terms.length) {
      const names = new Set<string>();
      let all = true;
      for (const t of terms) {
        const f = (t.matchFields ?? []).find((r) => r.key === 'metadata.name' && r.operator === 'In');
        if (!f) { all = false; break; }
        for (const v of f.values ?? []) names.add(v);
      }
      if (all) result = { nodeNames: names };
    }
    return { result, status: Status.success() };
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    return requiredNodeAffinityMatches(pod, nodeInfo.node) ? Status.success() : Status.unschedulableAndUnresolvable(ERR_REASON_POD);
  }

  preScore(state: CycleState, pod: Pod): Status {
    const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (!preferred.length) return Status.skip();
    state.write(PRESCORE_KEY, preferred);
    return Status.success();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    const preferred = state.read<PreferredSchedulingTerm[]>(PRESCORE_KEY) ?? [];
    let s = 0;
    for (const p of preferred) if (p.weight && nodeSelectorTermMatches(p.preference, nodeInfo.node)) s += p.weight;
    return s;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): void { defaultNormalizeScore(MAX_NODE_SCORE, false, scores); }
}

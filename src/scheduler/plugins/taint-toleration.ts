import type { Pod, Toleration } from 'kubernetes-types/core/v1';
import { MAX_NODE_SCORE, Status, defaultNormalizeScore, type CycleState, type FilterPlugin, type NodeScore, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { tolerates } from '../helpers.js';

const PRESCORE_KEY = 'PreScoreTaintToleration';

/**
 * Keeps pods off nodes whose NoSchedule/NoExecute taints they do not
 * tolerate; prefers nodes with fewer untolerated PreferNoSchedule taints.
 */
export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'TaintToleration';
  name(): string { return TaintToleration.pluginName; }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const taints = nodeInfo.node.spec?.taints;
    if (!taints) return Status.success();
    const taint = taints.find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec?.tolerations, t));
    return taint
      ? Status.unschedulableAndUnresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`)
      : Status.success();
  }

  preScore(state: CycleState, pod: Pod): Status {
    // Only tolerations that can apply to PreferNoSchedule count, as upstream's getAllTolerationPreferNoSchedule.
    state.write(PRESCORE_KEY, (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule'));
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const taints = nodeInfo.node.spec?.taints;
    if (!taints) return 0;
    const tols = state.read<Toleration[]>(PRESCORE_KEY) ?? pod.spec?.tolerations ?? [];
    let n = 0;
    for (const t of taints) if (t.effect === 'PreferNoSchedule' && !tolerates(tols, t)) n++;
    return n;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): void { defaultNormalizeScore(MAX_NODE_SCORE, true, scores); }
}

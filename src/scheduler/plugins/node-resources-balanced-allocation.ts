import type { Pod } from 'kubernetes-types/core/v1';
import { MAX_NODE_SCORE, Status, type CycleState, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import { PodInfo, type NodeInfo } from '../node-info.js';
import type { Resource } from '../resource.js';
import { resourceAmount, type ResourceSpec } from './node-resources-fit.js';

const STATE_KEY = 'PreScoreNodeResourcesBalancedAllocation';

/** Prefers nodes whose resources stay evenly used: score = (1 − std. deviation of the used fractions) × 100. */
export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'NodeResourcesBalancedAllocation';
  private readonly resources: ResourceSpec[];
  constructor(args: { resources?: ResourceSpec[] } = {}) {
    this.resources = args.resources?.length ? args.resources : [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }];
  }
  name(): string { return NodeResourcesBalancedAllocation.pluginName; }

  preScore(state: CycleState, pod: Pod): Status {
    state.write(STATE_KEY, new PodInfo(pod).requests);
    return Status.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const req = state.read<Resource>(STATE_KEY) ?? new PodInfo(pod).requests;
    const fractions: number[] = [];
    for (const r of this.resources) {
      const capacity = resourceAmount(nodeInfo.allocatable, r.name);
      if (capacity === 0) continue;
      const f = (resourceAmount(nodeInfo.requested, r.name) + resourceAmount(req, r.name)) / capacity;
      fractions.push(Math.min(1, f));
    }
    let std = 0;
    if (fractions.length === 2) std = Math.abs(fractions[0] - fractions[1]) / 2;
    else if (fractions.length > 2) {
      const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
      std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
    }
    return Math.floor((1 - std) * MAX_NODE_SCORE);
  }
}

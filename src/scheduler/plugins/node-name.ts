import type { Pod } from 'kubernetes-types/core/v1';
import { Status, type CycleState, type FilterPlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

/** A pod that names its node fits only there. */
export class NodeName implements FilterPlugin {
  static readonly pluginName = 'NodeName';
  name(): string { return NodeName.pluginName; }
  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const want = pod.spec?.nodeName;
    return !want || want === nodeInfo.name ? Status.success() : Status.unschedulableAndUnresolvable(ERR_REASON_NODE_NAME);
  }
}

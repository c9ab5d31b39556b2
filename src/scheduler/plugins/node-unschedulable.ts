import type { Pod } from 'kubernetes-types/core/v1';
import { Status, type CycleState, type FilterPlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { tolerates } from '../helpers.js';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
const TAINT_NODE_UNSCHEDULABLE = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** Keeps pods off cordoned nodes (`spec.unschedulable`) unless they tolerate the unschedulable taint. */
export class NodeUnschedulable implements FilterPlugin {
  static readonly pluginName = 'NodeUnschedulable';
  name(): string { return NodeUnschedulable.pluginName; }
  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.node.spec?.unschedulable) return Status.success();
    return tolerates(pod.spec?.tolerations, TAINT_NODE_UNSCHEDULABLE) ? Status.success() : Status.unschedulableAndUnresolvable(ERR_REASON_UNSCHEDULABLE);
  }
}

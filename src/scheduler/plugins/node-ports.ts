import type { Pod } from 'kubernetes-types/core/v1';
import { Status, type CycleState, type FilterPlugin, type PreFilterPlugin } from '../framework.js';
import { PodInfo, type HostPort, type NodeInfo } from '../node-info.js';

export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";
const STATE_KEY = 'PreFilterNodePorts';

/** A hostPort is taken on a node when the same protocol and port is bound on the same IP, or either side is 0.0.0.0. */
export function portsConflict(want: readonly HostPort[], nodeInfo: NodeInfo): boolean {
  for (const hp of want) {
    const ips = nodeInfo.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (!ips || ips.size === 0) continue;
    if (hp.ip === '0.0.0.0' || ips.has('0.0.0.0') || ips.has(hp.ip)) return true;
  }
  return false;
}

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  static readonly pluginName = 'NodePorts';
  name(): string { return NodePorts.pluginName; }
  preFilter(state: CycleState, pod: Pod) {
    const ports = new PodInfo(pod).hostPorts;
    if (ports.length === 0) return { status: Status.skip() };
    state.write(STATE_KEY, ports);
    return { status: Status.success() };
  }
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const ports = state.read<HostPort[]>(STATE_KEY) ?? new PodInfo(pod).hostPorts;
    return portsConflict(ports, nodeInfo) ? Status.unschedulable(ERR_REASON_NODE_PORTS) : Status.success();
  }
}

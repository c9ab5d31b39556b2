/** The in-tree plugins by name, as upstream's `plugins.NewInTreeRegistry`. */
import type { PluginFactory } from './framework.js';
import { DefaultBinder } from './plugins/default-binder.js';
import { ImageLocality } from './plugins/image-locality.js';
import { NodeAffinity } from './plugins/node-affinity.js';
import { NodeName } from './plugins/node-name.js';
import { NodePorts } from './plugins/node-ports.js';
import { NodeResourcesBalancedAllocation } from './plugins/node-resources-balanced-allocation.js';
import { NodeResourcesFit, type NodeResourcesFitArgs } from './plugins/node-resources-fit.js';
import { NodeUnschedulable } from './plugins/node-unschedulable.js';
import { PrioritySort } from './plugins/priority-sort.js';
import { TaintToleration } from './plugins/taint-toleration.js';
import { PodTopologySpread, type PodTopologySpreadArgs } from './plugins/pod-topology-spread.js';
import { InterPodAffinity } from './plugins/inter-pod-affinity.js';
import { DefaultPreemption } from './plugins/default-preemption.js';
import type { ResourceSpec } from './plugins/node-resources-fit.js';

export function inTreeRegistry(): Map<string, PluginFactory> {
  return new Map<string, PluginFactory>([
    [PrioritySort.pluginName, () => new PrioritySort()],
    [NodeName.pluginName, () => new NodeName()],
    [NodeUnschedulable.pluginName, () => new NodeUnschedulable()],
    [NodePorts.pluginName, () => new NodePorts()],
    [TaintToleration.pluginName, () => new TaintToleration()],
    [NodeAffinity.pluginName, () => new NodeAffinity()],
    [NodeResourcesFit.pluginName, (args) => new NodeResourcesFit(args as NodeResourcesFitArgs)],
    [NodeResourcesBalancedAllocation.pluginName, (args) => new NodeResourcesBalancedAllocation(args as { resources?: ResourceSpec[] })],
    [ImageLocality.pluginName, (_args, handle) => new ImageLocality(handle)],
    [PodTopologySpread.pluginName, (args, handle) => new PodTopologySpread(handle, args as PodTopologySpreadArgs)],
    [InterPodAffinity.pluginName, (args, handle) => new InterPodAffinity(handle, args as { hardPodAffinityWeight?: number })],
    [DefaultPreemption.pluginName, (_args, handle) => new DefaultPreemption(handle)],
    [DefaultBinder.pluginName, (_args, handle) => new DefaultBinder(handle.client)],
  ]);
}

/**
 * The part of the kubelet's Summary API (`GET /stats/summary`,
 * k8s.io/kubelet/pkg/apis/stats/v1alpha1) that resource metrics need:
 * cpu and working-set memory of the node, its pods and their containers.
 */

export interface CpuStats {
  time?: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

export interface MemoryStats {
  time?: string;
  workingSetBytes?: number;
  usageBytes?: number;
  availableBytes?: number;
  rssBytes?: number;
}

export interface ContainerStats {
  name: string;
  startTime?: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
}

export interface PodReference { name: string; namespace: string; uid: string }

export interface PodStats {
  podRef: PodReference;
  startTime?: string;
  containers?: ContainerStats[];
  cpu?: CpuStats;
  memory?: MemoryStats;
}

export interface NodeStats {
  nodeName: string;
  startTime?: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
}

export interface Summary {
  node: NodeStats;
  pods?: PodStats[];
}

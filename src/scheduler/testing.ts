/** Builders for the scheduler's unit tests: in-memory nodes, pods and a handle over them (no API server). */
import type { Node, Pod, PodSpec } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { CycleState, Status, type FrameworkHandle, type Plugin, type PreFilterPlugin, type FilterPlugin } from './framework.js';
import { NodeInfo, PodInfo } from './node-info.js';

let uid = 0;

export function testNode(name: string, o: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints']; unschedulable?: boolean; extra?: Record<string, string>; images?: Array<{ names: string[]; sizeBytes: number }> } = {}): Node {
  const alloc = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', 'ephemeral-storage': '10Gi', ...(o.extra ?? {}) };
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { allocatable: alloc, capacity: alloc, images: o.images },
  };
}

export function testPod(name: string, o: { cpu?: string; memory?: string; labels?: Record<string, string>; namespace?: string; nodeName?: string; priority?: number; spec?: Partial<PodSpec> } = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    metadata: { name, namespace: o.namespace ?? 'default', uid: `uid-${name}-${++uid}`, labels: o.labels ?? {} },
    spec: {
      containers: [{ name: 'c', image: 'pause', resources: { requests } }],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.spec ?? {}),
    },
  };
}

/** NodeInfos with the given pods placed by `spec.nodeName`. */
export function nodeInfos(nodes: Node[], pods: Pod[] = []): NodeInfo[] {
  const infos = nodes.map((n) => new NodeInfo(n));
  for (const p of pods) infos.find((i) => i.name === p.spec?.nodeName)?.addPod(new PodInfo(p));
  return infos;
}

export function testHandle(infos: NodeInfo[], filters: FilterPlugin[] = [], pdbs: PodDisruptionBudget[] = []): FrameworkHandle {
  return {
    podDisruptionBudgets: () => pdbs,
    nodeInfos: () => infos,
    nodeInfo: (n) => infos.find((i) => i.name === n),
    priorityOf: (p) => p.spec?.priority ?? 0,
    namespaceLabels: () => ({}),
    havePodsWithAffinity: () => infos.some((i) => i.podsWithAffinity.size > 0),
    havePodsWithRequiredAntiAffinity: () => infos.some((i) => i.podsWithRequiredAntiAffinity.size > 0),
    nodesGeneration: () => infos.reduce((a, i) => a + i.generation, 0),
    changedNodesSince: () => ({ seq: 0 }),
    runFilterPlugins: (state, pod, ni) => {
      for (const f of filters) { const st = f.filter(state, pod, ni); if (!st.isSuccess()) return st; }
      return Status.success();
    },
  };
}

/** PreFilter (when the plugin has one) then Filter on every node: node name → reasons ('' when it fits). */
export function filterAll(plugin: Plugin & Partial<PreFilterPlugin> & FilterPlugin, pod: Pod, infos: NodeInfo[]): Record<string, string> {
  const state = new CycleState();
  const out: Record<string, string> = {};
  if (plugin.preFilter) {
    const r = plugin.preFilter(state, pod, infos);
    if (r.status.isSkip()) { for (const i of infos) out[i.name] = ''; return out; }
    if (!r.status.isSuccess()) { for (const i of infos) out[i.name] = r.status.message(); return out; }
  }
  for (const i of infos) out[i.name] = plugin.filter(state, pod, i).message();
  return out;
}

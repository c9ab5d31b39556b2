/**
 * Every resource bosun serves, with what discovery says about it. The
 * registry, discovery, OpenAPI and RBAC-ish checks all read this one table.
 */

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface ResourceDefinition {
  group: string;            // '' for core
  version: string;
  resource: string;         // plural, e.g. 'pods'
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served besides the main one. */
  subresources?: Array<'status' | 'scale' | 'binding' | 'finalize' | 'eviction' | ConnectSubresource>;
  /** Storage is shared by every version of a group-resource; this is the
   *  version objects are stored in (e.g. autoscaling/v2 for HPAs). */
  storageVersion?: string;
  verbs?: Verb[];
}

/** Subresources answered by a kubelet (handlers/pod-streaming.ts), as upstream's "connect" REST storage. */
export type ConnectSubresource = 'log' | 'exec' | 'attach' | 'portforward' | 'proxy';
export const CONNECT_SUBRESOURCES: ReadonlySet<string> = new Set<ConnectSubresource>(['log', 'exec', 'attach', 'portforward', 'proxy']);

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceDefinition[] = [
  { group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'eviction', 'attach', 'exec', 'log', 'portforward'] },
  { group: '', version: 'v1', resource: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] },
  { group: '', version: 'v1', resource: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'] },
  { group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status', 'proxy'] },
  { group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: '', version: 'v1', resource: 'replicationcontrollers', singular: 'replicationcontroller', kind: 'ReplicationController', namespaced: true, shortNames: ['rc'], categories: ['all'], subresources: ['status', 'scale'] },
  { group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'] },
  { group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] },
  { group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] },
  { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: ['status'], storageVersion: 'v2' },
  { group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: ['status'], storageVersion: 'v2' },
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', namespaced: true },
  { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget', namespaced: true, shortNames: ['pdb'], subresources: ['status'] },
  { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', singular: 'priorityclass', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] },
];

export const verbsOf = (def: ResourceDefinition): Verb[] => def.verbs ?? ALL_VERBS;
export const apiVersionOf = (def: { group: string; version: string }) => (def.group ? `${def.group}/${def.version}` : def.version);

/** Group versions in preference order (first version of a group is preferred). */
export function groupVersions(): Array<{ group: string; versions: string[] }> {
  const groups = new Map<string, string[]>();
  for (const r of RESOURCES) {
    const versions = groups.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    groups.set(r.group, versions);
  }
  return [...groups].map(([group, versions]) => ({ group, versions }));
}

export function findResource(group: string, version: string, resource: string): ResourceDefinition | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

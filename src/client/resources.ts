import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import type {
  ConfigMap, Endpoints, Event, Namespace, Node, Pod, ReplicationController, Secret, Service, ServiceAccount,
} from 'kubernetes-types/core/v1';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Lease } from 'kubernetes-types/coordination/v1';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';

/** What every API object has; the typed objects of `kubernetes-types` all fit it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/**
 * Where a resource lives in the API, as client-go's GroupVersionResource plus
 * its scope. `T` only types what the client returns for it.
 */
export interface ResourceDescriptor<T extends KubeObject = KubeObject> {
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: `pods`, `deployments`. */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Never set: it carries the object type so `client.get(pods, …)` returns a `Pod`. */
  readonly __object?: T;
}

export function resource<T extends KubeObject>(d: Omit<ResourceDescriptor<T>, '__object'>): ResourceDescriptor<T> {
  return Object.freeze({ ...d });
}

export const apiVersionOf = (r: { group: string; version: string }): string => (r.group ? `${r.group}/${r.version}` : r.version);

const core = <T extends KubeObject>(plural: string, kind: string, namespaced = true) =>
  resource<T>({ group: '', version: 'v1', resource: plural, kind, namespaced });

export const namespaces = core<Namespace>('namespaces', 'Namespace', false);
export const nodes = core<Node>('nodes', 'Node', false);
export const pods = core<Pod>('pods', 'Pod');
export const services = core<Service>('services', 'Service');
export const endpoints = core<Endpoints>('endpoints', 'Endpoints');
export const configmaps = core<ConfigMap>('configmaps', 'ConfigMap');
export const secrets = core<Secret>('secrets', 'Secret');
export const events = core<Event>('events', 'Event');
export const serviceaccounts = core<ServiceAccount>('serviceaccounts', 'ServiceAccount');
export const replicationcontrollers = core<ReplicationController>('replicationcontrollers', 'ReplicationController');
export const deployments = resource<Deployment>({ group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true });
export const replicasets = resource<ReplicaSet>({ group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true });
export const horizontalpodautoscalers = resource<HorizontalPodAutoscaler>({ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true });
export const endpointslices = resource<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true });
export const leases = resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true });
export const priorityclasses = resource<PriorityClass>({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', kind: 'PriorityClass', namespaced: false });
export const poddisruptionbudgets = resource<PodDisruptionBudget>({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true });

/** The cache key client-go uses: `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** The inverse of `keyOf`: names never contain `/`, so the split is unambiguous. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

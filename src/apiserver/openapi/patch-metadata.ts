/**
 * Strategic-merge-patch and server-side-apply metadata that upstream's
 * OpenAPI spec carries (from the `patchStrategy`/`patchMergeKey` struct tags
 * and the `+listType`/`+listMapKey`/`+mapType` markers of k8s.io/api) but the
 * typed package we generate schemas from does not. scripts/gen-openapi.ts
 * stamps it onto the generated definitions, so that kubectl's client-side
 * apply, `kubectl explain` and our own patch code all read one source.
 *
 * Facts are those of upstream's published spec for v1.30 (api/openapi-spec in
 * kubernetes/kubernetes); where an entry below says "atomic" it is because
 * upstream marks it so, which matters to server-side apply, not to strategic
 * merge patch (a list without a patch strategy is replaced wholesale by SMP).
 */
import type { JsonSchema } from './schema-lookup.js';

export interface FieldPatchMetadata {
  /** `x-kubernetes-patch-merge-key` */
  mergeKey?: string;
  /** `x-kubernetes-patch-strategy`: 'merge', 'retainKeys' or 'merge,retainKeys' */
  strategy?: 'merge' | 'retainKeys' | 'merge,retainKeys' | 'replace';
  /** `x-kubernetes-list-type` */
  listType?: 'atomic' | 'set' | 'map';
  /** `x-kubernetes-list-map-keys` (only with listType 'map') */
  listMapKeys?: string[];
  /** `x-kubernetes-map-type` on a map-valued field */
  mapType?: 'atomic' | 'granular';
}

const CORE = 'io.k8s.api.core.v1.';
const APPS = 'io.k8s.api.apps.v1.';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

/** A keyed, merged list: the common shape (`+patchStrategy=merge`, `+listType=map`). */
const mergeMap = (...keys: string[]): FieldPatchMetadata => ({
  mergeKey: keys[0], strategy: 'merge', listType: 'map', listMapKeys: keys,
});
/** `conditions` lists everywhere are keyed by `type`. */
const conditions = mergeMap('type');
const atomic: FieldPatchMetadata = { listType: 'atomic' };

const containerLists: Record<string, FieldPatchMetadata> = {
  ports: mergeMap('containerPort', 'protocol'),
  env: mergeMap('name'),
  volumeMounts: mergeMap('mountPath'),
  volumeDevices: mergeMap('devicePath'),
  envFrom: atomic,
  args: atomic,
  command: atomic,
  resizePolicy: atomic,
};

/**
 * Definition name → field → metadata. Arrays of io.k8s.api.* types that are
 * not named here are stamped `x-kubernetes-list-type: atomic` by the
 * generator (upstream marks every remaining built-in list atomic).
 */
export const FIELD_PATCH_METADATA: Record<string, Record<string, FieldPatchMetadata>> = {
  // ---- meta/v1
  [`${META}ObjectMeta`]: {
    finalizers: { strategy: 'merge', listType: 'set' },
    ownerReferences: mergeMap('uid'),
    managedFields: atomic,
  },
  [`${META}LabelSelector`]: { matchExpressions: atomic },
  [`${META}LabelSelectorRequirement`]: { values: atomic },
  [`${META}StatusDetails`]: { causes: atomic },

  // ---- core/v1: pods
  [`${CORE}PodSpec`]: {
    volumes: { mergeKey: 'name', strategy: 'merge,retainKeys', listType: 'map', listMapKeys: ['name'] },
    initContainers: mergeMap('name'),
    containers: mergeMap('name'),
    ephemeralContainers: mergeMap('name'),
    imagePullSecrets: mergeMap('name'),
    hostAliases: mergeMap('ip'),
    topologySpreadConstraints: mergeMap('topologyKey', 'whenUnsatisfiable'),
    resourceClaims: { mergeKey: 'name', strategy: 'merge,retainKeys', listType: 'map', listMapKeys: ['name'] },
    schedulingGates: mergeMap('name'),
    tolerations: atomic,
    readinessGates: atomic,
    nodeSelector: { mapType: 'atomic' },
  },
  [`${CORE}Container`]: containerLists,
  [`${CORE}EphemeralContainer`]: containerLists,
  [`${CORE}PodStatus`]: {
    conditions,
    podIPs: mergeMap('ip'),
    // upstream keeps the SMP merge key but declares the list atomic for SSA
    hostIPs: { mergeKey: 'ip', strategy: 'merge', listType: 'atomic' },
    resourceClaimStatuses: { mergeKey: 'name', strategy: 'merge,retainKeys', listType: 'map', listMapKeys: ['name'] },
    initContainerStatuses: atomic,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
  },
  [`${CORE}PodSecurityContext`]: { supplementalGroups: atomic, sysctls: atomic },
  [`${CORE}ResourceRequirements`]: { claims: { listType: 'map', listMapKeys: ['name'] } },
  [`${CORE}PodDNSConfig`]: { nameservers: atomic, searches: atomic, options: atomic },
  [`${CORE}HostAlias`]: { hostnames: atomic },

  // ---- core/v1: nodes
  [`${CORE}NodeSpec`]: {
    podCIDRs: { strategy: 'merge', listType: 'set' },
    taints: atomic,
  },
  [`${CORE}NodeStatus`]: {
    conditions,
    addresses: mergeMap('type'),
    images: atomic,
    volumesInUse: atomic,
    volumesAttached: atomic,
  },

  // ---- core/v1: services and endpoints
  [`${CORE}ServiceSpec`]: {
    ports: mergeMap('port', 'protocol'),
    selector: { mapType: 'atomic' },
    clusterIPs: atomic,
    externalIPs: atomic,
    loadBalancerSourceRanges: atomic,
    ipFamilies: atomic,
  },
  [`${CORE}ServiceStatus`]: { conditions },
  [`${CORE}Endpoints`]: { subsets: atomic },
  [`${CORE}EndpointSubset`]: { addresses: atomic, notReadyAddresses: atomic, ports: atomic },

  // ---- core/v1: others with keyed lists
  [`${CORE}ServiceAccount`]: { secrets: mergeMap('name'), imagePullSecrets: atomic },
  [`${CORE}NamespaceStatus`]: { conditions },
  [`${CORE}ReplicationControllerSpec`]: { selector: { mapType: 'atomic' } },
  [`${CORE}ReplicationControllerStatus`]: { conditions },
  [`${CORE}PersistentVolumeClaimStatus`]: { conditions },
  [`${CORE}ComponentStatus`]: { conditions },

  // ---- apps/v1
  [`${APPS}DeploymentSpec`]: { strategy: { strategy: 'retainKeys' } },
  [`${APPS}DeploymentStatus`]: { conditions },
  [`${APPS}ReplicaSetStatus`]: { conditions },
  [`${APPS}StatefulSetStatus`]: { conditions },
  [`${APPS}DaemonSetStatus`]: { conditions },

  // ---- autoscaling
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': { conditions },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec': { metrics: atomic },

  // ---- batch/v1: upstream keeps the SMP merge key on an atomic list
  'io.k8s.api.batch.v1.JobStatus': { conditions: { mergeKey: 'type', strategy: 'merge', listType: 'atomic' } },

  // ---- policy/v1
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': { conditions },

  // ---- discovery/v1
  'io.k8s.api.discovery.v1.Endpoint': { addresses: { listType: 'set' } },

  // ---- apiextensions/v1
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
};

/** Structs upstream marks `+structType=atomic` / `+mapType=atomic`: SSA replaces them whole. */
export const ATOMIC_STRUCTS: readonly string[] = [
  `${META}LabelSelector`,
  `${CORE}LocalObjectReference`,
  `${CORE}ObjectReference`,
  `${CORE}TypedLocalObjectReference`,
  `${CORE}NodeSelector`,
  `${CORE}NodeSelectorTerm`,
  `${CORE}TopologySelectorTerm`,
  `${CORE}ConfigMapKeySelector`,
  `${CORE}SecretKeySelector`,
  `${CORE}ObjectFieldSelector`,
  `${CORE}ResourceFieldSelector`,
  `${CORE}SecretReference`,
  `${CORE}ScopeSelector`,
];

function stamp(schema: JsonSchema, meta: FieldPatchMetadata): void {
  if (meta.mergeKey) schema['x-kubernetes-patch-merge-key'] = meta.mergeKey;
  if (meta.strategy) schema['x-kubernetes-patch-strategy'] = meta.strategy;
  if (meta.listType) schema['x-kubernetes-list-type'] = meta.listType;
  if (meta.listMapKeys) schema['x-kubernetes-list-map-keys'] = [...meta.listMapKeys];
  if (meta.mapType) schema['x-kubernetes-map-type'] = meta.mapType;
}

/**
 * Stamps the table onto `definitions` in place. Returns the entries that name
 * a definition or field the definitions lack, so that the generator can fail
 * loudly when the typed package and this table drift apart.
 */
export function applyPatchMetadata(definitions: Record<string, JsonSchema>): string[] {
  const missing: string[] = [];
  for (const [defName, fields] of Object.entries(FIELD_PATCH_METADATA)) {
    const def = definitions[defName];
    if (!def) { missing.push(defName); continue; }
    for (const [field, meta] of Object.entries(fields)) {
      const prop = def.properties?.[field];
      if (!prop) { missing.push(`${defName}.${field}`); continue; }
      stamp(prop, meta);
    }
  }
  for (const defName of ATOMIC_STRUCTS) {
    const def = definitions[defName];
    if (def) def['x-kubernetes-map-type'] = 'atomic';
    else missing.push(defName);
  }
  // Every other list of a built-in API type is atomic upstream; lists of
  // meta/discovery documents and the `items` of List kinds carry no marker.
  for (const [defName, def] of Object.entries(definitions)) {
    if (!defName.startsWith('io.k8s.api.')) continue;
    const isListKind = defName.endsWith('List') && def.properties?.items !== undefined;
    for (const [field, prop] of Object.entries(def.properties ?? {})) {
      if (prop.type !== 'array' || prop['x-kubernetes-list-type']) continue;
      if (isListKind && field === 'items') continue;
      prop['x-kubernetes-list-type'] = 'atomic';
    }
  }
  return missing;
}

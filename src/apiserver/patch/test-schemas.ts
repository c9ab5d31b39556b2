/**
 * A small hand-written slice of upstream's OpenAPI definitions for the patch
 * tests: enough of Deployment, Pod, Service, ConfigMap and ObjectMeta to
 * carry every kind of merge rule, written in both of upstream's shapes (a
 * property that is a bare `$ref`, and OpenAPI v3's `allOf: [{$ref}]` with the
 * extensions beside it).
 */
import type { JsonSchema, SchemaLookup } from '../openapi/schema-lookup.js';

const ref = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });
const wrapped = (name: string, extra: JsonSchema = {}): JsonSchema => ({ allOf: [ref(name)], ...extra });
const str: JsonSchema = { type: 'string' };
const stringMap: JsonSchema = { type: 'object', additionalProperties: str };
const mergeList = (item: JsonSchema, key: string, strategy = 'merge'): JsonSchema => ({
  type: 'array', items: item, 'x-kubernetes-patch-merge-key': key, 'x-kubernetes-patch-strategy': strategy,
  'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [key],
});
const gvk = (group: string, version: string, kind: string) => ({ 'x-kubernetes-group-version-kind': [{ group, version, kind }] });

export const TEST_DEFINITIONS: Record<string, JsonSchema> = {
  ObjectMeta: {
    type: 'object',
    properties: {
      name: str, namespace: str, labels: stringMap, annotations: stringMap,
      finalizers: { type: 'array', items: str, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' },
      ownerReferences: mergeList(ref('OwnerReference'), 'uid'),
    },
  },
  OwnerReference: { type: 'object', properties: { uid: str, name: str, kind: str } },

  Deployment: {
    type: 'object', ...gvk('apps', 'v1', 'Deployment'),
    properties: { apiVersion: str, kind: str, metadata: wrapped('ObjectMeta'), spec: wrapped('DeploymentSpec'), status: { type: 'object' } },
  },
  DeploymentSpec: {
    type: 'object',
    properties: {
      replicas: { type: 'integer' },
      paused: { type: 'boolean' },
      selector: wrapped('LabelSelector'),
      template: wrapped('PodTemplateSpec'),
      strategy: wrapped('DeploymentStrategy', { 'x-kubernetes-patch-strategy': 'retainKeys' }),
    },
  },
  DeploymentStrategy: { type: 'object', properties: { type: str, rollingUpdate: ref('RollingUpdateDeployment') } },
  RollingUpdateDeployment: { type: 'object', properties: { maxSurge: str, maxUnavailable: str } },
  LabelSelector: { type: 'object', properties: { matchLabels: stringMap }, 'x-kubernetes-map-type': 'atomic' },
  PodTemplateSpec: { type: 'object', properties: { metadata: wrapped('ObjectMeta'), spec: wrapped('PodSpec') } },

  Pod: {
    type: 'object', ...gvk('', 'v1', 'Pod'),
    properties: { apiVersion: str, kind: str, metadata: wrapped('ObjectMeta'), spec: wrapped('PodSpec'), status: wrapped('PodStatus') },
  },
  PodSpec: {
    type: 'object',
    properties: {
      containers: mergeList(ref('Container'), 'name'),
      initContainers: mergeList(ref('Container'), 'name'),
      volumes: mergeList(ref('Volume'), 'name', 'merge,retainKeys'),
      tolerations: { type: 'array', items: ref('Toleration'), 'x-kubernetes-list-type': 'atomic' },
      imagePullSecrets: mergeList(ref('LocalObjectReference'), 'name'),
      nodeSelector: { ...stringMap, 'x-kubernetes-map-type': 'atomic' },
      nodeName: str,
      hostAliases: mergeList(ref('HostAlias'), 'ip'),
    },
  },
  Container: {
    type: 'object',
    properties: {
      name: str, image: str,
      args: { type: 'array', items: str },
      env: mergeList(ref('EnvVar'), 'name'),
      ports: mergeList(ref('ContainerPort'), 'containerPort'),
      volumeMounts: mergeList(ref('VolumeMount'), 'mountPath'),
      resources: wrapped('ResourceRequirements'),
    },
  },
  EnvVar: { type: 'object', properties: { name: str, value: str } },
  ContainerPort: { type: 'object', properties: { containerPort: { type: 'integer' }, name: str, protocol: str } },
  VolumeMount: { type: 'object', properties: { mountPath: str, name: str } },
  ResourceRequirements: { type: 'object', properties: { limits: stringMap, requests: stringMap } },
  Volume: { type: 'object', properties: { name: str, emptyDir: { type: 'object' }, configMap: ref('ConfigMapVolumeSource') } },
  ConfigMapVolumeSource: { type: 'object', properties: { name: str } },
  Toleration: { type: 'object', properties: { key: str, operator: str, effect: str } },
  LocalObjectReference: { type: 'object', properties: { name: str } },
  HostAlias: { type: 'object', properties: { ip: str, hostnames: { type: 'array', items: str } } },
  PodStatus: {
    type: 'object',
    properties: { phase: str, conditions: mergeList(ref('PodCondition'), 'type') },
  },
  PodCondition: { type: 'object', properties: { type: str, status: str } },

  Service: {
    type: 'object', ...gvk('', 'v1', 'Service'),
    properties: { apiVersion: str, kind: str, metadata: wrapped('ObjectMeta'), spec: wrapped('ServiceSpec') },
  },
  ServiceSpec: {
    type: 'object',
    properties: { ports: mergeList(ref('ServicePort'), 'port'), selector: { ...stringMap, 'x-kubernetes-map-type': 'atomic' }, type: str },
  },
  ServicePort: { type: 'object', properties: { port: { type: 'integer' }, name: str, targetPort: { 'x-kubernetes-int-or-string': true } } },

  ConfigMap: {
    type: 'object', ...gvk('', 'v1', 'ConfigMap'),
    properties: { apiVersion: str, kind: str, metadata: wrapped('ObjectMeta'), data: stringMap },
  },

  Scale: {
    type: 'object', ...gvk('autoscaling', 'v1', 'Scale'),
    properties: { apiVersion: str, kind: str, metadata: wrapped('ObjectMeta'), spec: { type: 'object', properties: { replicas: { type: 'integer' } } } },
  },
};

/** A SchemaLookup over a definitions map, resolving `$ref` and single `allOf`. */
export function lookupOver(definitions: Record<string, JsonSchema>): SchemaLookup {
  const resolve = (schema: JsonSchema): JsonSchema => {
    let current = schema;
    for (;;) {
      if (current.$ref) {
        const target = definitions[current.$ref.replace('#/definitions/', '')];
        if (!target) throw new Error(`unknown $ref ${current.$ref}`);
        current = target;
      } else if (current.allOf?.length === 1 && !current.properties) {
        current = current.allOf[0];
      } else {
        return current;
      }
    }
  };
  return {
    forKind: (group, version, kind) => Object.values(definitions).find((d) =>
      d['x-kubernetes-group-version-kind']?.some((g) => g.group === group && g.version === version && g.kind === kind)),
    resolve,
  };
}

export const testSchemas: SchemaLookup = lookupOver(TEST_DEFINITIONS);

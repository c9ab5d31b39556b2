import type { HorizontalPodAutoscaler as HpaV1 } from 'kubernetes-types/autoscaling/v1';
import type { HorizontalPodAutoscaler as HpaV2 } from 'kubernetes-types/autoscaling/v2';
import { apiVersionOf, type ResourceDefinition } from '../resources.js';
import type { KubeObject } from '../strategy.js';
import { hpaV1ToV2, hpaV2ToV1 } from './hpa.js';

/** Objects are stored in one version per group-resource; other versions are views. */
const storageVersion = (def: ResourceDefinition) => def.storageVersion ?? def.version;

export function convertToStorage(def: ResourceDefinition, obj: KubeObject): KubeObject {
  if (def.version === storageVersion(def)) return obj;
  if (def.group === 'autoscaling' && def.resource === 'horizontalpodautoscalers' && def.version === 'v1') {
    return hpaV1ToV2(obj as HpaV1) as KubeObject;
  }
  return { ...obj, apiVersion: apiVersionOf({ group: def.group, version: storageVersion(def) }) };
}

export function convertFromStorage(def: ResourceDefinition, obj: KubeObject): KubeObject {
  if (def.version === storageVersion(def)) return obj;
  if (def.group === 'autoscaling' && def.resource === 'horizontalpodautoscalers' && def.version === 'v1') {
    return hpaV2ToV1(obj as HpaV2) as KubeObject;
  }
  return { ...obj, apiVersion: apiVersionOf(def) };
}

import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import type { FieldError } from '../../api/status.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../api/validation/metadata.js';
import { nameIsDNSSubdomain, type NameValidator } from '../../api/validation/names.js';
import type { KubeObject } from '../strategy.js';

/** A typed kind that the generic registry can hold. */
export type Obj<T> = T & KubeObject;

/** Status changes go through /status: a main-resource update keeps the stored status. */
export function keepStatus(obj: KubeObject, old: KubeObject): void {
  if (old.status === undefined) delete obj.status;
  else obj.status = structuredClone(old.status);
}

/** A /status update may not touch the spec. */
export function keepSpec(obj: KubeObject, old: KubeObject): void {
  if (old.spec === undefined) delete obj.spec;
  else obj.spec = structuredClone(old.spec);
}

/** Some status strategies also restore one metadata field (labels, ownerReferences). */
export function keepMetadataField<K extends keyof ObjectMeta>(obj: KubeObject, old: KubeObject, field: K): void {
  const meta = (obj.metadata ??= {});
  const value = old.metadata?.[field];
  if (value === undefined) delete meta[field];
  else meta[field] = structuredClone(value);
}

/** ObjectMeta validation for a namespaced kind whose names are DNS subdomains unless said otherwise. */
export const validateNamespacedMeta = (obj: KubeObject, nameFn: NameValidator = nameIsDNSSubdomain): FieldError[] =>
  validateObjectMeta(obj.metadata, { namespaced: true, nameFn });

export const validateClusterMeta = (obj: KubeObject, nameFn: NameValidator = nameIsDNSSubdomain): FieldError[] =>
  validateObjectMeta(obj.metadata, { namespaced: false, nameFn });

export const validateMetaUpdate = (obj: KubeObject, old: KubeObject): FieldError[] =>
  validateObjectMetaUpdate(obj.metadata, old.metadata);

/** Upstream's field selectors give booleans and numbers as Go prints them. */
export const str = (v: string | number | boolean | undefined, fallback = ''): string => (v === undefined ? fallback : String(v));

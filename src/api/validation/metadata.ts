import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1';
import type { FieldError } from '../status.js';
import { semanticEqual } from './equality.js';
import { FIELD_IMMUTABLE_ERROR, forbidden, invalid, invalidEach, required, tooLong, validateNonnegative } from './errors.js';
import { validateLabels } from './labels.js';
import { isQualifiedName, validateNamespaceName, type NameValidator } from './names.js';
import { child, index } from './path.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

/** Finalizers without a `/` that Kubernetes itself understands. */
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** Kinds that may not own anything: only core/v1 Event, as upstream. */
const BANNED_OWNERS = new Set(['v1/Event']);

export interface ObjectMetaRules {
  /** Namespaced kinds require metadata.namespace; cluster-scoped ones forbid it. */
  namespaced: boolean;
  /** The kind's rule for names (DNS subdomain for most). */
  nameFn: NameValidator;
}

/**
 * ValidateObjectMeta (core flavour: kube finalizer names too), for a create.
 * Name generation has already happened, so `name` must be set.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, rules: ObjectMetaRules, field = 'metadata'): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  if (m.generateName) errs.push(...invalidEach(child(field, 'generateName'), m.generateName, rules.nameFn(m.generateName, true)));
  if (!m.name) errs.push(required(child(field, 'name'), 'name or generateName is required'));
  else errs.push(...invalidEach(child(field, 'name'), m.name, rules.nameFn(m.name, false)));

  if (rules.namespaced) {
    if (!m.namespace) errs.push(required(child(field, 'namespace')));
    else errs.push(...invalidEach(child(field, 'namespace'), m.namespace, validateNamespaceName(m.namespace, false)));
  } else if (m.namespace) {
    errs.push(forbidden(child(field, 'namespace'), 'not allowed on this type'));
  }
  errs.push(...validateNonnegative(m.generation, child(field, 'generation')));
  errs.push(...validateLabels(m.labels, child(field, 'labels')));
  errs.push(...validateAnnotations(m.annotations, child(field, 'annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, child(field, 'ownerReferences')));
  errs.push(...validateFinalizers(m.finalizers, child(field, 'finalizers')));
  return errs;
}

/**
 * ValidateObjectMetaUpdate, minus what the registry already enforces or
 * what `validateObjectMeta` reports on every write (labels, annotations…):
 * the fields that may never change, and no new finalizers while deleting.
 */
export function validateObjectMetaUpdate(meta: ObjectMeta | undefined, old: ObjectMeta | undefined, field = 'metadata'): FieldError[] {
  const m = meta ?? {};
  const o = old ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const added = (m.finalizers ?? []).filter((f) => !(o.finalizers ?? []).includes(f));
    if (added.length) {
      errs.push(forbidden(child(field, 'finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify([...new Set(added)].sort())}`));
    }
  }
  if ((m.generation ?? 0) < (o.generation ?? 0)) errs.push(invalid(child(field, 'generation'), m.generation ?? 0, 'must not be decremented'));
  const immutable: Array<keyof ObjectMeta> = ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'];
  for (const k of immutable) errs.push(...validateImmutableField(m[k], o[k], child(field, k)));
  return errs;
}

/** ValidateImmutableField: `Invalid value: <new>: field is immutable`. */
export const validateImmutableField = (value: unknown, old: unknown, field: string): FieldError[] =>
  semanticEqual(value, old) ? [] : [invalid(field, value ?? '', FIELD_IMMUTABLE_ERROR)];

/** Keys are qualified names (case-insensitively); keys and values together fit in 256 KiB. */
export function validateAnnotations(annotations: Record<string, string> | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    errs.push(...invalidEach(field, k, isQualifiedName(k.toLowerCase())));
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) errs.push(tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errs;
}

/** Upstream reports owner reference problems at the list's path, unindexed. */
export function validateOwnerReferences(refs: OwnerReference[] | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of refs ?? []) {
    errs.push(...validateOwnerReference(ref, field));
    if (ref.controller) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController) {
        errs.push(invalid(field, refs, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`));
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

function validateOwnerReference(ref: OwnerReference, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const apiVersion = ref.apiVersion ?? '';
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (!version) errs.push(invalid(child(field, 'apiVersion'), apiVersion, 'version must not be empty'));
  if (!ref.kind) errs.push(invalid(child(field, 'kind'), ref.kind ?? '', 'must not be empty'));
  if (!ref.name) errs.push(invalid(child(field, 'name'), ref.name ?? '', 'must not be empty'));
  if (!ref.uid) errs.push(invalid(child(field, 'uid'), ref.uid ?? '', 'must not be empty'));
  if (BANNED_OWNERS.has(`${group ? `${group}/` : ''}${version}/${ref.kind}`)) {
    errs.push(invalid(field, ref, `${group}/${version}, Kind=${ref.kind} is disallowed from being an owner`));
  }
  return errs;
}

/**
 * ValidateFinalizers plus core's rule that a finalizer without a `/` is one
 * Kubernetes defines (reported per index, as upstream).
 */
export function validateFinalizers(finalizers: string[] | undefined, field: string): FieldError[] {
  const list = finalizers ?? [];
  const errs: FieldError[] = [];
  for (const f of list) errs.push(...invalidEach(field, f, isQualifiedName(f)));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(invalid(field, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  list.forEach((f, i) => errs.push(...validateKubeFinalizerName(f, index(field, i))));
  return errs;
}

/** A finalizer name: qualified, and either fully qualified or a standard one. */
export const validateFinalizerName = (name: string, field: string): FieldError[] =>
  [...invalidEach(field, name, isQualifiedName(name)), ...validateKubeFinalizerName(name, field)];

function validateKubeFinalizerName(name: string, field: string): FieldError[] {
  if (name.includes('/') || STANDARD_FINALIZERS.has(name)) return [];
  return [invalid(field, name, 'name is neither a standard finalizer name nor is it fully qualified')];
}

import type { Container, Pod, PodSpec, Toleration } from 'kubernetes-types/core/v1';
import type { FieldError } from '../status.js';
import { semanticEqual } from './equality.js';
import { forbidden, inclusiveRangeError, invalid, required } from './errors.js';
import { validateImmutableField } from './metadata.js';
import { isDNS1123Subdomain } from './names.js';
import { validateIP } from './ip.js';
import { validateTolerations } from './pod-spec.js';

const MAX_INT32 = 2147483647;

/** Upstream's list, word for word: users search for this message. */
const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/**
 * ValidatePodUpdate's update-only part (the spec itself is validated by
 * `validatePod`): a pod's spec is fixed once created, except images, a
 * shrinking activeDeadlineSeconds, added tolerations and removed gates.
 */
export function validatePodSpecUpdate(pod: Pod, old: Pod): FieldError[] {
  const spec: Partial<PodSpec> = pod.spec ?? {};
  const oldSpec: Partial<PodSpec> = old.spec ?? {};
  const errs: FieldError[] = [];
  for (const list of ['containers', 'initContainers'] as const) {
    const { errors, stop } = validateContainerUpdates(spec[list], oldSpec[list], `spec.${list}`);
    errs.push(...errors);
    if (stop) return errs;
  }

  if (spec.activeDeadlineSeconds !== undefined) {
    const v = spec.activeDeadlineSeconds;
    if (v < 0 || v > MAX_INT32) return [...errs, invalid('spec.activeDeadlineSeconds', v, inclusiveRangeError(0, MAX_INT32))];
    if (oldSpec.activeDeadlineSeconds !== undefined && oldSpec.activeDeadlineSeconds < v) {
      return [...errs, invalid('spec.activeDeadlineSeconds', v, 'must be less than or equal to previous value')];
    }
  } else if (oldSpec.activeDeadlineSeconds !== undefined) {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(spec.tolerations ?? [], oldSpec.tolerations ?? [], 'spec.tolerations'));
  const oldGates = new Set((oldSpec.schedulingGates ?? []).map((g) => g.name));
  (spec.schedulingGates ?? []).forEach((g, i) => {
    if (!oldGates.has(g.name)) errs.push(forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${g.name}'`));
  });
  if (semanticEqual(spec, oldSpec)) return errs;

  // Set the updatable fields back to their old values; whatever still differs was not allowed.
  const munged: Partial<PodSpec> = structuredClone(spec);
  munged.containers = (munged.containers ?? []).map((c, i) => ({ ...c, image: oldSpec.containers?.[i]?.image ?? '' }));
  if (munged.initContainers) munged.initContainers = munged.initContainers.map((c, i) => ({ ...c, image: oldSpec.initContainers?.[i]?.image ?? '' }));
  if (oldSpec.activeDeadlineSeconds !== undefined) munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds; else delete munged.activeDeadlineSeconds;
  setOrDelete(munged, 'schedulingGates', oldSpec.schedulingGates);
  setOrDelete(munged, 'tolerations', oldSpec.tolerations);
  if ((oldSpec.terminationGracePeriodSeconds ?? 0) < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  if (oldSpec.schedulingGates?.length) {
    // A gated pod may gain node selector terms (the scheduler has not looked yet).
    const added = Object.entries(oldSpec.nodeSelector ?? {}).every(([k, v]) => munged.nodeSelector?.[k] === v);
    if (!added) errs.push(invalid('spec.nodeSelector', munged.nodeSelector ?? {}, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
    setOrDelete(munged, 'nodeSelector', oldSpec.nodeSelector);
  }
  if (!semanticEqual(munged, oldSpec)) {
    errs.push(forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${specDiff(oldSpec, munged)}`));
  }
  return errs;
}

function setOrDelete<K extends keyof PodSpec>(spec: Partial<PodSpec>, k: K, value: PodSpec[K] | undefined): void {
  if (value === undefined) delete spec[k]; else spec[k] = value;
}

function validateContainerUpdates(now: Container[] | undefined, before: Container[] | undefined, field: string): { errors: FieldError[]; stop: boolean } {
  if ((now ?? []).length !== (before ?? []).length) return { errors: [forbidden(field, 'pod updates may not add or remove containers')], stop: true };
  const errors: FieldError[] = [];
  (now ?? []).forEach((c, i) => {
    if (!c.image) errors.push(required(`${field}[${i}].image`));
    if (c.image !== undefined && c.image.trim() !== c.image) errors.push(invalid(`${field}[${i}].image`, c.image, 'must not have leading or trailing whitespace'));
  });
  return { errors, stop: false };
}

/** Existing tolerations may only change their tolerationSeconds. */
function validateOnlyAddedTolerations(now: Toleration[], before: Toleration[], field: string): FieldError[] {
  for (const old of before) {
    const found = now.some((t) => semanticEqual({ ...old, tolerationSeconds: t.tolerationSeconds }, t));
    if (!found) return [forbidden(field, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(now, field);
}

/**
 * ValidatePodStatusUpdate's rules that still apply once the spec is kept:
 * QoS class is fixed at creation, IPs must be IPs, a nominated node a name.
 */
export function validatePodStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  if (pod.spec?.nodeName !== old.spec?.nodeName) errs.push(forbidden('status.nodeName', 'may not be changed directly'));
  const nominated = pod.status?.nominatedNodeName;
  if (nominated && nominated !== old.status?.nominatedNodeName) {
    for (const msg of isDNS1123Subdomain(nominated)) errs.push(invalid('status.nominatedNodeName', nominated, msg));
  }
  if (old.status?.qosClass) errs.push(...validateImmutableField(pod.status?.qosClass, old.status.qosClass, 'status.qosClass'));
  (pod.status?.podIPs ?? []).forEach((p, i) => errs.push(...validateIP(p.ip ?? '', `status.podIPs[${i}]`)));
  (pod.status?.hostIPs ?? []).forEach((p, i) => errs.push(...validateIP(p.ip ?? '', `status.hostIPs[${i}]`)));
  return errs;
}

/**
 * A readable account of what changed, in the spirit of upstream's cmp.Diff
 * (its exact rendering of Go structs is not reproducible here).
 */
function specDiff(before: unknown, after: unknown): string {
  const lines: string[] = ['  core.PodSpec{'];
  walk(before, after, '', lines);
  lines.push('  }');
  return lines.join('\n');
}

function walk(a: unknown, b: unknown, path: string, out: string[]): void {
  if (semanticEqual(a, b)) return;
  const objects = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null;
  if (objects && Array.isArray(a) === Array.isArray(b) && !(Array.isArray(a) && Array.isArray(b) && a.length !== b.length)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      walk(ra[k], rb[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k, out);
    }
    return;
  }
  out.push(`- \t${path}: ${JSON.stringify(a ?? null)},`);
  out.push(`+ \t${path}: ${JSON.stringify(b ?? null)},`);
}

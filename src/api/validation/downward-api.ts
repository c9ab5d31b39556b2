import type { ObjectFieldSelector, ResourceFieldSelector } from 'kubernetes-types/core/v1';
import type { FieldError } from '../status.js';
import { invalid, invalidEach, notSupported, required } from './errors.js';
import { isQualifiedName } from './names.js';
import { child } from './path.js';
import { tryParseQuantity, formatQuantity } from './quantity.js';

/** Field paths core/v1 can convert at all (podshelper.ConvertDownwardAPIFieldLabel). */
const CONVERTIBLE_FIELDS = new Set([
  'metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid',
  'spec.nodeName', 'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName',
  'status.phase', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
]);

export const ENV_DOWNWARD_API_FIELDS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
].sort();
export const VOLUME_DOWNWARD_API_FIELDS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'].sort();
const CONTAINER_RESOURCE_FIELDS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];
const HUGEPAGES_PREFIXES = ['requests.hugepages-', 'limits.hugepages-'];
const MEMORY_DIVISORS = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];

/** `metadata.labels['key']` → path and subscript. */
function splitSubscript(fieldPath: string): { path: string; subscript?: string } {
  const m = /^(.+)\['(.+)'\]$/.exec(fieldPath);
  return m ? { path: m[1]!, subscript: m[2]! } : { path: fieldPath };
}

/** validateObjectFieldSelector. */
export function validateObjectFieldSelector(fs: ObjectFieldSelector, allowed: string[], field: string): FieldError[] {
  if (!fs.apiVersion) return [required(child(field, 'apiVersion'))];
  if (!fs.fieldPath) return [required(child(field, 'fieldPath'))];
  const { path, subscript } = splitSubscript(fs.fieldPath);
  if (!CONVERTIBLE_FIELDS.has(path) || (subscript !== undefined && path !== 'metadata.annotations' && path !== 'metadata.labels')) {
    return [invalid(child(field, 'fieldPath'), fs.fieldPath, `error converting fieldPath: field label not supported: ${fs.fieldPath}`)];
  }
  if (subscript !== undefined) {
    const k = path === 'metadata.annotations' ? subscript.toLowerCase() : subscript;
    return invalidEach(field, k, isQualifiedName(k));
  }
  return allowed.includes(path) ? [] : [notSupported(child(field, 'fieldPath'), path, allowed)];
}

/** validateContainerResourceFieldSelector with its divisor rules. */
export function validateResourceFieldSelector(fs: ResourceFieldSelector, field: string, volume: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (volume && !fs.containerName) errs.push(required(child(field, 'containerName')));
  else if (!fs.resource) errs.push(required(child(field, 'resource')));
  else if (!CONTAINER_RESOURCE_FIELDS.includes(fs.resource) && !HUGEPAGES_PREFIXES.some((p) => fs.resource.startsWith(p))) {
    errs.push(notSupported(child(field, 'resource'), fs.resource, CONTAINER_RESOURCE_FIELDS));
  }
  const divisor = fs.divisor === undefined ? undefined : tryParseQuantity(String(fs.divisor));
  if (divisor && divisor.unscaled !== 0n) {
    const d = formatQuantity(divisor);
    const r = fs.resource;
    if ((r === 'limits.cpu' || r === 'requests.cpu') && d !== '1m' && d !== '1') {
      errs.push(invalid(child(field, 'divisor'), r, "only divisor's values 1m and 1 are supported with the cpu resource"));
    } else if ((r === 'limits.memory' || r === 'requests.memory') && !MEMORY_DIVISORS.includes(d)) {
      errs.push(invalid(child(field, 'divisor'), r, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"));
    } else if ((r === 'limits.ephemeral-storage' || r === 'requests.ephemeral-storage') && !MEMORY_DIVISORS.includes(d)) {
      errs.push(invalid(child(field, 'divisor'), r, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource"));
    }
  }
  return errs;
}

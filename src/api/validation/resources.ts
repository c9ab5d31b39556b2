import type { ResourceRequirements } from 'kubernetes-types/core/v1';
import type { FieldError } from '../status.js';
import { forbidden, invalid, invalidEach, required, IS_NEGATIVE_ERROR } from './errors.js';
import { isQualifiedName } from './names.js';
import { child, key } from './path.js';
import { compareQuantities, formatQuantity, quantitySign, quantityToMilli, tryParseQuantity, QUANTITY_FORMAT_ERROR, QuantityError, parseQuantity, type Quantity } from './quantity.js';

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
/** upstream's standardResources: what a bare (unprefixed) resource name may be. */
const STANDARD_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers',
  'resourcequotas', 'secrets', 'persistentvolumeclaims', 'configmaps', 'storage', 'requests.storage',
  'services.nodeports', 'services.loadbalancers',
]);

export const isHugePageResourceName = (name: string): boolean => name.startsWith('hugepages-');
/** Native: unprefixed or in the kubernetes.io namespace. */
const isNativeResource = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
/** Extended resources (e.g. `nvidia.com/gpu`): whole units, never overcommitted. */
export const isExtendedResourceName = (name: string): boolean =>
  !isNativeResource(name) && !name.startsWith('requests.') && isQualifiedName(`requests.${name}`).length === 0;
const isOvercommitAllowed = (name: string): boolean => isNativeResource(name) && !isHugePageResourceName(name);

/** validateContainerResourceName. */
export function validateContainerResourceName(name: string, field: string): FieldError[] {
  const errs = invalidEach(field, name, isQualifiedName(name));
  if (errs.length) return errs;
  if (!name.includes('/')) {
    if (!STANDARD_RESOURCES.has(name) && !isHugePageResourceName(name)) errs.push(invalid(field, name, 'must be a standard resource type or fully qualified'));
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResourceName(name)) errs.push(invalid(field, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(invalid(field, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** A quantity on the wire, parsed; invalid text becomes upstream's decode error. */
export function validateQuantityString(value: unknown, field: string): { quantity?: Quantity; errors: FieldError[] } {
  if (typeof value !== 'string' && typeof value !== 'number') return { errors: [invalid(field, value, QUANTITY_FORMAT_ERROR)] };
  try {
    return { quantity: parseQuantity(String(value)), errors: [] };
  } catch (err) {
    return { errors: [invalid(field, value, err instanceof QuantityError ? err.message : String(err))] };
  }
}

/** ValidateResourceQuantityValue: not negative, and whole for resources counted in units. */
export function validateResourceQuantityValue(resource: string, value: unknown, field: string): FieldError[] {
  const { quantity, errors } = validateQuantityString(value, field);
  if (!quantity) return errors;
  if (quantitySign(quantity) < 0) errors.push(invalid(field, formatQuantity(quantity), IS_NEGATIVE_ERROR));
  if (isExtendedResourceName(resource) && quantityToMilli(quantity) % 1000 !== 0) errors.push(invalid(field, formatQuantity(quantity), 'must be an integer'));
  return errors;
}

/** ValidateContainerResourceRequirements: names, quantities, requests ≤ limits. */
export function validateResourceRequirements(req: ResourceRequirements | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = child(field, 'limits');
  const reqPath = child(field, 'requests');
  const limits = req?.limits ?? {};
  const requests = req?.requests ?? {};
  let cpuOrMemory = false;
  let hugePages = false;
  for (const [name, q] of Object.entries(limits)) {
    const path = key(limPath, name);
    errs.push(...validateContainerResourceName(name, path), ...validateResourceQuantityValue(name, q, path));
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
  }
  for (const [name, q] of Object.entries(requests)) {
    const path = key(reqPath, name);
    errs.push(...validateContainerResourceName(name, path), ...validateResourceQuantityValue(name, q, path));
    const request = tryParseQuantity(String(q));
    const limitText = limits[name];
    const limit = limitText === undefined ? undefined : tryParseQuantity(String(limitText));
    if (request && limit) {
      const cmp = compareQuantities(request, limit);
      if (cmp !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, formatQuantity(request), `must be equal to ${name} limit of ${formatQuantity(limit)}`));
      } else if (cmp > 0) {
        errs.push(invalid(reqPath, formatQuantity(request), `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`));
      }
    } else if (limitText === undefined && !isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
  }
  if (hugePages && !cpuOrMemory) errs.push(forbidden(field, 'HugePages require cpu or memory'));
  return errs;
}

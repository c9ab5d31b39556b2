import type { FieldError } from '../status.js';
import { invalid } from './errors.js';

/** No `..` element: a path may not climb out of where it is mounted. */
export function validatePathNoBacksteps(target: string, field: string): FieldError[] {
  return target.split('/').includes('..') ? [invalid(field, target, "must not contain '..'")] : [];
}

/** validateLocalDescendingPath: relative, and no `..`. */
export function validateLocalDescendingPath(target: string, field: string): FieldError[] {
  const errs = target.startsWith('/') ? [invalid(field, target, 'must be a relative path')] : [];
  return [...errs, ...validatePathNoBacksteps(target, field)];
}

/** ValidateLocalNonReservedPath: also not starting with `..` (the kubelet's atomic-writer directories). */
export function validateLocalNonReservedPath(target: string, field: string): FieldError[] {
  const errs = validateLocalDescendingPath(target, field);
  if (target.length > 1 && target.startsWith('..')) errs.push(invalid(field, target, "must not start with '..'"));
  return errs;
}

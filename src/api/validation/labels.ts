import type { FieldError } from '../status.js';
import { invalidEach } from './errors.js';
import { isQualifiedName, isValidLabelValue } from './names.js';

/** ValidateLabelName: a label key is a qualified name. */
export const validateLabelName = (key: string, field: string): FieldError[] =>
  invalidEach(field, key, isQualifiedName(key));

/** ValidateLabels. Upstream reports every problem at the map's own path, not per key. */
export function validateLabels(labels: Record<string, string> | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(k, field));
    errs.push(...invalidEach(field, v, isValidLabelValue(v)));
  }
  return errs;
}

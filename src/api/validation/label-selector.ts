import type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1';
import type { FieldError } from '../status.js';
import { forbidden, invalid, invalidEach, required } from './errors.js';
import { validateLabelName, validateLabels } from './labels.js';
import { isValidLabelValue } from './names.js';
import { child, index } from './path.js';

/** metav1validation.ValidateLabelSelector (strict: values must be valid label values). */
export function validateLabelSelector(selector: LabelSelector | undefined, field: string): FieldError[] {
  if (!selector) return [];
  const errs = validateLabels(selector.matchLabels, child(field, 'matchLabels'));
  (selector.matchExpressions ?? []).forEach((expr, i) =>
    errs.push(...validateRequirement(expr, index(child(field, 'matchExpressions'), i))));
  return errs;
}

function validateRequirement(req: LabelSelectorRequirement, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(child(field, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(child(field, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      errs.push(invalid(child(field, 'operator'), req.operator, 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(req.key, child(field, 'key')));
  values.forEach((v, i) => errs.push(...invalidEach(index(child(field, 'values'), i), v, isValidLabelValue(v))));
  return errs;
}

/** True when the selector has no requirement at all (it would match everything). */
export const isEmptySelector = (selector: LabelSelector | undefined): boolean =>
  !selector || (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0);

/**
 * Whether `labels` satisfy `selector`, as metav1.LabelSelectorAsSelector(…).Matches.
 * Validation needs only this much; the full selector language (parsing
 * `a in (b)`) belongs to the selectors module.
 */
export function labelSelectorMatches(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const set = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (set[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(set, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In': if (!has || !values.includes(set[req.key]!)) return false; break;
      case 'NotIn': if (has && values.includes(set[req.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** A map selector (Service, ReplicationController) matches when every pair is present. */
export const mapSelectorMatches = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

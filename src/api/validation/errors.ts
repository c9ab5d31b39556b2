import { fieldErrors, type FieldError } from '../status.js';

/**
 * Small wrappers around `fieldErrors` for the shapes upstream's validators
 * use over and over. Upstream prints a missing (nil) bad value as `null`,
 * which JSON.stringify would drop.
 */

export const invalid = (field: string, value: unknown, detail: string): FieldError =>
  fieldErrors.invalid(field, value === undefined ? null : value, detail);

/** One `Invalid` error per message, as upstream's `for _, msg := range IsX(v)` loops. */
export const invalidEach = (field: string, value: unknown, messages: string[]): FieldError[] =>
  messages.map((m) => invalid(field, value, m));

export const required = fieldErrors.required;
export const forbidden = fieldErrors.forbidden;
export const duplicate = fieldErrors.duplicate;
export const notSupported = fieldErrors.notSupported;
export const tooLong = fieldErrors.tooLong;

/**
 * upstream's field.NotFound. status.ts has no `FieldValueNotFound` type yet,
 * so the cause's reason says Invalid while the message keeps upstream's words.
 */
export const notFound = (field: string, value: unknown): FieldError =>
  ({ type: 'FieldValueNotFound', field, message: `Not found: ${JSON.stringify(value ?? null)}` });

/** upstream's field.TooMany, with the same caveat as `notFound`. */
export const tooMany = (field: string, actual: number, max: number): FieldError =>
  ({ type: 'FieldValueTooMany', field, message: `Too many: ${actual}: must have at most ${max} items` });

export const IS_NEGATIVE_ERROR = 'must be greater than or equal to 0';
export const FIELD_IMMUTABLE_ERROR = 'field is immutable';

export const maxLenError = (length: number): string => `must be no more than ${length} characters`;
export const emptyError = (): string => 'must be non-empty';
export const inclusiveRangeError = (lo: number, hi: number): string => `must be between ${lo} and ${hi}, inclusive`;

/** upstream's validation.RegexError: `msg (e.g. 'a' or 'b', regex used for validation is 'fmt')`. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  // Upstream joins `'a', ` pieces with ` or `, hence its double space.
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

/** ValidateNonnegativeField. Absent numbers count as 0, as Go's zero value. */
export const validateNonnegative = (value: number | undefined, field: string): FieldError[] =>
  (value ?? 0) < 0 ? [invalid(field, value, IS_NEGATIVE_ERROR)] : [];

import type { FieldError } from '../status.js';
import { invalid, invalidEach, regexError, validateNonnegative } from './errors.js';
import { isValidPortName, isValidPortNum } from './ports.js';

/** intstr.IntOrString on the wire: a JSON number or a JSON string. */
export type IntOrString = number | string;

const PERCENT_FMT = '[0-9]+%';
const PERCENT_RE = new RegExp(`^${PERCENT_FMT}$`);

export const isValidPercent = (value: string): string[] =>
  PERCENT_RE.test(value) ? [] : [regexError("a valid percent string must be a numeric string followed by an ending '%'", PERCENT_FMT, '1%', '93%')];

/** A port given by number (1–65535) or by name (an IANA service name). */
export function validatePortNumOrName(port: IntOrString | undefined, field: string): FieldError[] {
  if (typeof port === 'number') return invalidEach(field, port, isValidPortNum(port));
  if (typeof port === 'string') return invalidEach(field, port, isValidPortName(port));
  return [invalid(field, port, 'must be an integer or a string')];
}

/** ValidatePositiveIntOrPercent (despite its name: ≥ 0, or a percentage). */
export function validatePositiveIntOrPercent(value: IntOrString | undefined, field: string): FieldError[] {
  if (typeof value === 'string') return invalidEach(field, value, isValidPercent(value));
  if (typeof value === 'number') return validateNonnegative(value, field);
  return [invalid(field, value, "must be an integer or percentage (e.g '5%')")];
}

/** The number in `25%` or `3`; a malformed percentage counts as 0, as upstream's getIntOrPercentValue. */
export function intOrPercentValue(value: IntOrString | undefined): { value: number; isPercent: boolean } {
  if (typeof value === 'string') {
    return isValidPercent(value).length ? { value: 0, isPercent: false } : { value: Number.parseInt(value.slice(0, -1), 10), isPercent: true };
  }
  return { value: value ?? 0, isPercent: false };
}

/** `must not be greater than 100%` for percentages above 100. */
export function validateNotMoreThan100Percent(value: IntOrString | undefined, field: string): FieldError[] {
  const v = intOrPercentValue(value);
  return v.isPercent && v.value > 100 ? [invalid(field, value, 'must not be greater than 100%')] : [];
}

/**
 * intstr.GetScaledValueFromIntOrPercent: a percentage of `total`, rounded up
 * or down; a plain number as is. Throws for a string that is no percentage.
 */
export function scaledValueFromIntOrPercent(value: IntOrString, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(-?\d+)%$/.exec(value);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const scaled = (Number.parseInt(m[1]!, 10) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

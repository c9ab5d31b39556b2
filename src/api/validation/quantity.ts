/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource):
 * `100m`, `1Gi`, `2`, `1e3`, `500Mi`. Values are kept exact — an integer
 * mantissa and a power of ten — because `0.1 * 1000` in floating point is
 * not 100 and requests are compared and summed.
 */

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** value = unscaled × 10^scale, at most nano precision (as upstream rounds). */
export interface Quantity {
  readonly unscaled: bigint;
  readonly scale: number;
  /** How it was written; canonical output keeps the same family. */
  readonly format: QuantityFormat;
}

export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

export class QuantityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityError';
  }
}

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const SUFFIX_CHARS = 'eEinumkKMGTP';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const pow10 = (n: number): bigint => 10n ** BigInt(n);
const abs = (v: bigint): bigint => (v < 0n ? -v : v);

interface ParsedParts { positive: boolean; num: string; denom: string; suffix: string }

/** A transcription of upstream's parseQuantityString, so that the same strings fail. */
function splitQuantity(str: string): ParsedParts {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-') { positive = false; pos++; } else if (str[0] === '+') { pos++; }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  const num = str.slice(pos, i) || '0';
  pos = i;
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos]!)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } {
  if (suffix in DECIMAL_SUFFIXES) return { base: 10, exponent: DECIMAL_SUFFIXES[suffix]!, format: 'DecimalSI' };
  if (suffix in BINARY_SUFFIXES) return { base: 2, exponent: BINARY_SUFFIXES[suffix]!, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    return { base: 10, exponent: Number.parseInt(suffix.slice(1), 10), format: 'DecimalExponent' };
  }
  throw new QuantityError(QUANTITY_SUFFIX_ERROR);
}

/** Divides, rounding away from zero (inf.RoundUp), as upstream rounds lost precision. */
function divRoundUp(value: bigint, divisor: bigint): bigint {
  const q = value / divisor;
  return value % divisor === 0n ? q : q + (value < 0n ? -1n : 1n);
}

function atScale(q: Quantity, scale: number): bigint {
  return q.scale >= scale ? q.unscaled * pow10(q.scale - scale) : divRoundUp(q.unscaled, pow10(scale - q.scale));
}

/** Parses a quantity; throws QuantityError with upstream's wording. */
export function parseQuantity(str: string): Quantity {
  if (str.length === 0) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  if (str === '0') return { unscaled: 0n, scale: 0, format: 'DecimalSI' };
  const { positive, num, denom, suffix } = splitQuantity(str);
  const { base, exponent, format } = interpretSuffix(suffix);
  let unscaled = BigInt(num + denom);
  let scale = -denom.length;
  if (base === 2) unscaled *= 2n ** BigInt(exponent);
  else scale += exponent;
  if (!positive) unscaled = -unscaled;
  const q: Quantity = { unscaled, scale, format };
  // Upstream keeps at most nano precision, rounding the rest up.
  return scale < -9 ? { unscaled: atScale(q, -9), scale: -9, format } : q;
}

export function tryParseQuantity(str: string): Quantity | undefined {
  try { return parseQuantity(str); } catch { return undefined; }
}

const asQuantity = (q: Quantity | string): Quantity => (typeof q === 'string' ? parseQuantity(q) : q);

/** ceil(q × 1000): CPU in millicores. */
export const quantityToMilli = (q: Quantity | string): number => Number(atScale(asQuantity(q), -3));

/** ceil(q): memory in bytes, counts. */
export const quantityValue = (q: Quantity | string): number => Number(atScale(asQuantity(q), 0));

/** The value as a float, for ratios and display. */
export function quantityToNumber(q: Quantity | string): number {
  const v = asQuantity(q);
  return Number(v.unscaled) * 10 ** v.scale;
}

export function compareQuantities(a: Quantity | string, b: Quantity | string): -1 | 0 | 1 {
  const x = asQuantity(a);
  const y = asQuantity(b);
  const scale = Math.min(x.scale, y.scale);
  const d = atScale(x, scale) - atScale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export const quantitySign = (q: Quantity | string): -1 | 0 | 1 => {
  const u = asQuantity(q).unscaled;
  return u < 0n ? -1 : u > 0n ? 1 : 0;
};

/** a + b, in a's format (upstream's Quantity.Add). */
export function addQuantities(a: Quantity | string, b: Quantity | string): Quantity {
  const x = asQuantity(a);
  const y = asQuantity(b);
  const scale = Math.min(x.scale, y.scale);
  return { unscaled: atScale(x, scale) + atScale(y, scale), scale, format: x.unscaled === 0n && x.format === 'DecimalSI' ? y.format : x.format };
}

/** SetDefaults_ResourceList's rounding: nothing finer than a milli-unit. */
export function roundUpToMilli(q: Quantity): Quantity {
  return q.scale >= -3 ? q : { unscaled: atScale(q, -3), scale: -3, format: q.format };
}

/**
 * The canonical string upstream serialises: `0.5` → `500m`, `1000` → `1k`,
 * `1536Mi` stays, `2048Ki` → `2Mi`, `1e3` stays.
 */
export function formatQuantity(q: Quantity): string {
  if (q.unscaled === 0n) return '0';
  const sign = q.unscaled < 0n ? '-' : '';
  let { unscaled, scale } = { unscaled: abs(q.unscaled), scale: q.scale };
  while (unscaled % 10n === 0n) { unscaled /= 10n; scale++; }

  if (q.format === 'BinarySI' && scale >= 0) {
    let value = unscaled * pow10(scale);
    // Small binary values read better as plain numbers, as upstream decides.
    if (value >= 1024n) {
      let power = 0;
      while (power < BINARY_BY_POWER.length - 1 && value % 1024n === 0n) { value /= 1024n; power++; }
      return `${sign}${value}${BINARY_BY_POWER[power]}`;
    }
  }
  const exponent = scale - (((scale % 3) + 3) % 3);
  const mantissa = unscaled * pow10(scale - exponent);
  if (q.format === 'DecimalExponent') return `${sign}${mantissa}${exponent === 0 ? '' : `e${exponent}`}`;
  const suffix = DECIMAL_BY_EXPONENT.get(exponent);
  return `${sign}${mantissa}${suffix ?? `e${exponent}`}`;
}

/** Parses and re-serialises; throws QuantityError for invalid input. */
export const canonicalizeQuantity = (str: string): string => formatQuantity(parseQuantity(str));

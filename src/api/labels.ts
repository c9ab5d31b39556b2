/**
 * Label selectors, as upstream's `k8s.io/apimachinery/pkg/labels` parses,
 * matches and prints them: the `?labelSelector=` grammar, `LabelSelector`
 * objects (matchLabels + matchExpressions), and the error wording the API
 * server returns as 400 BadRequest.
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { badRequest } from './status.js';
import { isQualifiedName, isValidLabelValue } from './validation/names.js';

/** Upstream's `selection.Operator` values. */
export type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>>;

export interface Selector {
  matches(labels: Labels | undefined): boolean;
  /** True when the selector does not restrict anything (matches every object). */
  empty(): boolean;
  /** The canonical string form, e.g. `app=web,tier in (a,b)`. */
  toString(): string;
  /** The requirements (AND), sorted by key; undefined for the `nothing` selector. */
  requirements(): readonly Requirement[] | undefined;
  /** The single value a key must have (`=`, `==`, or `in` with one value), for index lookups. */
  requiresExactMatch(key: string): string | undefined;
}

class RequirementsSelector implements Selector {
  constructor(private readonly reqs: readonly Requirement[]) {}
  matches(labels: Labels | undefined): boolean { return this.reqs.every((r) => requirementMatches(r, labels ?? {})); }
  empty(): boolean { return this.reqs.length === 0; }
  toString(): string { return this.reqs.map(requirementToString).join(','); }
  requirements(): readonly Requirement[] { return this.reqs; }
  requiresExactMatch(key: string): string | undefined {
    const r = this.reqs.find((req) => req.key === key);
    if (!r || !['=', '==', 'in'].includes(r.operator) || r.values.length !== 1) return undefined;
    return r.values[0];
  }
}

const EVERYTHING: Selector = new RequirementsSelector([]);
const NOTHING: Selector = {
  matches: () => false,
  empty: () => false,
  toString: () => '',
  requirements: () => undefined,
  requiresExactMatch: () => undefined,
};

/** Matches every object. */
export const everything = (): Selector => EVERYTHING;
/** Matches no object (what a nil `LabelSelector` means). */
export const nothing = (): Selector => NOTHING;
export const matchesNothing = (s: Selector): boolean => s === NOTHING;
export const selectorToString = (s: Selector): string => s.toString();

// ---- requirements ---------------------------------------------------------

function requirementMatches(r: Requirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in': case '=': case '==': return value !== undefined && r.values.includes(value);
    case 'notin': case '!=': return value === undefined || !r.values.includes(value);
    case 'exists': return has;
    case '!': return !has;
    case 'gt': case 'lt': {
      if (value === undefined || r.values.length !== 1) return false;
      const actual = parseInt64(value);
      const bound = parseInt64(r.values[0]);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

const OPERATOR_TEXT: Record<Operator, string> = {
  '=': '=', '==': '==', '!=': '!=', in: ' in ', notin: ' notin ', gt: '>', lt: '<', exists: '', '!': '',
};

function requirementToString(r: Requirement): string {
  if (r.operator === '!') return `!${r.key}`;
  if (r.operator === 'exists') return r.key;
  // Values print sorted without reordering the requirement itself, as upstream's safeSort.
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort(byteOrder).join(',');
  const set = r.operator === 'in' || r.operator === 'notin';
  return `${r.key}${OPERATOR_TEXT[r.operator]}${set ? `(${values})` : values}`;
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortByKey = (reqs: Requirement[]): Requirement[] => reqs.sort((a, b) => byteOrder(a.key, b.key));

const BINARY_OPERATORS: Operator[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

/**
 * Upstream's `labels.NewRequirement`: validates the key, the values and their
 * count for the operator, and throws 400 with the aggregated field errors.
 */
export function newRequirement(key: string, operator: Operator, values: readonly string[]): Requirement {
  const errors = requirementErrors(key, operator, values);
  if (errors.length) throw badRequest(aggregate(errors));
  return { key, operator, values: [...values] };
}

function requirementErrors(key: string, operator: Operator, values: readonly string[]): string[] {
  const errors: string[] = [];
  const keyErr = labelKeyError(key, 'key');
  if (keyErr) errors.push(keyErr);
  switch (operator) {
    case 'in': case 'notin':
      if (values.length === 0) errors.push(`values: Invalid value: ${goStrings(values)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=': case '==': case '!=':
      if (values.length !== 1) errors.push(`values: Invalid value: ${goStrings(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists': case '!':
      if (values.length !== 0) errors.push(`values: Invalid value: ${goStrings(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt': case 'lt':
      if (values.length !== 1) errors.push(`values: Invalid value: ${goStrings(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errors.push(`values[${i}]: Invalid value: ${goQuote(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
  }
  values.forEach((v, i) => {
    const msgs = isValidLabelValue(v);
    if (msgs.length) errors.push(`values[${i}][${key}]: Invalid value: ${goQuote(v)}: ${msgs.join('; ')}`);
  });
  return errors;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated in brackets. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

/** field.Invalid(field, key, …) for a key that is no qualified name. */
function labelKeyError(key: string, field: string): string | undefined {
  const msgs = isQualifiedName(key);
  return msgs.length ? `${field}: Invalid value: ${goQuote(key)}: ${msgs.join('; ')}` : undefined;
}

// ---- conversions ----------------------------------------------------------

/** A selector that matches exactly the given labels; an empty set matches everything. */
export function selectorFromSet(set: Labels | undefined): Selector {
  const keys = Object.keys(set ?? {});
  if (keys.length === 0) return EVERYTHING;
  return new RequirementsSelector(sortByKey(keys.map((k) => ({ key: k, operator: '=', values: [set![k]] }))));
}

/**
 * Upstream's `metav1.LabelSelectorAsSelector`: undefined/null selects nothing,
 * an empty selector everything. Throws 400 on a bad operator, key or value.
 */
export function labelSelectorFromObject(ls: LabelSelector | null | undefined): Selector {
  if (!ls) return NOTHING;
  const matchLabels = Object.entries(ls.matchLabels ?? {});
  const expressions = ls.matchExpressions ?? [];
  if (matchLabels.length + expressions.length === 0) return EVERYTHING;
  const reqs: Requirement[] = matchLabels.map(([k, v]) => newRequirement(k, '=', [v]));
  for (const expr of expressions) {
    const op = EXPRESSION_OPERATORS[expr.operator];
    if (!op) throw badRequest(`${goQuote(expr.operator)} is not a valid label selector operator`);
    reqs.push(newRequirement(expr.key, op, expr.values ?? []));
  }
  return new RequirementsSelector(sortByKey(reqs));
}

const EXPRESSION_OPERATORS: Record<string, Operator | undefined> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/** Upstream's `labels.FormatLabels`: `a=b,c=d` sorted by key, or `<none>`. */
export function formatLabels(set: Labels | undefined): string {
  const text = selectorFromSet(set).toString();
  return text === '' ? '<none>' : text;
}

/** Upstream's `metav1.FormatLabelSelector`: the string form, `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(ls: LabelSelector | null | undefined): string {
  let text: string;
  try {
    text = labelSelectorFromObject(ls).toString();
  } catch {
    return '<error>';
  }
  return text === '' ? '<none>' : text;
}

// ---- the string grammar ---------------------------------------------------

type Token = 'error' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';
interface Scanned { tok: Token; lit: string }

const KEYWORDS: Record<string, Token | undefined> = {
  ')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', in: 'in', '<': '<', '!=': '!=', notin: 'notin', '(': '(',
};
const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean => '=!(),><'.includes(ch);

function lex(input: string): Scanned[] {
  const items: Scanned[] = [];
  let pos = 0;
  const next = (): Scanned => {
    while (pos < input.length && isWhitespace(input[pos])) pos++;
    if (pos >= input.length) return { tok: 'eos', lit: '' };
    if (isSpecial(input[pos])) {
      // Longest run of symbols that still forms an operator: `!=` over `!`, `==` over `=`.
      let buffer = '';
      let last: Scanned | undefined;
      while (pos < input.length && isSpecial(input[pos])) {
        const candidate = buffer + input[pos];
        const tok = KEYWORDS[candidate];
        if (tok) { last = { tok, lit: candidate }; buffer = candidate; pos++; continue; }
        if (last) break;
        buffer = candidate;
        pos++;
      }
      return last ?? { tok: 'error', lit: `error expected: keyword found '${buffer}'` };
    }
    const start = pos;
    while (pos < input.length && !isSpecial(input[pos]) && !isWhitespace(input[pos])) pos++;
    const word = input.slice(start, pos);
    return { tok: KEYWORDS[word] ?? 'id', lit: word };
  };
  for (;;) {
    const item = next();
    items.push(item);
    if (item.tok === 'eos') return items;
  }
}

class ParseError extends Error {}

/** Upstream's recursive-descent parser; `in`/`notin` are plain identifiers where values are expected. */
class Parser {
  private position = 0;
  constructor(private readonly items: Scanned[]) {}

  private peek(asValue: boolean): Scanned {
    return this.asContext(this.items[this.position], asValue);
  }
  private take(asValue: boolean): Scanned {
    return this.asContext(this.items[this.position++], asValue);
  }
  private asContext(item: Scanned, asValue: boolean): Scanned {
    return asValue && (item.tok === 'in' || item.tok === 'notin') ? { tok: 'id', lit: item.lit } : item;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek(true);
      if (tok === 'eos') return reqs;
      if (tok !== 'id' && tok !== '!') throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      try {
        reqs.push(this.requirement());
      } catch (e) {
        throw new ParseError(`unable to parse requirement: ${(e as Error).message}`);
      }
      const after = this.take(true);
      if (after.tok === 'eos') return reqs;
      if (after.tok !== ',') throw new ParseError(`found '${after.lit}', expected: ',' or 'end of string'`);
      const following = this.peek(true);
      if (following.tok !== 'id' && following.tok !== '!') throw new ParseError(`found '${following.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): Requirement {
    const [key, inferred] = this.keyAndInferredOperator();
    if (inferred === 'exists' || inferred === '!') return this.build(key, inferred, []);
    const operator = this.operator();
    const values = operator === 'in' || operator === 'notin' ? this.valueSet() : this.exactValue();
    // A set, as upstream: deduplicated and sorted.
    return this.build(key, operator, [...new Set(values)].sort(byteOrder));
  }

  private build(key: string, operator: Operator, values: string[]): Requirement {
    const errors = requirementErrors(key, operator, values);
    if (errors.length) throw new ParseError(aggregate(errors));
    return { key, operator, values };
  }

  private keyAndInferredOperator(): [string, Operator | undefined] {
    let operator: Operator | undefined;
    let item = this.take(true);
    if (item.tok === '!') {
      operator = '!';
      item = this.take(true);
    }
    if (item.tok !== 'id') throw new ParseError(`found '${item.lit}', expected: identifier`);
    // The parser's own key check has no field path, hence upstream's `<nil>`.
    const keyErr = labelKeyError(item.lit, '<nil>');
    if (keyErr) throw new ParseError(keyErr);
    const next = this.peek(true).tok;
    if ((next === 'eos' || next === ',') && operator !== '!') operator = 'exists';
    return [item.lit, operator];
  }

  private operator(): Operator {
    const { tok, lit } = this.take(false);
    switch (tok) {
      case 'in': return 'in';
      case '=': return '=';
      case '==': return '==';
      case '>': return 'gt';
      case '<': return 'lt';
      case 'notin': return 'notin';
      case '!=': return '!=';
      default: throw new ParseError(`found '${lit}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  private valueSet(): string[] {
    const open = this.take(true);
    if (open.tok !== '(') throw new ParseError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.peek(true);
    if (tok === 'id' || tok === ',') {
      const values = this.identifiers();
      if (this.take(true).tok !== ')') throw new ParseError(`found '${lit}', expected: ')'`);
      return values;
    }
    if (tok === ')') {
      this.take(true);
      return [''];
    }
    throw new ParseError(`found '${lit}', expected: ',', ')' or identifier`);
  }

  /** A comma-separated list where empty entries are the empty string: `(a,,b)`, `(,a)`, `(a,)`. */
  private identifiers(): string[] {
    const values: string[] = [];
    for (;;) {
      const { tok, lit } = this.take(true);
      if (tok === 'id') {
        values.push(lit);
        const next = this.peek(true);
        if (next.tok === ',') continue;
        if (next.tok === ')') return values;
        throw new ParseError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok !== ',') throw new ParseError(`found '${lit}', expected: ',', or identifier`);
      if (values.length === 0) values.push('');
      const next = this.peek(true).tok;
      if (next === ')') { values.push(''); return values; }
      if (next === ',') values.push('');
    }
  }

  private exactValue(): string[] {
    const next = this.peek(true).tok;
    if (next === 'eos' || next === ',') return [''];
    const { tok, lit } = this.take(true);
    if (tok === 'id') return [lit];
    throw new ParseError(`found '${lit}', expected: identifier`);
  }
}

/**
 * Parses the `?labelSelector=` form: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma-separated (AND). Throws a
 * 400 StatusError with upstream's message on bad input.
 */
export function parseLabelSelector(text: string): Selector {
  let reqs: Requirement[];
  try {
    reqs = new Parser(lex(text)).parse();
  } catch (e) {
    if (e instanceof ParseError) throw badRequest(e.message);
    throw e;
  }
  return reqs.length === 0 ? EVERYTHING : new RequirementsSelector(sortByKey(reqs));
}

// ---- Go formatting that the messages embed --------------------------------

/** Go's `%q` of a string (strconv.Quote), for the characters that can reach here. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0x80 && cp < 0xa0) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
const GO_ESCAPES: Record<string, string | undefined> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** Go's `%#v` of a []string, as field.Invalid prints a values list. */
const goStrings = (values: readonly string[]): string =>
  values.length === 0 ? '[]string(nil)' : `[]string{${values.map(goQuote).join(', ')}}`;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64). */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/**
 * Field selectors, as upstream's `k8s.io/apimachinery/pkg/fields` parses and
 * matches them (`?fieldSelector=metadata.name=x,spec.nodeName!=`), plus the
 * per-kind field-label check the API server runs before listing (upstream's
 * field label conversion functions), with upstream's 400 wording.
 */
import { badRequest } from './status.js';

/** `=` and `==` are the same requirement upstream (selection.Equals). */
export type FieldOperator = '=' | '!=';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  readonly value: string;
}

export type Fields = Readonly<Record<string, string>>;

export interface FieldSelector {
  /** A field missing from `fields` reads as the empty string, as fields.Set.Get. */
  matches(fields: Fields): boolean;
  empty(): boolean;
  requirements(): readonly FieldRequirement[];
  /** The value an `=` requirement demands of `field`, for index lookups. */
  requiresExactMatch(field: string): string | undefined;
  /** Rewrites each requirement (may throw); one rewritten to an empty field and value is dropped. */
  transform(fn: (field: string, value: string) => [string, string]): FieldSelector;
  /** The canonical form: `field=value` / `field!=value`, values escaped, comma-joined. */
  toString(): string;
}

class AndSelector implements FieldSelector {
  constructor(private readonly terms: readonly FieldRequirement[]) {}
  matches(fields: Fields): boolean {
    return this.terms.every((t) => ((Object.hasOwn(fields, t.field) ? fields[t.field] : '') === t.value) === (t.operator === '='));
  }
  empty(): boolean { return this.terms.length === 0; }
  requirements(): readonly FieldRequirement[] { return this.terms; }
  requiresExactMatch(field: string): string | undefined {
    return this.terms.find((t) => t.field === field && t.operator === '=')?.value;
  }
  transform(fn: (field: string, value: string) => [string, string]): FieldSelector {
    const next: FieldRequirement[] = [];
    for (const t of this.terms) {
      const [field, value] = fn(t.field, t.value);
      if (field !== '' || value !== '') next.push({ field, operator: t.operator, value });
    }
    return new AndSelector(next);
  }
  toString(): string { return this.terms.map((t) => `${t.field}${t.operator}${escapeFieldValue(t.value)}`).join(','); }
}

const EVERYTHING: FieldSelector = new AndSelector([]);
export const everythingFields = (): FieldSelector => EVERYTHING;

/** A selector requiring every field of `set` to have its value. */
export function fieldSelectorFromSet(set: Fields): FieldSelector {
  return new AndSelector(Object.entries(set).map(([field, value]) => ({ field, operator: '=', value })));
}

/** Backslash-escapes `\`, `,` and `=` so a value survives the selector grammar. */
export const escapeFieldValue = (s: string): string => s.replace(/[\\,=]/g, (c) => `\\${c}`);

/** Undoes escapeFieldValue; throws 400 with upstream's wording on a bad escape or a bare `,`/`=`. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let escaped = false;
  for (const c of s) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      // Upstream prints the rune with %v: its code point, not the character.
      throw badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else {
      out += c;
    }
  }
  if (escaped) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not backslash-escaped, keeping the escapes. */
function splitTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') { terms.push(selector.slice(start, i)); start = i + 1; }
  }
  terms.push(selector.slice(start));
  return terms;
}

const TERM_OPERATORS = ['!=', '==', '='] as const;

/** The first operator from the left splits the term; the key is taken verbatim (no trimming). */
function splitTerm(term: string): [string, FieldOperator, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op === '!=' ? '!=' : '=', term.slice(i + op.length)];
    }
  }
  return undefined;
}

/**
 * Parses `?fieldSelector=` (`=`, `==`, `!=`, comma-separated AND). With a
 * `kind`, also runs upstream's field-label check for that kind (see
 * convertFieldLabels). Throws a 400 StatusError with upstream's wording.
 */
export function parseFieldSelector(selector: string, kind?: string): FieldSelector {
  // Sorted as upstream does, so the first bad label reported is the same one.
  const parts = splitTerms(selector).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const terms: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [field, operator, raw] = split;
    terms.push({ field, operator, value: unescapeFieldValue(raw) });
  }
  const parsed = terms.length === 0 ? EVERYTHING : new AndSelector(terms);
  return kind === undefined ? parsed : convertFieldLabels(kind, parsed);
}

// ---- field labels each kind accepts ----------------------------------------

interface FieldLabelRules {
  /** Accepted labels, mapped to the label they are matched as (legacy aliases). */
  accepted: Readonly<Record<string, string>>;
  reject(label: string): string;
}

const notSupported = (label: string): string => `field label not supported: ${label}`;
const labelsOf = (...labels: string[]): Record<string, string> => Object.fromEntries(labels.map((l) => [l, l]));

/**
 * Upstream's AddFieldLabelConversionFunc registrations (pkg/apis/core/v1/conversion.go)
 * for the kinds bosun serves. Kinds absent here fall back to upstream's
 * DefaultMetaV1FieldSelectorConversion, which has its own wording.
 */
const FIELD_LABELS: Readonly<Record<string, FieldLabelRules>> = {
  Pod: {
    accepted: {
      ...labelsOf('metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName',
        'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'),
      // Old v1 clients send spec.host.
      'spec.host': 'spec.nodeName',
    },
    reject: notSupported,
  },
  Node: { accepted: labelsOf('metadata.name', 'spec.unschedulable'), reject: notSupported },
  ReplicationController: { accepted: labelsOf('metadata.name', 'metadata.namespace', 'status.replicas'), reject: notSupported },
  Event: {
    accepted: labelsOf('involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
      'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason',
      'reportingComponent', 'source', 'type', 'metadata.namespace', 'metadata.name'),
    reject: notSupported,
  },
  Namespace: { accepted: labelsOf('status.phase', 'metadata.name'), reject: notSupported },
  Secret: { accepted: labelsOf('type', 'metadata.namespace', 'metadata.name'), reject: notSupported },
  Service: { accepted: labelsOf('metadata.namespace', 'metadata.name', 'spec.clusterIP', 'spec.type'), reject: notSupported },
};

const METADATA_ONLY: FieldLabelRules = {
  accepted: labelsOf('metadata.name', 'metadata.namespace'),
  reject: (label) => `${JSON.stringify(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
};

const rulesFor = (kind: string): FieldLabelRules => FIELD_LABELS[kind] ?? METADATA_ONLY;

/** The field labels a kind's selectors may use, as upstream accepts them. */
export const supportedFieldLabels = (kind: string): string[] => Object.keys(rulesFor(kind).accepted);

/**
 * Upstream's field-label conversion: every label must be one the kind
 * supports (400 `field label not supported: foo`, or the generic wording for
 * kinds with no list of their own), and legacy aliases are rewritten.
 */
export function convertFieldLabels(kind: string, selector: FieldSelector): FieldSelector {
  const rules = rulesFor(kind);
  return selector.transform((field, value) => {
    const label = Object.hasOwn(rules.accepted, field) ? rules.accepted[field] : undefined;
    if (label === undefined) throw badRequest(rules.reject(field));
    return [label, value];
  });
}

// ---- an object's field values ---------------------------------------------

interface HasMeta { metadata?: { name?: string; namespace?: string } }

/**
 * The field set an object is matched against: `metadata.name`,
 * `metadata.namespace` and the kind's own fields (a strategy's
 * `selectableFields`, values already strings: booleans as `true`/`false`,
 * numbers in decimal, as upstream's ToSelectableFields).
 */
export function fieldsOf(obj: HasMeta, kindFields: Fields = {}): Record<string, string> {
  return {
    'metadata.name': obj.metadata?.name ?? '',
    'metadata.namespace': obj.metadata?.namespace ?? '',
    ...kindFields,
  };
}

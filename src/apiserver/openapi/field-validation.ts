/**
 * Server-side field validation (`?fieldValidation=Strict|Warn`): the fields of
 * a request object that its kind's schema does not know, named the way
 * upstream's strict decoder names them (`spec.containers[0].foo`).
 */
import { badRequest, type StatusError } from '../../api/status.js';
import type { JsonSchema, SchemaLookup } from './schema-lookup.js';
import { schemaLookup } from './schemas.js';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

type OnUnknown = (path: string, parent: Record<string, unknown>, key: string) => void;

function walk(value: unknown, schema: JsonSchema, path: string, lookup: SchemaLookup, out: OnUnknown): void {
  if (value === null || value === undefined) return;
  if (schema['x-kubernetes-preserve-unknown-fields']) return;
  const resolved = lookup.resolve(schema);
  if (resolved !== schema && resolved['x-kubernetes-preserve-unknown-fields']) return;

  if (Array.isArray(value)) {
    if (!resolved.items) return;
    value.forEach((item, i) => walk(item, resolved.items!, `${path}[${i}]`, lookup, out));
    return;
  }
  if (!isPlainObject(value)) return; // a type mismatch is validation's business, not an unknown field

  const { properties, additionalProperties } = resolved;
  if (!properties && additionalProperties === undefined) return; // an open object (FieldsV1 and the like)
  for (const [key, child] of Object.entries(value)) {
    const declared = properties?.[key];
    if (declared) walk(child, declared, join(path, key), lookup, out);
    else if (isPlainObject(additionalProperties)) walk(child, additionalProperties, join(path, key), lookup, out);
    else if (additionalProperties !== true) out(join(path, key), value, key);
  }
}

/**
 * Paths of the fields of `obj` that the schema of group/version/kind lacks, in
 * the order they appear. An unknown kind yields none: there is nothing to
 * check it against.
 */
export function unknownFields(
  obj: unknown, group: string, version: string, kind: string, lookup: SchemaLookup = schemaLookup,
): string[] {
  const root = lookup.forKind(group, version, kind);
  if (!root) return [];
  const out: string[] = [];
  walk(obj, root, '', lookup, (path) => out.push(path));
  return out;
}

/**
 * Drops the fields the schema lacks, as upstream's decoder does when it
 * decodes into typed structs (fieldValidation Ignore or Warn): unknown fields
 * are never stored. Returns their paths.
 */
export function pruneUnknownFields(
  obj: unknown, group: string, version: string, kind: string, lookup: SchemaLookup = schemaLookup,
): string[] {
  const root = lookup.forKind(group, version, kind);
  if (!root) return [];
  const found: Array<{ path: string; parent: Record<string, unknown>; key: string }> = [];
  walk(obj, root, '', lookup, (path, parent, key) => found.push({ path, parent, key }));
  for (const f of found) delete f.parent[f.key];
  return found.map((f) => f.path);
}

/** One field's complaint, as upstream words it (also the text of a Warn-mode warning). */
export const unknownFieldMessage = (path: string) => `unknown field "${path}"`;
export const duplicateFieldMessage = (path: string) => `duplicate field "${path}"`;

/**
 * The message of the 400 BadRequest that Strict field validation answers, e.g.
 * `strict decoding error: unknown field "spec.foo", unknown field "bar"`.
 */
export function strictDecodingErrorMessage(unknown: readonly string[], duplicates: readonly string[] = []): string {
  const parts = [...duplicates.map(duplicateFieldMessage), ...unknown.map(unknownFieldMessage)];
  return `strict decoding error: ${parts.join(', ')}`;
}

/**
 * The 400 BadRequest error of Strict field validation, to throw. On create and
 * update upstream reports it as a failure to decode the body, naming the
 * body's kind and version: pass them as `decodedAs` to get that wording,
 * `Pod in version "v1" cannot be handled as a Pod: strict decoding error: …`.
 */
export function strictDecodingError(
  unknown: readonly string[], duplicates: readonly string[] = [], decodedAs?: { kind: string; version: string },
): StatusError {
  const message = strictDecodingErrorMessage(unknown, duplicates);
  return badRequest(decodedAs
    ? `${decodedAs.kind} in version ${JSON.stringify(decodedAs.version)} cannot be handled as a ${decodedAs.kind}: ${message}`
    : message);
}

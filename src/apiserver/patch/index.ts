/**
 * PATCH: applies a request body to the current object according to its
 * Content-Type, as upstream's apiserver (handlers/patch.go) does, with the
 * same status codes and wording for bodies it cannot use.
 */
import { parseAllDocuments } from 'yaml';
import { StatusError, badRequest, fieldErrors, invalid } from '../../api/status.js';
import type { KubeObject } from '../strategy.js';
import type { SchemaLookup } from '../openapi/schema-lookup.js';
import { applyJsonPatch, parseJsonPatch } from './json-patch.js';
import { mergePatch } from './merge-patch.js';
import { applyConfiguration, strategicMergePatch } from './strategic-merge-patch.js';
import { deepCopy, isObject, jsonKindName, parseJson } from './json-value.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

export type PatchType = typeof JSON_PATCH | typeof MERGE_PATCH | typeof STRATEGIC_MERGE_PATCH | typeof APPLY_PATCH;

/** In upstream's order, which its 415 message lists. */
export const PATCH_TYPES: readonly PatchType[] = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];

export interface GroupVersionKind { group: string; version: string; kind: string }

/**
 * The patch type a Content-Type names (parameters such as `charset` are
 * ignored). Throws upstream's 415 for anything else; callers may check this
 * before reading the object, as upstream does.
 */
export function patchTypeOf(contentType: string): PatchType {
  const base = contentType.split(';')[0].trim().toLowerCase();
  const type = PATCH_TYPES.find((t) => t === base);
  if (!type) {
    throw new StatusError(415, 'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
  }
  return type;
}

/**
 * Applies `body` to `original` (which is not modified) and returns the new
 * object. `gvk` names the kind the request is for; `schemas` gives its
 * OpenAPI schema, which strategic merge patch and apply read their merge
 * rules from. The caller still checks the result: name and namespace
 * unchanged, fields known, the object valid.
 *
 * Errors (StatusError): 415 unknown Content-Type; 400 a body that does not
 * decode or a malformed patch; 413 a JSON patch of more than 10000
 * operations; 422 a JSON patch that does not apply, or a result that is not
 * an object.
 *
 * For server-side apply (`application/apply-patch+yaml`) of an object that
 * does not exist yet, pass `{}` as `original`.
 */
export function applyPatch(
  original: KubeObject, body: string, contentType: string, gvk: GroupVersionKind, schemas: SchemaLookup,
): KubeObject {
  let result: unknown;
  switch (patchTypeOf(contentType)) {
    case JSON_PATCH:
      result = applyJsonPatch(original, parseJsonPatch(body));
      break;

    case MERGE_PATCH: {
      // upstream (evanphx/json-patch MergePatch) refuses anything that is
      // not an object or an array with one message
      const parsed = parseJson(body);
      if (!parsed.ok || !(isObject(parsed.value) || Array.isArray(parsed.value))) throw badRequest('Invalid JSON Patch');
      result = mergePatch(original, parsed.value);
      break;
    }

    case STRATEGIC_MERGE_PATCH: {
      const parsed = parseJson(body);
      if (!parsed.ok) throw badRequest(parsed.message);
      const patch = parsed.value;
      if (patch === null) {
        result = deepCopy(original);
        break;
      }
      if (!isObject(patch)) {
        throw badRequest(`json: cannot unmarshal ${jsonKindName(patch)} into Go value of type map[string]interface {}`);
      }
      // A kind without a schema (a custom resource) gets merge-patch
      // semantics; upstream answers 415 for SMP there.
      result = strategicMergePatch(original, patch, schemas.forKind(gvk.group, gvk.version, gvk.kind), schemas);
      break;
    }

    case APPLY_PATCH: {
      const config = decodeApplyConfiguration(body);
      checkApplyConfiguration(config, gvk);
      result = applyConfiguration(original, config, schemas.forKind(gvk.group, gvk.version, gvk.kind), schemas);
      break;
    }
  }

  if (!isObject(result)) {
    // what upstream's decoder says when the patched document is no object
    throw invalid('', '', '', [fieldErrors.invalid('patch', JSON.stringify(result),
      `couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKindName(result)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`)]);
  }
  return result as KubeObject;
}

const GO_YAML_UNSUPPORTED_TAGS = new Set(['timestamp', 'binary', 'omap', 'pairs', 'set'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * Decodes an apply configuration as upstream's sigs.k8s.io/yaml does:
 * YAML 1.1 (so `yes`/`no` are booleans, `0777` octal), timestamps left as
 * strings, the first document only, a map at the top.
 */
function decodeApplyConfiguration(body: string): Record<string, unknown> {
  // like go-yaml, read the first document and ignore any after it
  const [doc] = parseAllDocuments(body, {
    version: '1.1',
    merge: true,
    uniqueKeys: true,
    // go-yaml v2 has no sexagesimal numbers and leaves timestamps as strings;
    // the other 1.1 extras would not survive as JSON anyway
    customTags: (tags) => tags.filter((t) => typeof t === 'string'
      || !(t.format === 'TIME' || GO_YAML_UNSUPPORTED_TAGS.has(t.tag))),
  });
  if (!doc) return {};
  const problem = doc.errors[0];
  if (problem) throw badRequest(`error decoding YAML: error converting YAML to JSON: yaml: ${problem.message.split('\n')[0].replace(/:$/, '')}`);
  // JSON round trip: the configuration is JSON data from here on
  const value: unknown = JSON.parse(JSON.stringify(doc.toJS() ?? null) ?? 'null');
  if (value === null) return {};
  if (!isObject(value)) {
    throw badRequest(`error decoding YAML: json: cannot unmarshal ${jsonKindName(value)} into Go value of type map[string]interface {}`);
  }
  return value;
}

/** The checks upstream's field manager makes before applying. */
function checkApplyConfiguration(config: Record<string, unknown>, gvk: GroupVersionKind): void {
  const apiVersion = typeof config.apiVersion === 'string' ? config.apiVersion : '';
  const kind = typeof config.kind === 'string' ? config.kind : '';
  const slash = apiVersion.indexOf('/');
  const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  if (group !== gvk.group || version !== gvk.version || kind !== gvk.kind) {
    throw badRequest(`invalid object type: ${group}/${version}, Kind=${kind}`);
  }
  const metadata = config.metadata;
  if (isObject(metadata) && metadata.managedFields !== undefined && metadata.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
}

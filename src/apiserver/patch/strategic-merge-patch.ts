/**
 * Kubernetes strategic merge patch (`application/strategic-merge-patch+json`),
 * the patch `kubectl apply` (client-side), `kubectl set`, `kubectl rollout`,
 * `kubectl edit` and `kubectl patch` send for built-in kinds.
 *
 * This follows the server half of upstream's
 * k8s.io/apimachinery/pkg/util/strategicpatch (StrategicMergeMapPatch) rule
 * for rule, including its ordering algorithm, because kubectl computes its
 * patches expecting exactly those results. How each field merges comes from
 * the OpenAPI schema:
 *  - `x-kubernetes-patch-strategy: merge` + `x-kubernetes-patch-merge-key`:
 *    a list of objects merged item by item by the key (containers by name);
 *  - `merge` on a list of scalars: merged as a set (finalizers);
 *  - any other list: replaced whole;
 *  - `replace` on an object: replaced whole; other objects, and maps
 *    (`additionalProperties`: labels, annotations, data), merge key by key;
 *  - `null` deletes a field.
 * Directives in the patch:
 *  - `$patch: replace | delete | merge` in an object, and as a list item
 *    (`{"name": "x", "$patch": "delete"}` deletes by merge key;
 *    `{"$patch": "replace"}` makes the list's other items replace it);
 *  - `$deleteFromPrimitiveList/<field>: [..]` removes scalars from a list;
 *  - `$setElementOrder/<field>: [..]` fixes the order of the merged list;
 *  - `$retainKeys: [..]` clears every field of the object not named.
 * Without a schema (an unknown kind or field) objects merge and lists are
 * replaced, which is merge-patch semantics with the directives still honoured.
 *
 * Where upstream is loose, bosun is a little stricter or saner, never in a
 * way a patch made by kubectl can tell:
 *  - every error is a 400 BadRequest with upstream's wording (upstream
 *    answers 500 for some malformed directives), except "lists of lists are
 *    not supported", a 422 as upstream;
 *  - `$patch: merge` (upstream: an error) is accepted as the default;
 *  - a value that is new to the object has its directives processed and its
 *    nulls dropped instead of relying on a typed decoder to drop them.
 *
 * `applyConfiguration` at the end is the merge that server-side apply uses
 * here: see its comment.
 */
import type { JsonSchema, SchemaLookup } from '../openapi/schema-lookup.js';
import { badRequest } from '../../api/status.js';
import { deepCopy, goFormat, goTypeName, isObject, jsonEqual, setField, type JsonObject } from './json-value.js';
import { patchDoesNotApply } from './json-patch.js';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

// upstream's mergepatch errors, word for word
const errBadPatchFormatForPrimitiveList = () => badRequest('invalid patch format of primitive list');
const errBadPatchFormatForRetainKeys = () => badRequest('invalid patch format of retainKeys');
const errBadPatchFormatForSetElementOrderList = () => badRequest('invalid patch format of setElementOrder list');
const errNoListOfLists = () => patchDoesNotApply('lists of lists are not supported');
const errNoMergeKey = (m: unknown, key: string) => badRequest(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const errBadArgType = (expected: string, actual: unknown) =>
  badRequest(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const errBadPatchType = (directive: unknown, m: unknown) =>
  badRequest(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(m)}`);

const MAP_TYPE = 'map[string]interface {}';
const SLICE_TYPE = '[]interface {}';

/** How one field merges, read from its schema. */
interface FieldMeta {
  /** The resolved schema of the field's value, undefined where unknown. */
  schema: JsonSchema | undefined;
  /** 'merge', 'replace' or '' (retainKeys is only a client-side hint). */
  strategy: string;
  mergeKey: string;
  listType?: string;
  listMapKeys?: string[];
  mapType?: string;
}

const NO_META: FieldMeta = { schema: undefined, strategy: '', mergeKey: '' };

/** Go's reflect kind of a decoded JSON value, as far as merging cares. */
type Kind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';
function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (isObject(v)) return 'object';
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
}

const hasOwn = (o: JsonObject, k: string) => Object.hasOwn(o, k);

/** Splits `$prefix/field` (upstream's extractKey). */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    if (prefix === DELETE_FROM_PRIMITIVE_LIST) throw errBadPatchFormatForPrimitiveList();
    if (prefix === SET_ELEMENT_ORDER) throw errBadPatchFormatForSetElementOrderList();
    throw badRequest(`fail to find unknown prefix "${prefix}" in ${key}`);
  }
  return key.slice(slash + 1);
}

/**
 * Applies a strategic merge patch. Neither argument is modified.
 * `schema` is the (possibly unresolved) schema of the root object, or
 * undefined for a kind without one; `lookup` resolves `$ref`s in it.
 * Throws StatusError (400, or 422 for lists of lists) for a malformed patch.
 */
export function strategicMergePatch(
  original: JsonObject, patch: JsonObject, schema: JsonSchema | undefined, lookup: SchemaLookup | undefined,
): JsonObject {
  const merger = new Merger(lookup);
  return merger.mergeMap(deepCopy(original), deepCopy(patch), merger.resolve(schema));
}

class Merger {
  constructor(private readonly lookup: SchemaLookup | undefined) {}

  resolve(schema: JsonSchema | undefined): JsonSchema | undefined {
    return schema && this.lookup ? this.lookup.resolve(schema) : schema;
  }

  /** The merge metadata of `key` in an object of schema `parent`. The
   *  extensions sit on the property itself (beside its `$ref`/`allOf`), so
   *  they are read before resolving and from the resolved schema after. */
  field(parent: JsonSchema | undefined, key: string): FieldMeta {
    if (!parent) return NO_META;
    const ap = parent.additionalProperties;
    const raw = parent.properties?.[key] ?? (typeof ap === 'object' ? ap : undefined);
    if (!raw) return NO_META;
    const resolved = this.resolve(raw) ?? raw;
    const strategies = String(raw['x-kubernetes-patch-strategy'] ?? resolved['x-kubernetes-patch-strategy'] ?? '')
      .split(',').map((s) => s.trim()).filter((s) => s && s !== 'retainKeys');
    return {
      schema: resolved,
      strategy: strategies[0] ?? '',
      mergeKey: raw['x-kubernetes-patch-merge-key'] ?? resolved['x-kubernetes-patch-merge-key'] ?? '',
      listType: raw['x-kubernetes-list-type'] ?? resolved['x-kubernetes-list-type'],
      listMapKeys: raw['x-kubernetes-list-map-keys'] ?? resolved['x-kubernetes-list-map-keys'],
      mapType: raw['x-kubernetes-map-type'] ?? resolved['x-kubernetes-map-type'],
    };
  }

  items(list: FieldMeta): JsonSchema | undefined {
    return list.schema?.items ? this.resolve(list.schema.items) : undefined;
  }

  // ---- maps ---------------------------------------------------------------

  /** upstream's mergeMap; mutates and returns `original`, consumes `patch`. */
  mergeMap(original: JsonObject, patch: JsonObject, schema: JsonSchema | undefined): JsonObject {
    if (hasOwn(patch, DIRECTIVE)) {
      const directive = patch[DIRECTIVE];
      if (directive === 'delete') return {};
      if (directive === 'replace') {
        delete patch[DIRECTIVE];
        return this.mergeMap({}, patch, schema);
      }
      if (directive !== 'merge') throw errBadPatchType(directive, patch);
      delete patch[DIRECTIVE];
    }

    this.applyRetainKeys(original, patch);
    this.mergeOrderedLists(original, patch, schema);

    for (const [patchKey, patchV] of Object.entries(patch)) {
      let key = patchKey;
      let isDeleteList = false;
      if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
        key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST);
        isDeleteList = true;
      }
      if (patchV === null) {
        delete original[key];
        continue;
      }
      const meta = this.field(schema, key);
      if (!hasOwn(original, key) || kindOf(original[key]) !== kindOf(patchV)) {
        if (!isDeleteList) setField(original, key, this.fresh(patchV, meta));
        continue;
      }
      const current = original[key];
      if (isObject(current) && isObject(patchV)) {
        setField(original, key, meta.strategy === 'replace' ? this.fresh(patchV, meta) : this.mergeMap(current, patchV, meta.schema));
      } else if (Array.isArray(current) && Array.isArray(patchV)) {
        if (isDeleteList) setField(original, key, current.filter((v) => !patchV.some((d) => jsonEqual(d, v))));
        else if (meta.strategy === 'merge') setField(original, key, this.mergeSlice(current, patchV, meta));
        else setField(original, key, this.fresh(patchV, meta));
      } else {
        setField(original, key, patchV);
      }
    }
    return original;
  }

  /**
   * The value a patch gives a field that the object does not have yet (or
   * has with another type): directives processed as if merged into nothing,
   * nulls dropped, so that no `$patch` and no null is ever stored.
   */
  fresh(value: unknown, meta: FieldMeta): unknown {
    if (isObject(value)) return this.mergeMap({}, value, meta.schema);
    if (Array.isArray(value)) {
      if (meta.strategy === 'merge') return this.mergeSlice([], value, meta);
      const itemSchema = this.items(meta);
      // upstream's removeDirectives drops list items that carry a directive
      return value
        .filter((v) => !(isObject(v) && hasOwn(v, DIRECTIVE)))
        .map((v) => (isObject(v) ? this.mergeMap({}, v, itemSchema) : v));
    }
    return value;
  }

  /** `$retainKeys`: every field of `original` not named is cleared; the
   *  patch may only set fields that are named. */
  applyRetainKeys(original: JsonObject, patch: JsonObject): void {
    if (!hasOwn(patch, RETAIN_KEYS)) return;
    const retain = patch[RETAIN_KEYS];
    delete patch[RETAIN_KEYS];
    if (!Array.isArray(retain)) throw errBadPatchFormatForRetainKeys();
    const keep = new Set<unknown>(retain);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
      if (!keep.has(k)) throw errBadPatchFormatForRetainKeys();
    }
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }

  /**
   * `$setElementOrder/<field>` (upstream's mergePatchIntoOriginal): merges
   * the list the directive names, then orders it: items named by the
   * directive in its order, the other (server-only) items interleaved where
   * they sat in the live list. Consumes both the directive and the list.
   */
  mergeOrderedLists(original: JsonObject, patch: JsonObject, schema: JsonSchema | undefined): void {
    for (const directiveKey of Object.keys(patch)) {
      if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
      const order = patch[directiveKey];
      delete patch[directiveKey];
      if (!Array.isArray(order)) throw errBadArgType(SLICE_TYPE, order);
      const key = extractKey(directiveKey, SET_ELEMENT_ORDER);

      const hasOriginal = hasOwn(original, key);
      const hasPatch = hasOwn(patch, key);
      const originalList = original[key];
      const patchList = patch[key];
      if (hasOriginal && !Array.isArray(originalList)) throw errBadArgType(SLICE_TYPE, originalList);
      if (hasPatch && !Array.isArray(patchList)) throw errBadArgType(SLICE_TYPE, patchList);
      const origItems: unknown[] = Array.isArray(originalList) ? originalList : [];
      const patchItems: unknown[] = Array.isArray(patchList) ? patchList : [];

      const meta = this.field(schema, key);
      validatePatchWithSetOrderList(patchItems, order, meta.mergeKey);

      let merged: unknown[];
      if (hasOriginal && !hasPatch) merged = origItems;
      else if (!hasOriginal && hasPatch) merged = this.fresh(patchItems, meta) as unknown[];
      else if (hasOriginal && hasPatch) {
        merged = meta.strategy === 'merge' ? this.mergeSlice(origItems, patchItems, meta) : this.fresh(patchItems, meta) as unknown[];
      } else continue;
      delete patch[key];

      const kind = elementKind([origItems, patchItems]);
      if (kind === undefined || (kind === 'object' && !meta.mergeKey)) {
        // nothing to order by (upstream fails or panics here)
        setField(original, key, merged);
        continue;
      }
      const [named, serverOnly] = partition(merged, order, meta.mergeKey, kind);
      setField(original, key, normalizeElementOrder(named, serverOnly, order, origItems, meta.mergeKey, kind));
    }
  }

  // ---- lists --------------------------------------------------------------

  /** upstream's mergeSlice for a list with strategy `merge`. */
  mergeSlice(original: unknown[], patch: unknown[], meta: FieldMeta): unknown[] {
    if (original.length === 0 && patch.length === 0) return original;
    const kind = elementKind([original, patch]) ?? 'null';

    if (kind !== 'object') {
      const merged: unknown[] = [];
      for (const v of [...original, ...patch]) if (!merged.some((m) => m === v)) merged.push(v);
      const [named, serverOnly] = partition(merged, patch, '', kind);
      return normalizeElementOrder(named, serverOnly, patch, original, '', kind);
    }

    const mergeKey = meta.mergeKey;
    if (!mergeKey) throw badRequest('cannot merge lists without merge key for type struct');
    const itemSchema = this.items(meta);
    let current = original as JsonObject[];
    let rest: JsonObject[] = [];
    let replace = false;
    for (const item of patch as JsonObject[]) {
      if (!hasOwn(item, DIRECTIVE)) { rest.push(item); continue; }
      const directive = item[DIRECTIVE];
      if (directive === 'delete') {
        if (!hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
        current = current.filter((o) => !(hasOwn(o, mergeKey) && o[mergeKey] === item[mergeKey]));
      } else if (directive === 'replace') {
        replace = true;
      } else if (directive === 'merge') {
        delete item[DIRECTIVE];
        if (Object.keys(item).length > 0) rest.push(item);
      } else {
        throw errBadPatchType(directive, item);
      }
    }
    if (replace) {
      current = rest.map((item) => this.mergeMap({}, item, itemSchema));
      rest = [];
    }

    const merged = [...current];
    for (const item of rest) {
      if (!hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      const at = merged.findIndex((o) => hasOwn(o, mergeKey) && o[mergeKey] === item[mergeKey]);
      if (at >= 0) merged[at] = this.mergeMap(merged[at], item, itemSchema);
      else merged.push(this.mergeMap({}, item, itemSchema));
    }
    const [named, serverOnly] = partition(merged, rest, mergeKey, kind);
    return normalizeElementOrder(named, serverOnly, rest, current, mergeKey, kind);
  }

  // ---- server-side apply --------------------------------------------------

  applyMap(live: JsonObject, config: JsonObject, schema: JsonSchema | undefined): JsonObject {
    for (const [key, value] of Object.entries(config)) {
      if (value === null) {
        delete live[key];
        continue;
      }
      const meta = this.field(schema, key);
      const current = live[key];
      if (isObject(value) && isObject(current) && !this.atomicMap(meta)) {
        setField(live, key, this.applyMap(current, value, meta.schema));
      } else if (Array.isArray(value) && Array.isArray(current)) {
        setField(live, key, this.applyList(current, value, meta));
      } else {
        setField(live, key, dropNulls(value));
      }
    }
    return live;
  }

  atomicMap(meta: FieldMeta): boolean {
    return meta.mapType === 'atomic' || meta.strategy === 'replace' || meta.schema?.['x-kubernetes-map-type'] === 'atomic';
  }

  applyList(live: unknown[], config: unknown[], meta: FieldMeta): unknown[] {
    if (meta.listType === 'atomic') return dropNulls(config) as unknown[];
    const keys = meta.mergeKey ? [meta.mergeKey] : meta.listType === 'map' ? meta.listMapKeys ?? [] : [];
    if (keys.length > 0 && config.every(isObject) && live.every(isObject)) {
      const itemSchema = this.items(meta);
      const merged = [...live] as JsonObject[];
      for (const item of config as JsonObject[]) {
        const at = merged.findIndex((o) => keys.every((k) => (o[k] ?? null) === (item[k] ?? null)));
        if (at >= 0) merged[at] = this.applyMap(merged[at], item, itemSchema);
        else merged.push(dropNulls(item) as JsonObject);
      }
      return merged;
    }
    if (meta.listType === 'set' || meta.strategy === 'merge') {
      const merged = [...live];
      for (const v of config) if (!merged.some((m) => jsonEqual(m, v))) merged.push(v);
      return merged;
    }
    return dropNulls(config) as unknown[];
  }
}

/**
 * Server-side apply, the subset bosun implements: the applied configuration
 * is merged into the live object and its fields win. Objects merge field by
 * field (unless the schema marks them atomic); lists merge by their merge key
 * (SMP's, else `x-kubernetes-list-map-keys`) or as sets, or are replaced
 * when atomic or unknown; `null` removes a field.
 *
 * True server-side apply tracks which manager owns each field
 * (`metadata.managedFields`), removes fields a manager stops applying and
 * answers 409 on conflicts between managers. None of that is done here: a
 * field left out of a later configuration stays as it is, and `force` and
 * `fieldManager` change nothing.
 */
export function applyConfiguration(
  live: JsonObject, config: JsonObject, schema: JsonSchema | undefined, lookup: SchemaLookup | undefined,
): JsonObject {
  const merger = new Merger(lookup);
  return merger.applyMap(deepCopy(live), deepCopy(config), merger.resolve(schema));
}

function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, e] of Object.entries(v)) if (e !== null) setField(out, k, dropNulls(e));
    return out;
  }
  return v;
}

// ---- ordering (upstream's normalizeElementOrder and friends) --------------

/** The one kind all elements share; undefined when there are none. */
function elementKind(lists: unknown[][]): Kind | undefined {
  let kind: Kind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (kind === undefined) {
        if (k === 'array') throw errNoListOfLists();
        kind = k;
      } else if (k !== kind) {
        throw badRequest(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  return kind;
}

/** What identifies an item for ordering: its merge key value, or itself. */
const identity = (v: unknown, mergeKey: string, kind: Kind): unknown =>
  kind === 'object' ? (isObject(v) ? v[mergeKey] ?? null : null) : v;

function indexIn(list: unknown[], v: unknown, mergeKey: string, kind: Kind): number {
  const id = identity(v, mergeKey, kind);
  return list.findIndex((e) => identity(e, mergeKey, kind) === id);
}

/** Splits `list` into the items present in `by` and the rest. */
function partition(list: unknown[], by: unknown[], mergeKey: string, kind: Kind): [unknown[], unknown[]] {
  const named: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of list) {
    if (kind === 'object') {
      if (!isObject(v)) throw errBadArgType(MAP_TYPE, v);
      if (!hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
      const found = by.some((b, i) => {
        if (!isObject(b)) throw badRequest(`value for key ${i} is not a map.`);
        return hasOwn(b, mergeKey) && b[mergeKey] === v[mergeKey];
      });
      (found ? named : rest).push(v);
    } else {
      (by.includes(v) ? named : rest).push(v);
    }
  }
  return [named, rest];
}

/** Sorts `toSort` by the positions of its items in `order` (stable);
 *  items marked `$patch: delete` go last. */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: Kind): unknown[] {
  let items = toSort;
  let deletions: unknown[] = [];
  if (kind === 'object') {
    for (const list of [toSort, order]) {
      for (const v of list) {
        if (!isObject(v)) throw errBadArgType(MAP_TYPE, v);
        if (!hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
      }
    }
    items = toSort.filter((v) => !(isObject(v) && v[DIRECTIVE] === 'delete'));
    deletions = toSort.filter((v) => isObject(v) && v[DIRECTIVE] === 'delete');
  }
  const positioned = items.map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey, kind) }));
  positioned.sort((a, b) => {
    const pa = a.at < 0 ? Number.MAX_SAFE_INTEGER : a.at;
    const pb = b.at < 0 ? Number.MAX_SAFE_INTEGER : b.at;
    return pa - pb || a.i - b.i;
  });
  return [...positioned.map((p) => p.v), ...deletions];
}

/**
 * Orders the patch's items by `patchOrder` and the server-only items by
 * `serverOrder`, then interleaves them: a server-only item goes before a
 * patch item only when both sit in the live list and it sat earlier. So new
 * items come before the server-only ones, as upstream (and kubectl's users)
 * see it.
 */
function normalizeElementOrder(
  patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: Kind,
): unknown[] {
  const left = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  const right = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** The patch's items must appear in the `$setElementOrder` list, in its order. */
function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  let items = patchList;
  if (mergeKey) {
    for (const v of patchList) if (!isObject(v)) throw errBadArgType(MAP_TYPE, v);
    items = patchList.filter((v) => !(isObject(v) && v[DIRECTIVE] === 'delete'));
  }
  const keyEqual = (a: unknown, b: unknown): boolean => {
    if (!mergeKey) return a === b;
    if (!isObject(a)) throw errBadArgType(MAP_TYPE, a);
    if (!isObject(b)) throw errBadArgType(MAP_TYPE, b);
    if (!hasOwn(a, mergeKey)) throw errNoMergeKey(a, mergeKey);
    if (!hasOwn(b, mergeKey)) throw errNoMergeKey(b, mergeKey);
    return a[mergeKey] === b[mergeKey];
  };
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    const item = items[p];
    if (isObject(item) && hasOwn(item, DIRECTIVE)) { p++; continue; }
    if (keyEqual(item, order[s])) p++;
    s++;
  }
  if (p < items.length && s >= order.length) {
    throw badRequest(`the order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}`);
  }
}

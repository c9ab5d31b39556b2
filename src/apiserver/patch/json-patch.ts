/**
 * JSON patch (RFC 6902), `application/json-patch+json`.
 *
 * The operations themselves are carried out by `fast-json-patch`. Before each
 * one, the path is resolved here the way upstream's library
 * (gopkg.in/evanphx/json-patch.v4, which the apiserver uses) resolves it, so
 * that a patch which applies upstream applies here and one that fails gets
 * upstream's message. The differences from a strict RFC 6902 reading that
 * users of kubectl rely on are kept:
 *  - `replace` of a missing member of an object adds it;
 *  - negative array indices count from the end;
 *  - an `add`/`replace` without `value` stores null.
 *
 * Errors: a body that is not an array of operation objects is a 400
 * BadRequest; an operation that cannot apply (bad path, failed `test`) is a
 * 422 Invalid, worded as upstream's apiserver (handlers/patch.go) words it,
 * with the library's message in `details.causes` (old releases answered 500).
 */
import fastJsonPatch from 'fast-json-patch';
import { StatusError, badRequest } from '../../api/status.js';
import { deepCopy, isObject, jsonKindName, parseJson, type JsonObject } from './json-value.js';

/** One decoded operation: upstream keeps every member raw (`map[string]*json.RawMessage`). */
export type JsonPatchOperation = JsonObject | null;

/** Upstream's cap on the operations of one patch (413 beyond it). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/**
 * Decodes a JSON patch body. Throws 400 BadRequest for a body that is not
 * JSON or not an array of objects (upstream's encoding/json wording), 413
 * for more than 10000 operations. `null` is an empty patch, as upstream.
 */
export function parseJsonPatch(body: string): JsonPatchOperation[] {
  const parsed = parseJson(body);
  if (!parsed.ok) throw badRequest(parsed.message);
  const ops = parsed.value;
  if (ops === null) return [];
  if (!Array.isArray(ops)) {
    throw badRequest(`json: cannot unmarshal ${jsonKindName(ops)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of ops) {
    if (op !== null && !isObject(op)) {
      throw badRequest(`json: cannot unmarshal ${jsonKindName(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new StatusError(413, 'RequestEntityTooLarge',
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  return ops as JsonPatchOperation[];
}

/**
 * The 422 upstream answers for a patch that does not apply:
 * `errors.NewGenericServerResponse(422, …, err.Error())`, which kubectl
 * prints as "The request is invalid: the server rejected our request due to
 * an error in our request" and which carries the cause.
 */
export function patchDoesNotApply(cause: string): StatusError {
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message: cause }],
  });
}

/** Applies the operations to a deep copy of `doc`; `doc` is not modified. */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOperation[]): unknown {
  let root = deepCopy(doc);
  for (const op of ops) {
    try {
      root = applyOne(root, op ?? {});
    } catch (e) {
      // fast-json-patch refuses `__proto__` and friends with a TypeError:
      // that too is a patch that cannot apply.
      if (e instanceof OpError || e instanceof TypeError) throw patchDoesNotApply(e.message);
      throw e;
    }
  }
  return root;
}

/** A failure worded like upstream's library (pkg/errors' "context: cause"). */
class OpError extends Error {}

const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

type Container = JsonObject | unknown[];

/** Where a path points: the container, the (unescaped) last token, and the
 *  pointer of the container for fast-json-patch. */
interface Target { container: Container; key: string; containerPointer: string }

/** Reads a string member the way upstream's Operation.Path()/From() does. */
function member(op: JsonObject, name: 'path' | 'from'): { ok: true; value: string } | { ok: false; error: string } {
  const v = op[name];
  if (v === undefined || v === null) {
    return { ok: false, error: name === 'path' ? `operation missing path field: ${MISSING}` : `operation, missing from field: ${MISSING}` };
  }
  if (typeof v !== 'string') return { ok: false, error: `json: cannot unmarshal ${jsonKindName(v)} into Go value of type string` };
  return { ok: true, value: v };
}

const unescapeToken = (t: string) => t.replace(/~1/g, '/').replace(/~0/g, '~');
const pointerOf = (parent: string, key: string | number) =>
  `${parent}/${fastJsonPatch.escapePathComponent(String(key))}`;

/** strconv.Atoi: an optional sign and decimal digits, nothing else. */
function atoi(s: string): number | string {
  if (!/^[+-]?\d+$/.test(s)) return `strconv.Atoi: parsing "${s}": invalid syntax`;
  return Number.parseInt(s, 10);
}

/** An existing element's index, as partialArray.get resolves it; a string is the error. */
function existingIndex(arr: unknown[], key: string): number | string {
  const n = atoi(key);
  if (typeof n === 'string') return n;
  let idx = n;
  if (idx < 0) {
    if (idx < -arr.length) return `Unable to access invalid index: ${idx}: ${INVALID_INDEX}`;
    idx += arr.length;
  }
  if (idx >= arr.length) return `Unable to access invalid index: ${idx}: ${INVALID_INDEX}`;
  return idx;
}

/** findObject: walks all tokens but the last; undefined where upstream finds nothing. */
function find(root: unknown, path: string): Target | undefined {
  const tokens = path.split('/');
  if (tokens.length < 2) return undefined;
  let current: unknown = root;
  let pointer = '';
  for (const raw of tokens.slice(1, -1)) {
    const token = unescapeToken(raw);
    let next: unknown;
    if (Array.isArray(current)) {
      const idx = existingIndex(current, token);
      if (typeof idx === 'string') return undefined;
      next = current[idx];
      pointer = pointerOf(pointer, idx);
    } else if (isObject(current)) {
      next = Object.hasOwn(current, token) ? current[token] : undefined;
      pointer = pointerOf(pointer, token);
    } else {
      return undefined;
    }
    if (next === undefined || next === null) return undefined;
    current = next;
  }
  if (!Array.isArray(current) && !isObject(current)) return undefined;
  return { container: current, key: unescapeToken(tokens[tokens.length - 1]), containerPointer: pointer };
}

/** The value an operation carries; upstream stores null when it is absent. */
const valueOf = (op: JsonObject): unknown => deepCopy(op.value ?? null);

/** The value at a target, as `get` sees it: undefined for a missing object member. */
function get(t: Target, context: (err: string) => string): unknown {
  if (Array.isArray(t.container)) {
    const idx = existingIndex(t.container, t.key);
    if (typeof idx === 'string') throw new OpError(context(idx));
    return t.container[idx];
  }
  return Object.hasOwn(t.container, t.key) ? t.container[t.key] : undefined;
}

function add(root: unknown, t: Target, value: unknown, context: (err: string) => string): unknown {
  let key: string | number = t.key;
  if (Array.isArray(t.container) && t.key !== '-') {
    const n = atoi(t.key);
    if (typeof n === 'string') throw new OpError(context(`value was not a proper array index: '${t.key}': ${n}`));
    const size = t.container.length + 1;
    if (n >= size || n < -size) throw new OpError(context(`Unable to access invalid index: ${n}: ${INVALID_INDEX}`));
    key = n < 0 ? n + size : n;
  }
  return fastJsonPatch.applyOperation(root, { op: 'add', path: pointerOf(t.containerPointer, key), value }, false, true).newDocument;
}

function remove(root: unknown, t: Target, context: (err: string) => string): unknown {
  let key: string | number = t.key;
  if (Array.isArray(t.container)) {
    const idx = existingIndex(t.container, t.key);
    if (typeof idx === 'string') throw new OpError(context(idx));
    key = idx;
  } else if (!Object.hasOwn(t.container, t.key)) {
    throw new OpError(context(`Unable to remove nonexistent key: ${t.key}: ${MISSING}`));
  }
  return fastJsonPatch.applyOperation(root, { op: 'remove', path: pointerOf(t.containerPointer, key) }, false, true).newDocument;
}

function applyOne(root: unknown, op: JsonObject): unknown {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  switch (kind) {
    case 'add': {
      const path = member(op, 'path');
      if (!path.ok) throw new OpError(`add operation failed to decode path: ${MISSING}`);
      const t = find(root, path.value);
      if (!t) throw new OpError(`add operation does not apply: doc is missing path: "${path.value}": ${MISSING}`);
      return add(root, t, valueOf(op), (err) => `error in add for path: '${path.value}': ${err}`);
    }
    case 'remove': {
      const path = member(op, 'path');
      if (!path.ok) throw new OpError(`remove operation failed to decode path: ${MISSING}`);
      const t = find(root, path.value);
      if (!t) throw new OpError(`remove operation does not apply: doc is missing path: "${path.value}": ${MISSING}`);
      return remove(root, t, (err) => `error in remove for path: '${path.value}': ${err}`);
    }
    case 'replace': {
      const path = member(op, 'path');
      if (!path.ok) throw new OpError(`replace operation failed to decode path: ${path.error}`);
      if (path.value === '') {
        // Upstream swaps the whole document for an object or array and
        // silently ignores any other value.
        const value = valueOf(op);
        return Array.isArray(value) || isObject(value) ? value : root;
      }
      const t = find(root, path.value);
      if (!t) throw new OpError(`replace operation does not apply: doc is missing path: ${path.value}: ${MISSING}`);
      let key: string | number = t.key;
      if (Array.isArray(t.container)) {
        const idx = existingIndex(t.container, t.key);
        if (typeof idx === 'string') throw new OpError(`replace operation does not apply: doc is missing key: ${path.value}: ${MISSING}`);
        key = idx;
      }
      // fast-json-patch's unvalidated replace sets the member, which is
      // upstream's behaviour for a member that does not exist yet.
      return fastJsonPatch.applyOperation(root, { op: 'replace', path: pointerOf(t.containerPointer, key), value: valueOf(op) }, false, true).newDocument;
    }
    case 'move': {
      const from = member(op, 'from');
      if (!from.ok) throw new OpError(`move operation failed to decode from: ${from.error}`);
      const source = find(root, from.value);
      if (!source) throw new OpError(`move operation does not apply: doc is missing from path: ${from.value}: ${MISSING}`);
      const value = deepCopy(get(source, (err) => `error in move for path: '${source.key}': ${err}`) ?? null);
      let doc = remove(root, source, (err) => `error in move for path: '${source.key}': ${err}`);
      const path = member(op, 'path');
      if (!path.ok) throw new OpError(`move operation failed to decode path: ${path.error}`);
      const dest = find(doc, path.value);
      if (!dest) throw new OpError(`move operation does not apply: doc is missing destination path: ${path.value}: ${MISSING}`);
      doc = add(doc, dest, value, (err) => `error in move for path: '${path.value}': ${err}`);
      return doc;
    }
    case 'copy': {
      const from = member(op, 'from');
      if (!from.ok) throw new OpError(`copy operation failed to decode from: ${from.error}`);
      const source = find(root, from.value);
      if (!source) throw new OpError(`copy operation does not apply: doc is missing from path: ${from.value}: ${MISSING}`);
      const value = deepCopy(get(source, (err) => `error in copy for from: '${from.value}': ${err}`) ?? null);
      const path = member(op, 'path');
      if (!path.ok) throw new OpError(`copy operation failed to decode path: ${MISSING}`);
      const dest = find(root, path.value);
      if (!dest) throw new OpError(`copy operation does not apply: doc is missing destination path: ${path.value}: ${MISSING}`);
      return add(root, dest, value, (err) => `error while adding value during copy: ${err}`);
    }
    case 'test': {
      const path = member(op, 'path');
      if (!path.ok) throw new OpError(`test operation failed to decode path: ${path.error}`);
      const failed = () => new OpError(`testing value ${path.value} failed: test failed`);
      const expected = op.value ?? null;
      if (path.value === '') {
        if (!fastJsonPatch._areEquals(root, expected)) throw failed();
        return root;
      }
      const t = find(root, path.value);
      if (!t) throw new OpError(`test operation does not apply: is missing path: ${path.value}: ${MISSING}`);
      const actual = get(t, (err) => `error in test for path: '${path.value}': ${err}`) ?? null;
      if (!fastJsonPatch._areEquals(actual, expected)) throw failed();
      return root;
    }
    default:
      throw new OpError(`Unexpected kind: ${kind}`);
  }
}

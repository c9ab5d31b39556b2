/**
 * JSON merge patch (RFC 7386), `application/merge-patch+json`: what
 * `kubectl label`, `kubectl annotate`, `kubectl patch --type merge` and
 * every client of a custom resource send.
 */
import { deepCopy, isObject, setField, type JsonObject } from './json-value.js';

/**
 * Applies `patch` to `target` and returns the result; neither argument is
 * modified. A non-object patch replaces the target; `null` in an object
 * patch removes the member.
 *
 * Like upstream (evanphx/json-patch, which the apiserver uses), nulls are
 * also pruned from objects nested inside arrays that the patch brings in:
 * an array is stored as given, but an object never keeps a null member.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return pruneNulls(deepCopy(patch));
  const result: JsonObject = isObject(target) ? deepCopy(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      setField(result, key, mergePatch(result[key], value));
    }
  }
  return result;
}

function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pruneNulls);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, e] of Object.entries(v)) if (e !== null) setField(out, k, pruneNulls(e));
    return out;
  }
  return v;
}

/**
 * The OpenAPI documents the server publishes: the v3 index (/openapi/v3), one
 * v3 document per group version (/openapi/v3/apis/apps/v1), and the Swagger
 * 2.0 document (/openapi/v2). Shaped after upstream's, because kubectl reads
 * them: `apply/create/replace` look for a PATCH operation of the kind that
 * takes `fieldValidation` before leaving validation to the server, and
 * `kubectl explain` walks `components.schemas`.
 *
 * Each document is built once, on first request, and kept with its
 * serialized bytes and hash.
 */
import { createHash } from 'node:crypto';
import { RESOURCES, apiVersionOf, verbsOf, type ResourceDefinition, type Verb } from '../resources.js';
import { SELF_REVIEW_RESOURCES } from '../handlers/self-review.js';
import type { JsonSchema } from './schema-lookup.js';
import { REF_PREFIX, definitionNameForKind, definitions, refName } from './schemas.js';

/** The Kubernetes release whose API (via kubernetes-types) the schemas describe. */
export const OPENAPI_KUBERNETES_VERSION = 'v1.30.0';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const STATUS = `${META}Status`;
const DELETE_OPTIONS = `${META}DeleteOptions`;
const WATCH_EVENT = `${META}WatchEvent`;
const PATCH = `${META}Patch`;
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';
const BINDING = 'io.k8s.api.core.v1.Binding';
const EVICTION = 'io.k8s.api.policy.v1.Eviction';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

export const PATCH_CONTENT_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;

/** JSON values of a document; schemas inside are JsonSchema-shaped, plus upstream's `oneOf`. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface ServedDocument {
  /** The document itself; shared, do not mutate. */
  readonly document: Readonly<JsonObject>;
  /** The JSON bytes to send. */
  readonly body: Buffer;
  /** Upstream-style content hash (SHA-512, upper-case hex), used in `?hash=`. */
  readonly hash: string;
  /** A strong ETag for the body. */
  readonly etag: string;
}

interface Gvk { group: string; version: string; kind: string }

// ---------------------------------------------------------------- parameters

type ParamType = 'string' | 'integer' | 'boolean';
interface ParamSpec { name: string; in: 'query' | 'path'; type: ParamType; description: string; required?: boolean }

const q = (name: string, type: ParamType, description: string): ParamSpec => ({ name, in: 'query', type, description });

// Upstream's wording, so `kubectl explain`-adjacent tooling reads the same text.
const P = {
  pretty: q('pretty', 'string', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  dryRun: q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: q('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.'),
  fieldManagerPatch: q('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).'),
  fieldValidation: q('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.'),
  force: q('force', 'boolean', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.'),
  continue: q('continue', 'string', 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token.'),
  fieldSelector: q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'integer', 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.'),
  resourceVersion: q('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event  will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `"k8s.io/initial-events-end": "true"` annotation.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  watch: q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.'),
  propagationPolicy: q('propagationPolicy', 'string', "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground."),
};

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManagerPatch, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.labelSelector, P.limit, P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds];

const pathParam = (name: string, description: string): ParamSpec => ({ name, in: 'path', type: 'string', description, required: true });

// ---------------------------------------------------------------- operations

/** Upstream's `x-kubernetes-action` values. */
type Action = 'get' | 'list' | 'watch' | 'watchlist' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface OperationSpec {
  method: Method;
  action: Action;
  operationId: string;
  description: string;
  gvk: Gvk;
  params: ParamSpec[];
  /** Definition name of the request body, if any. */
  body?: string;
  bodyRequired?: boolean;
  patch?: boolean;
  /** status code → definition name ('' for a bare description) */
  responses: Array<[string, string]>;
  streams?: boolean;
}

interface PathSpec { path: string; params: ParamSpec[]; ops: OperationSpec[] }

/** core → Core, rbac.authorization.k8s.io → RbacAuthorization, as upstream's operation IDs spell groups. */
function groupPrefix(group: string, version: string): string {
  const words = group ? group.replace(/\.k8s\.io$/, '').split(/[.-]/) : ['core'];
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return words.map(cap).join('') + cap(version);
}

export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function pathsForResource(def: ResourceDefinition): PathSpec[] {
  const gv = `/${groupVersionPath(def.group, def.version)}`;
  const verbs = new Set<Verb>(verbsOf(def));
  const kindDef = definitionNameForKind(def.group, def.version, def.kind);
  if (!kindDef) throw new Error(`openapi: no schema for ${apiVersionOf(def)} ${def.kind}`);
  const listDef = definitionNameForKind(def.group, def.version, `${def.kind}List`);
  const gvk: Gvk = { group: def.group, version: def.version, kind: def.kind };
  const prefix = groupPrefix(def.group, def.version);
  const scope = def.namespaced ? 'Namespaced' : '';
  const K = def.kind;

  const nsParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');
  const nameParam = pathParam('name', `name of the ${K}`);
  const collection = def.namespaced ? `${gv}/namespaces/{namespace}/${def.resource}` : `${gv}/${def.resource}`;
  const item = `${collection}/{name}`;
  const scopeParams = def.namespaced ? [nsParam] : [];
  const paths: PathSpec[] = [];

  const collectionOps: OperationSpec[] = [];
  if (verbs.has('list') && listDef) {
    collectionOps.push({
      method: 'get', action: 'list', operationId: `list${prefix}${scope}${K}`,
      description: `list or watch objects of kind ${K}`, gvk, params: LIST_PARAMS,
      responses: [['200', listDef], ['401', '']], streams: true,
    });
  }
  if (verbs.has('create')) {
    collectionOps.push({
      method: 'post', action: 'post', operationId: `create${prefix}${scope}${K}`,
      description: `create ${article(K)} ${K}`, gvk, params: WRITE_PARAMS, body: kindDef, bodyRequired: true,
      responses: [['200', kindDef], ['201', kindDef], ['202', kindDef], ['401', '']],
    });
  }
  if (verbs.has('deletecollection')) {
    collectionOps.push({
      method: 'delete', action: 'deletecollection', operationId: `delete${prefix}Collection${scope}${K}`,
      description: `delete collection of ${K}`, gvk, params: DELETE_COLLECTION_PARAMS, body: DELETE_OPTIONS,
      responses: [['200', STATUS], ['401', '']],
    });
  }
  if (collectionOps.length) paths.push({ path: collection, params: [...scopeParams, P.pretty], ops: collectionOps });

  const itemOps: OperationSpec[] = [];
  if (verbs.has('get')) {
    itemOps.push({
      method: 'get', action: 'get', operationId: `read${prefix}${scope}${K}`,
      description: `read the specified ${K}`, gvk, params: [], responses: [['200', kindDef], ['401', '']],
    });
  }
  if (verbs.has('update')) {
    itemOps.push({
      method: 'put', action: 'put', operationId: `replace${prefix}${scope}${K}`,
      description: `replace the specified ${K}`, gvk, params: WRITE_PARAMS, body: kindDef, bodyRequired: true,
      responses: [['200', kindDef], ['201', kindDef], ['401', '']],
    });
  }
  if (verbs.has('patch')) {
    itemOps.push({
      method: 'patch', action: 'patch', operationId: `patch${prefix}${scope}${K}`,
      description: `partially update the specified ${K}`, gvk, params: PATCH_PARAMS, body: PATCH, bodyRequired: true, patch: true,
      responses: [['200', kindDef], ['201', kindDef], ['401', '']],
    });
  }
  if (verbs.has('delete')) {
    itemOps.push({
      method: 'delete', action: 'delete', operationId: `delete${prefix}${scope}${K}`,
      description: `delete ${article(K)} ${K}`, gvk, params: DELETE_PARAMS, body: DELETE_OPTIONS,
      responses: [['200', STATUS], ['202', STATUS], ['401', '']],
    });
  }
  if (itemOps.length) paths.push({ path: item, params: [nameParam, ...scopeParams, P.pretty], ops: itemOps });

  if (def.namespaced && verbs.has('list') && listDef) {
    paths.push({
      path: `${gv}/${def.resource}`, params: [P.pretty],
      ops: [{
        method: 'get', action: 'list', operationId: `list${prefix}${K}ForAllNamespaces`,
        description: `list or watch objects of kind ${K}`, gvk, params: LIST_PARAMS,
        responses: [['200', listDef], ['401', '']], streams: true,
      }],
    });
  }

  if (verbs.has('watch')) {
    // Upstream still publishes the deprecated /watch/ paths; clients
    // generated from the spec (not kubectl) may call them.
    const watchCollection = def.namespaced ? `${gv}/watch/namespaces/{namespace}/${def.resource}` : `${gv}/watch/${def.resource}`;
    paths.push({
      path: watchCollection, params: [...scopeParams, P.pretty],
      ops: [{
        method: 'get', action: 'watchlist', operationId: `watch${prefix}${scope}${K}List`,
        description: `watch individual changes to a list of ${K}. deprecated: use the 'watch' parameter with a list operation instead.`,
        gvk, params: LIST_PARAMS, responses: [['200', WATCH_EVENT], ['401', '']], streams: true,
      }],
    });
    paths.push({
      path: `${watchCollection}/{name}`, params: [nameParam, ...scopeParams, P.pretty],
      ops: [{
        method: 'get', action: 'watch', operationId: `watch${prefix}${scope}${K}`,
        description: `watch changes to an object of kind ${K}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
        gvk, params: LIST_PARAMS, responses: [['200', WATCH_EVENT], ['401', '']], streams: true,
      }],
    });
    if (def.namespaced) {
      paths.push({
        path: `${gv}/watch/${def.resource}`, params: [P.pretty],
        ops: [{
          method: 'get', action: 'watchlist', operationId: `watch${prefix}${K}ListForAllNamespaces`,
          description: `watch individual changes to a list of ${K}. deprecated: use the 'watch' parameter with a list operation instead.`,
          gvk, params: LIST_PARAMS, responses: [['200', WATCH_EVENT], ['401', '']], streams: true,
        }],
      });
    }
  }

  for (const sub of def.subresources ?? []) {
    const subPath = `${item}/${sub}`;
    const params = [nameParam, ...scopeParams, P.pretty];
    if (sub === 'status' || sub === 'scale') {
      const subGvk: Gvk = sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : gvk;
      const subDef = sub === 'scale' ? SCALE : kindDef;
      const Sub = sub === 'scale' ? 'Scale' : 'Status';
      paths.push({
        path: subPath, params,
        ops: [
          {
            method: 'get', action: 'get', operationId: `read${prefix}${scope}${K}${Sub}`,
            description: `read ${sub} of the specified ${K}`, gvk: subGvk, params: [], responses: [['200', subDef], ['401', '']],
          },
          {
            method: 'put', action: 'put', operationId: `replace${prefix}${scope}${K}${Sub}`,
            description: `replace ${sub} of the specified ${K}`, gvk: subGvk, params: WRITE_PARAMS, body: subDef, bodyRequired: true,
            responses: [['200', subDef], ['201', subDef], ['401', '']],
          },
          {
            method: 'patch', action: 'patch', operationId: `patch${prefix}${scope}${K}${Sub}`,
            description: `partially update ${sub} of the specified ${K}`, gvk: subGvk, params: PATCH_PARAMS, body: PATCH, bodyRequired: true, patch: true,
            responses: [['200', subDef], ['201', subDef], ['401', '']],
          },
        ],
      });
    } else if (sub === 'finalize') {
      paths.push({
        path: subPath, params,
        ops: [{
          method: 'put', action: 'put', operationId: `replace${prefix}${scope}${K}Finalize`,
          description: `replace finalize of the specified ${K}`, gvk, params: WRITE_PARAMS, body: kindDef, bodyRequired: true,
          responses: [['200', kindDef], ['201', kindDef], ['401', '']],
        }],
      });
    } else if (sub === 'binding') {
      paths.push({
        path: subPath, params: [pathParam('name', 'name of the Binding'), ...scopeParams, P.pretty],
        ops: [{
          method: 'post', action: 'post', operationId: `create${prefix}${scope}${K}Binding`,
          description: `create binding of ${article(K)} ${K}`, gvk: { group: '', version: 'v1', kind: 'Binding' },
          params: WRITE_PARAMS, body: BINDING, bodyRequired: true,
          responses: [['200', BINDING], ['201', BINDING], ['202', BINDING], ['401', '']],
        }],
      });
    } else if (sub === 'eviction') {
      paths.push({
        path: subPath, params: [pathParam('name', 'name of the Eviction'), ...scopeParams, P.pretty],
        ops: [{
          method: 'post', action: 'post', operationId: `create${prefix}${scope}${K}Eviction`,
          description: `create eviction of ${article(K)} ${K}`, gvk: { group: 'policy', version: 'v1', kind: 'Eviction' },
          params: WRITE_PARAMS, body: EVICTION, bodyRequired: true,
          responses: [['200', EVICTION], ['201', EVICTION], ['202', EVICTION], ['401', '']],
        }],
      });
    }
  }
  return paths;
}

function article(word: string): string {
  return /^[AEIOU]/.test(word) ? 'an' : 'a';
}

function tagOf(group: string, version: string): string {
  const name = group ? group.replace(/\.k8s\.io$/, '').replace(/\./g, '_') : 'core';
  return `${name}_${version}`;
}

// ---------------------------------------------------------------- v3

const ref3 = (def: string): JsonObject => ({ $ref: `${REF_PREFIX}${def}` });

function v3Param(p: ParamSpec): JsonObject {
  const out: JsonObject = { description: p.description, in: p.in, name: p.name, schema: { type: p.type, uniqueItems: true } };
  if (p.required) out.required = true;
  return out;
}

function v3Operation(op: OperationSpec, tag: string): JsonObject {
  const responses: JsonObject = {};
  for (const [code, def] of op.responses) {
    const description = { '200': 'OK', '201': 'Created', '202': 'Accepted', '401': 'Unauthorized' }[code] ?? 'OK';
    if (!def) { responses[code] = { description }; continue; }
    const types = ['application/json', 'application/yaml', ...(op.streams ? ['application/json;stream=watch'] : [])];
    responses[code] = { content: Object.fromEntries(types.map((t) => [t, { schema: ref3(def) }])), description };
  }
  const out: JsonObject = {
    description: op.description,
    operationId: op.operationId,
    responses,
    tags: [tag],
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version },
  };
  if (op.params.length) out.parameters = op.params.map(v3Param);
  if (op.body) {
    const types = op.patch ? [...PATCH_CONTENT_TYPES] : ['*/*'];
    const body: JsonObject = { content: Object.fromEntries(types.map((t) => [t, { schema: ref3(op.body!) }])) };
    if (op.bodyRequired) body.required = true;
    out.requestBody = body;
  }
  return out;
}

/** Upstream publishes these two as oneOf in v3 (kubectl explain then shows `<Quantity>`, `<IntOrString>`). */
function v3Schema(name: string, schema: JsonSchema): JsonObject {
  const base = schema as unknown as JsonObject;
  if (name === QUANTITY) {
    return { description: schema.description ?? '', oneOf: [{ type: 'string' }, { type: 'number' }] };
  }
  if (name === INT_OR_STRING) {
    return {
      description: schema.description ?? '', format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true,
    };
  }
  return base;
}

function collectRefs(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) { for (const v of value) collectRefs(v, into); return; }
  if (!value || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && typeof child === 'string') {
      const name = refName(child);
      if (name) into.add(name);
    } else {
      collectRefs(child, into);
    }
  }
}

/** `roots` and every definition reachable from them, sorted. */
function closure(roots: Iterable<string>): string[] {
  const defs = definitions();
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    const def = defs[name];
    if (!def) throw new Error(`openapi: reference to missing definition ${name}`);
    seen.add(name);
    const refs = new Set<string>();
    collectRefs(def, refs);
    for (const r of refs) if (!seen.has(r)) queue.push(r);
  }
  return [...seen].sort();
}

/** Stored kinds and the create-only reviews kubectl posts (so `kubectl create -f` can validate one). */
const DOCUMENTED: ResourceDefinition[] = [...RESOURCES, ...SELF_REVIEW_RESOURCES];

function groupVersionsServed(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of DOCUMENTED) seen.set(groupVersionPath(r.group, r.version), { group: r.group, version: r.version });
  return [...seen.values()];
}

function pathSpecsFor(group: string, version: string): PathSpec[] {
  return DOCUMENTED.filter((r) => r.group === group && r.version === version).flatMap(pathsForResource);
}

/** Definitions a group version's document carries besides those its paths name. */
function extraRoots(group: string, version: string): string[] {
  const extra = [STATUS, DELETE_OPTIONS, WATCH_EVENT, PATCH];
  for (const r of DOCUMENTED.filter((x) => x.group === group && x.version === version)) {
    const list = definitionNameForKind(r.group, r.version, `${r.kind}List`);
    if (list) extra.push(list);
  }
  return extra;
}

const SECURITY_SCHEME: JsonObject = { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' };

function buildV3(group: string, version: string): JsonObject {
  const tag = tagOf(group, version);
  const paths: JsonObject = {};
  const roots = new Set<string>(extraRoots(group, version));
  for (const spec of pathSpecsFor(group, version)) {
    const item: JsonObject = {};
    for (const op of spec.ops) {
      item[op.method] = v3Operation(op, tag);
      if (op.body) roots.add(op.body);
      for (const [, def] of op.responses) if (def) roots.add(def);
    }
    item.parameters = spec.params.map(v3Param);
    paths[spec.path] = item;
  }
  const schemas: JsonObject = {};
  for (const name of closure(roots)) schemas[name] = v3Schema(name, definitions()[name]!);
  return {
    components: { schemas, securitySchemes: { BearerToken: SECURITY_SCHEME } },
    info: { title: 'Kubernetes', version: OPENAPI_KUBERNETES_VERSION },
    openapi: '3.0.0',
    paths: sortObject(paths),
    security: [{ BearerToken: [] }],
  };
}

// ---------------------------------------------------------------- v2

/** Rewrites a v3 schema to Swagger 2.0: `#/definitions/` refs, and a described ref as `$ref` with siblings. */
function toV2Schema(value: Json): Json {
  if (Array.isArray(value)) return value.map(toV2Schema);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && typeof child === 'string') out.$ref = child.replace(REF_PREFIX, '#/definitions/');
    else out[key] = toV2Schema(child);
  }
  const allOf = out.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && allOf[0] && typeof allOf[0] === 'object' && !Array.isArray(allOf[0]) && typeof allOf[0].$ref === 'string') {
    delete out.allOf;
    out.$ref = allOf[0].$ref;
  }
  return out;
}

function v2Definition(name: string, schema: JsonSchema): Json {
  if (name === QUANTITY) return { description: schema.description ?? '', type: 'string' };
  if (name === INT_OR_STRING) return { description: schema.description ?? '', format: 'int-or-string', type: 'string' };
  return toV2Schema(schema as unknown as Json);
}

function v2Param(p: ParamSpec): JsonObject {
  const out: JsonObject = { description: p.description, in: p.in, name: p.name, type: p.type, uniqueItems: true };
  if (p.required) out.required = true;
  return out;
}

function v2Operation(op: OperationSpec, tag: string): JsonObject {
  const responses: JsonObject = {};
  for (const [code, def] of op.responses) {
    const description = { '200': 'OK', '201': 'Created', '202': 'Accepted', '401': 'Unauthorized' }[code] ?? 'OK';
    responses[code] = def ? { description, schema: { $ref: `#/definitions/${def}` } } : { description };
  }
  const params = op.params.map(v2Param);
  if (op.body) {
    const body: JsonObject = { in: 'body', name: 'body', schema: { $ref: `#/definitions/${op.body}` } };
    if (op.bodyRequired) body.required = true;
    params.unshift(body);
  }
  const out: JsonObject = {
    consumes: op.patch ? [...PATCH_CONTENT_TYPES] : ['*/*'],
    description: op.description,
    operationId: op.operationId,
    produces: ['application/json', 'application/yaml', ...(op.streams ? ['application/json;stream=watch'] : [])],
    responses,
    schemes: ['https'],
    tags: [tag],
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version },
  };
  if (params.length) out.parameters = params;
  return out;
}

function buildV2(): JsonObject {
  const paths: JsonObject = {};
  const roots = new Set<string>();
  for (const { group, version } of groupVersionsServed()) {
    const tag = tagOf(group, version);
    for (const r of extraRoots(group, version)) roots.add(r);
    for (const spec of pathSpecsFor(group, version)) {
      const item: JsonObject = {};
      for (const op of spec.ops) {
        item[op.method] = v2Operation(op, tag);
        if (op.body) roots.add(op.body);
        for (const [, def] of op.responses) if (def) roots.add(def);
      }
      item.parameters = spec.params.map(v2Param);
      paths[spec.path] = item;
    }
  }
  const defs: JsonObject = {};
  for (const name of closure(roots)) defs[name] = v2Definition(name, definitions()[name]!);
  return {
    definitions: defs,
    info: { title: 'Kubernetes', version: OPENAPI_KUBERNETES_VERSION },
    paths: sortObject(paths),
    security: [{ BearerToken: [] }],
    securityDefinitions: { BearerToken: SECURITY_SCHEME },
    swagger: '2.0',
  };
}

// ---------------------------------------------------------------- serving

function sortObject(obj: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function serve(document: JsonObject): ServedDocument {
  const body = Buffer.from(JSON.stringify(document));
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  return { document, body, hash, etag: `"${hash}"` };
}

const v3Cache = new Map<string, ServedDocument>();
let v3IndexCache: ServedDocument | undefined;
let v2Cache: ServedDocument | undefined;

/** Group-version paths with a v3 document: 'api/v1', 'apis/apps/v1', … */
export function openapiV3GroupVersions(): string[] {
  return groupVersionsServed().map((gv) => groupVersionPath(gv.group, gv.version));
}

/** The v3 document of `gvPath` ('api/v1', '/apis/apps/v1'; a `?hash=` suffix is ignored), or undefined. */
export function servedOpenapiV3Document(gvPath: string): ServedDocument | undefined {
  const key = gvPath.replace(/^\/+/, '').replace(/^openapi\/v3\//, '').replace(/[?#].*$/, '').replace(/\/+$/, '');
  const cached = v3Cache.get(key);
  if (cached) return cached;
  const gv = groupVersionsServed().find((x) => groupVersionPath(x.group, x.version) === key);
  if (!gv) return undefined;
  const served = serve(buildV3(gv.group, gv.version));
  v3Cache.set(key, served);
  return served;
}

export function openapiV3Document(gvPath: string): Readonly<JsonObject> | undefined {
  return servedOpenapiV3Document(gvPath)?.document;
}

/** /openapi/v3: each group version with its document's URL, whose hash changes when the document does. */
export function servedOpenapiV3Index(): ServedDocument {
  if (v3IndexCache) return v3IndexCache;
  const paths: JsonObject = {};
  for (const gvPath of openapiV3GroupVersions()) {
    const doc = servedOpenapiV3Document(gvPath)!;
    paths[gvPath] = { serverRelativeURL: `/openapi/v3/${gvPath}?hash=${doc.hash}` };
  }
  v3IndexCache = serve({ paths });
  return v3IndexCache;
}

export function openapiV3Index(): Readonly<JsonObject> {
  return servedOpenapiV3Index().document;
}

export function servedOpenapiV2(): ServedDocument {
  v2Cache ??= serve(buildV2());
  return v2Cache;
}

export function openapiV2(): Readonly<JsonObject> {
  return servedOpenapiV2().document;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeleteOptions, Status } from 'kubernetes-types/meta/v1';
import type { Scale } from 'kubernetes-types/autoscaling/v1';
import type { Binding, Pod, PodCondition } from 'kubernetes-types/core/v1';
import type { Eviction } from 'kubernetes-types/policy/v1';
import {
  StatusError, badRequest, conflict, methodNotAllowed, pathNotFound,
} from '../../api/status.js';
import { deepCopy, isObject, nowTimestamp } from '../../api/meta.js';
import { parseLabelSelector, labelSelectorFromObject, selectorToString } from '../../api/labels.js';
import { parseFieldSelector, fieldsOf } from '../../api/fields.js';
import { apiVersionOf, type ResourceDefinition } from '../resources.js';
import type { KubeObject } from '../strategy.js';
import type { RequestInfo } from '../request-info.js';
import type { ListFilter, ListOptions, ResourceRegistry } from '../registry.js';
import { CachedObject } from '../watch-cache.js';
import { decodeBody, negotiate, readBody, writeJson, type Negotiated } from '../http.js';
import { tableFor, toTable, parseIncludeObject } from '../tables/index.js';
import { applyPatch, patchTypeOf, APPLY_PATCH } from '../patch/index.js';
import { unknownFields, pruneUnknownFields, strictDecodingError } from '../openapi/field-validation.js';
import { schemaLookup } from '../openapi/schemas.js';
import { serveWatch } from './watch.js';
import { evictPod } from './eviction.js';
import { convertFromStorage, convertToStorage } from '../conversion/index.js';

/** Looks up the registry that stores a group-resource. */
export type RegistryLookup = (group: string, resource: string) => ResourceRegistry | undefined;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  query: URLSearchParams;
  def: ResourceDefinition;
  registry: ResourceRegistry;
  accept: Negotiated;
  dryRun: boolean;
}

const writeVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * The REST verbs on one resource: decoding, version views, Tables, watch
 * streams, subresources. Storage semantics live in `ResourceRegistry`.
 */
export class ResourceHandler {
  constructor(private readonly registries: RegistryLookup, private readonly latestRevision: () => Promise<number>) {}

  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDefinition, url: URL): Promise<void> {
    const registry = this.registries(def.group, def.resource);
    if (!registry) throw pathNotFound();
    const query = url.searchParams;
    const dryRunValues = query.getAll('dryRun');
    if (dryRunValues.some((v) => v !== 'All')) throw badRequest(`Invalid dry run value: ${dryRunValues.join(',')}; supported values: "All"`);
    const ctx: Ctx = { req, res, info, query, def, registry, accept: negotiate(req.headers.accept), dryRun: dryRunValues.length > 0 };
    if (info.namespace === undefined && def.namespaced && info.name && info.verb !== 'list' && info.verb !== 'watch') throw pathNotFound();

    if (info.subresource) return this.subresource(ctx);
    switch (info.verb) {
      case 'get': return this.get(ctx);
      case 'list': return this.list(ctx);
      case 'watch': return this.watch(ctx);
      case 'create': return this.create(ctx);
      case 'update': return this.update(ctx, undefined);
      case 'patch': return this.patch(ctx, undefined);
      case 'delete': return this.delete(ctx);
      case 'deletecollection': return this.deleteCollection(ctx);
      default: throw methodNotAllowed();
    }
  }

  static isWrite(info: RequestInfo): boolean { return writeVerbs.has(info.verb); }

  // ---- reads ---------------------------------------------------------------

  private async get(ctx: Ctx): Promise<void> {
    const obj = await ctx.registry.get(ctx.info.namespace, ctx.info.name!);
    this.respondObject(ctx, 200, obj);
  }

  private filterOf(ctx: Ctx, extraName?: string): { filter: ListFilter; unfiltered: boolean } {
    const labelSel = parseLabelSelector(ctx.query.get('labelSelector') ?? '');
    let fieldSelText = ctx.query.get('fieldSelector') ?? '';
    if (extraName) fieldSelText = fieldSelText ? `${fieldSelText},metadata.name=${extraName}` : `metadata.name=${extraName}`;
    const strategy = ctx.registry.strategy;
    const fieldSel = parseFieldSelector(fieldSelText, ctx.def.kind);
    const unfiltered = labelSel.empty() && fieldSel.empty();
    return {
      unfiltered,
      filter: unfiltered ? { matches: () => true } : {
        matches: (obj) => labelSel.matches(obj.metadata?.labels ?? {}) && fieldSel.matches(fieldsOf(obj, strategy.selectableFields?.(obj) ?? {})),
      },
    };
  }

  private listOptions(ctx: Ctx): ListOptions {
    const limit = Number(ctx.query.get('limit') ?? 0);
    return {
      ...this.filterOf(ctx),
      limit: Number.isFinite(limit) && limit > 0 ? limit : undefined,
      continueToken: ctx.query.get('continue') || undefined,
      resourceVersion: ctx.query.get('resourceVersion') ?? undefined,
      resourceVersionMatch: ctx.query.get('resourceVersionMatch') ?? undefined,
    };
  }

  private async list(ctx: Ctx): Promise<void> {
    const result = await ctx.registry.list(ctx.info.namespace, this.listOptions(ctx));
    const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: result.resourceVersion };
    if (result.continueToken) listMeta.continue = result.continueToken;
    if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;

    if (ctx.accept.table) {
      const printer = tableFor(ctx.def.group, ctx.def.resource);
      const objects = result.items.map((o) => this.present(ctx.def, o.object));
      writeJson(ctx.res, 200, toTable(printer, objects, new Date(), includeObject(ctx.query), listMeta), TABLE_CONTENT_TYPE);
      return;
    }
    if (ctx.accept.partialMetadata) {
      writeJson(ctx.res, 200, {
        kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta,
        items: result.items.map((o) => partialMetadata(o.object)),
      });
      return;
    }
    // Concatenate each object's cached JSON: a LIST of 10,000 pods serializes nothing twice.
    const needsConversion = ctx.def.version !== (ctx.def.storageVersion ?? ctx.def.version);
    const items = needsConversion
      ? result.items.map((o) => JSON.stringify(this.present(ctx.def, o.object)))
      : result.items.map((o) => o.serialized());
    const head = JSON.stringify({ kind: `${ctx.def.kind}List`, apiVersion: apiVersionOf(ctx.def), metadata: listMeta });
    writeJson(ctx.res, 200, `${head.slice(0, -1)},"items":[${items.join(',')}]}`);
  }

  private async watch(ctx: Ctx): Promise<void> {
    const { filter } = this.filterOf(ctx, ctx.info.name);
    const prefix = ctx.def.namespaced && ctx.info.namespace ? `${ctx.registry.prefix}${ctx.info.namespace}/` : ctx.registry.prefix;
    const printer = ctx.accept.table ? tableFor(ctx.def.group, ctx.def.resource) : undefined;
    const needsConversion = ctx.def.version !== (ctx.def.storageVersion ?? ctx.def.version);
    const include = includeObject(ctx.query);
    const timeout = Number(ctx.query.get('timeoutSeconds') ?? 0);
    await serveWatch(ctx.req, ctx.res, {
      cache: ctx.registry.cache,
      keyPrefix: prefix,
      filter,
      resourceVersion: ctx.query.get('resourceVersion') ?? '',
      sendInitialEvents: ctx.query.get('sendInitialEvents') === 'true',
      allowBookmarks: ctx.query.get('allowWatchBookmarks') === 'true',
      timeoutSeconds: Number.isFinite(timeout) ? timeout : undefined,
      latestRevision: this.latestRevision,
      render: (obj: CachedObject, first: boolean) => {
        if (printer) {
          const table = toTable(printer, [this.present(ctx.def, obj.object)], new Date(), include, { resourceVersion: String(obj.revision) });
          if (!first) table.columnDefinitions = [];
          return JSON.stringify(table);
        }
        return needsConversion ? JSON.stringify(this.present(ctx.def, obj.object)) : obj.serialized();
      },
      bookmark: (revision, end) => ({
        kind: ctx.def.kind, apiVersion: apiVersionOf(ctx.def),
        metadata: { resourceVersion: String(revision), ...(end ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) },
      }),
    });
  }

  // ---- writes --------------------------------------------------------------

  /** Reads and checks a request body as an object of this resource's kind. */
  private async readObject(ctx: Ctx, expected: { kind: string; apiVersion: string } = { kind: ctx.def.kind, apiVersion: apiVersionOf(ctx.def) }): Promise<KubeObject> {
    const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type']);
    if (!isObject(body)) throw badRequest(`the body of the request was in an unknown format - expected a ${expected.kind} object`);
    const obj = body as KubeObject;
    if (obj.apiVersion !== undefined && obj.apiVersion !== expected.apiVersion) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected.apiVersion})`);
    }
    if (obj.kind !== undefined && obj.kind !== expected.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${expected.kind})`);
    }
    if (obj.metadata !== undefined && !isObject(obj.metadata)) throw badRequest('metadata must be an object');
    obj.apiVersion = expected.apiVersion;
    obj.kind = expected.kind;
    this.checkFields(ctx, obj, expected);
    return obj;
  }

  /** fieldValidation: Strict rejects unknown fields (400); otherwise they are dropped, and reported in a Warning header unless Ignore. */
  private checkFields(ctx: Ctx, obj: KubeObject, expected: { kind: string; apiVersion: string }): void {
    const mode = ctx.query.get('fieldValidation') ?? '';
    if (mode !== '' && mode !== 'Ignore' && mode !== 'Strict' && mode !== 'Warn') {
      throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict": ${mode}`);
    }
    const [group, version] = expected.apiVersion.includes('/') ? expected.apiVersion.split('/') : ['', expected.apiVersion];
    if (mode === 'Strict') {
      const unknown = unknownFields(obj, group, version, expected.kind);
      if (unknown.length) throw strictDecodingError(unknown, [], ctx.info.verb === 'patch' ? undefined : { kind: expected.kind, version });
      return;
    }
    const unknown = pruneUnknownFields(obj, group, version, expected.kind);
    if (unknown.length && mode !== 'Ignore') ctx.res.setHeader('Warning', unknown.map((f) => `299 - "unknown field \\"${f}\\""`).join(', '));
  }

  private toStorage(ctx: Ctx, obj: KubeObject): KubeObject { return convertToStorage(ctx.def, obj); }

  private async create(ctx: Ctx): Promise<void> {
    if (ctx.info.name) throw methodNotAllowed();
    const obj = this.toStorage(ctx, await this.readObject(ctx));
    const created = await ctx.registry.create(ctx.info.namespace, obj, { dryRun: ctx.dryRun });
    this.respondObject(ctx, 201, created);
  }

  private async update(ctx: Ctx, subresource: 'status' | 'finalize' | undefined): Promise<void> {
    const obj = this.toStorage(ctx, await this.readObject(ctx));
    const updated = await ctx.registry.update(ctx.info.namespace, ctx.info.name!, obj, { dryRun: ctx.dryRun, subresource });
    this.respondObject(ctx, 200, updated);
  }

  private async patch(ctx: Ctx, subresource: 'status' | undefined): Promise<void> {
    const contentType = ctx.req.headers['content-type'] ?? '';
    patchTypeOf(contentType); // an unsupported type is 415 before anything is read
    const body = (await readBody(ctx.req)).toString('utf8');
    const gvk = { group: ctx.def.group, version: ctx.def.version, kind: ctx.def.kind };
    const apply = patchTypeOf(contentType) === APPLY_PATCH;
    if (apply && !ctx.query.get('fieldManager')) {
      throw new StatusError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
        group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
      });
    }
    const patchOf = (current: KubeObject) => {
      const patched = applyPatch(current, body, contentType, gvk, schemaLookup);
      this.checkFields(ctx, patched, { kind: ctx.def.kind, apiVersion: apiVersionOf(ctx.def) });
      return this.toStorage(ctx, patched);
    };
    try {
      const updated = await ctx.registry.guaranteedUpdate(ctx.info.namespace, ctx.info.name!,
        (current) => patchOf(this.present(ctx.def, current)), { dryRun: ctx.dryRun, subresource });
      this.respondObject(ctx, 200, updated);
    } catch (err) {
      // Server-side apply creates what does not exist yet.
      if (!(apply && !subresource && err instanceof StatusError && err.code === 404)) throw err;
      const created = await ctx.registry.create(ctx.info.namespace, patchOf({}), { dryRun: ctx.dryRun });
      this.respondObject(ctx, 201, created);
    }
  }

  private async delete(ctx: Ctx): Promise<void> {
    const options = await this.deleteOptions(ctx);
    const { object, deleted } = await ctx.registry.delete(ctx.info.namespace, ctx.info.name!, options, { dryRun: ctx.dryRun });
    if (deleted) {
      const status: Status = {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
        details: { name: ctx.info.name, group: ctx.def.group, kind: ctx.def.resource, uid: object.metadata?.uid },
      };
      writeJson(ctx.res, 200, status);
    } else {
      this.respondObject(ctx, 200, object);
    }
  }

  private async deleteOptions(ctx: Ctx): Promise<DeleteOptions> {
    const raw = await readBody(ctx.req);
    let options: DeleteOptions = {};
    if (raw.length && raw.toString('utf8').trim()) {
      const body = decodeBody(raw, ctx.req.headers['content-type']);
      if (!isObject(body)) throw badRequest('DeleteOptions must be an object');
      options = body as DeleteOptions;
    }
    const grace = ctx.query.get('gracePeriodSeconds');
    if (grace !== null) options.gracePeriodSeconds = Number(grace);
    const policy = ctx.query.get('propagationPolicy');
    if (policy) options.propagationPolicy = policy;
    if (options.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
      throw badRequest(`propagationPolicy: Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    if (options.gracePeriodSeconds !== undefined && (!Number.isInteger(options.gracePeriodSeconds))) {
      throw badRequest(`invalid gracePeriodSeconds: ${String(options.gracePeriodSeconds)}`);
    }
    return options;
  }

  private async deleteCollection(ctx: Ctx): Promise<void> {
    const options = await this.deleteOptions(ctx);
    const result = await ctx.registry.deleteCollection(ctx.info.namespace, this.listOptions(ctx), options, { dryRun: ctx.dryRun });
    writeJson(ctx.res, 200, {
      kind: `${ctx.def.kind}List`, apiVersion: apiVersionOf(ctx.def), metadata: { resourceVersion: result.resourceVersion },
      items: result.items.map((o) => this.present(ctx.def, o.object)),
    });
  }

  // ---- subresources --------------------------------------------------------

  private async subresource(ctx: Ctx): Promise<void> {
    const sub = ctx.info.subresource!;
    if (!ctx.def.subresources?.includes(sub as 'status')) throw pathNotFound();
    if (sub === 'status') {
      if (ctx.info.verb === 'get') return this.get(ctx);
      if (ctx.info.verb === 'update') return this.update(ctx, 'status');
      if (ctx.info.verb === 'patch') return this.patch(ctx, 'status');
      throw methodNotAllowed();
    }
    if (sub === 'finalize') {
      if (ctx.info.verb === 'update') return this.update(ctx, 'finalize');
      throw methodNotAllowed();
    }
    if (sub === 'scale') return this.scale(ctx);
    if (sub === 'binding' && ctx.info.verb === 'create') return this.bind(ctx);
    if (sub === 'eviction' && ctx.info.verb === 'create') return this.evict(ctx);
    throw methodNotAllowed();
  }

  /** pods/eviction: a delete that honours the pod's PodDisruptionBudget (see eviction.ts). */
  private async evict(ctx: Ctx): Promise<void> {
    const eviction = await this.readObject(ctx, { kind: 'Eviction', apiVersion: 'policy/v1' }) as unknown as Eviction;
    const { code, status } = await evictPod({
      pods: ctx.registry, pdbs: this.registries('policy', 'poddisruptionbudgets'),
      namespace: ctx.info.namespace!, name: ctx.info.name!, eviction, dryRun: ctx.dryRun,
    });
    writeJson(ctx.res, code, status);
  }

  private toScale(ctx: Ctx, obj: KubeObject): Scale {
    const spec = (obj.spec ?? {}) as { replicas?: number; selector?: unknown };
    const status = (obj.status ?? {}) as { replicas?: number };
    const meta = obj.metadata!;
    const selector = spec.selector === undefined ? ''
      : ctx.def.kind === 'ReplicationController'
        ? Object.entries(spec.selector as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',')
        : selectorToString(labelSelectorFromObject(spec.selector as Parameters<typeof labelSelectorFromObject>[0]));
    return {
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
      spec: { replicas: spec.replicas ?? 0 },
      status: { replicas: status.replicas ?? 0, selector },
    };
  }

  private async scale(ctx: Ctx): Promise<void> {
    if (ctx.info.verb === 'get') {
      const obj = await ctx.registry.get(ctx.info.namespace, ctx.info.name!);
      writeJson(ctx.res, 200, this.toScale(ctx, obj));
      return;
    }
    let write: (scale: Scale) => Scale;
    if (ctx.info.verb === 'update') {
      const wanted = await this.readObject(ctx, { kind: 'Scale', apiVersion: 'autoscaling/v1' }) as Scale;
      write = () => wanted;
    } else if (ctx.info.verb === 'patch') {
      const body = (await readBody(ctx.req)).toString('utf8');
      const contentType = ctx.req.headers['content-type'] ?? '';
      write = (current) => applyPatch(current as KubeObject, body, contentType, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, schemaLookup) as Scale;
    } else {
      throw methodNotAllowed();
    }
    const updated = await ctx.registry.guaranteedUpdate(ctx.info.namespace, ctx.info.name!, (current) => {
      const scale = write(this.toScale(ctx, current));
      const replicas = scale.spec?.replicas;
      if (replicas === undefined || !Number.isInteger(replicas) || replicas < 0) {
        throw new StatusError(422, 'Invalid', `Scale.autoscaling "${ctx.info.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
          name: ctx.info.name, group: 'autoscaling', kind: 'Scale',
          causes: [{ reason: 'FieldValueInvalid', message: 'must be greater than or equal to 0', field: 'spec.replicas' }],
        });
      }
      const rv = scale.metadata?.resourceVersion;
      if (rv && rv !== current.metadata?.resourceVersion) throw conflict(ctx.registry.groupResource, ctx.info.name!);
      (current.spec as { replicas?: number }).replicas = replicas;
      return current;
    }, { dryRun: ctx.dryRun, subresource: 'scale' });
    writeJson(ctx.res, 200, this.toScale(ctx, updated));
  }

  /** pods/binding: what the scheduler posts to put a pod on a node. */
  private async bind(ctx: Ctx): Promise<void> {
    const binding = await this.readObject(ctx, { kind: 'Binding', apiVersion: 'v1' }) as unknown as Binding;
    const nodeName = binding.target?.name;
    if (!nodeName) throw badRequest('Binding target name is required');
    await ctx.registry.guaranteedUpdate(ctx.info.namespace, ctx.info.name!, (current) => {
      const pod = current as Pod & KubeObject;
      if (pod.metadata?.deletionTimestamp) throw conflict(ctx.registry.groupResource, ctx.info.name!, 'pod is being deleted, cannot be assigned to a host');
      if (pod.spec?.nodeName) throw conflict(ctx.registry.groupResource, ctx.info.name!, `pod ${ctx.info.name} is already assigned to node "${pod.spec.nodeName}"`);
      pod.spec!.nodeName = nodeName;
      const status = (pod.status ??= {});
      const condition: PodCondition = { type: 'PodScheduled', status: 'True', lastProbeTime: null as unknown as string, lastTransitionTime: nowTimestamp() };
      status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), condition];
      return pod;
    }, { dryRun: ctx.dryRun, subresource: 'binding' });
    writeJson(ctx.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }

  // ---- output --------------------------------------------------------------

  /** The object as the requested version shows it. */
  present(def: ResourceDefinition, stored: KubeObject): KubeObject {
    return convertFromStorage(def, stored);
  }

  private respondObject(ctx: Ctx, code: number, stored: KubeObject): void {
    const obj = this.present(ctx.def, stored);
    if (ctx.accept.table) {
      const printer = tableFor(ctx.def.group, ctx.def.resource);
      writeJson(ctx.res, code, toTable(printer, [obj], new Date(), includeObject(ctx.query), { resourceVersion: obj.metadata?.resourceVersion ?? '' }), TABLE_CONTENT_TYPE);
      return;
    }
    if (ctx.accept.partialMetadata) { writeJson(ctx.res, code, partialMetadata(obj)); return; }
    writeJson(ctx.res, code, obj);
  }
}

const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

function includeObject(query: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  return parseIncludeObject(query.get('includeObject'));
}

function partialMetadata(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: deepCopy(obj.metadata ?? {}) };
}

import type { Store, KeyValue } from '../storage/store.js';
import { isStorageError } from '../storage/store.js';
import type { DeleteOptions } from 'kubernetes-types/meta/v1';
import {
  StatusError, alreadyExists, badRequest, conflict, gone, invalid, notFound,
  type GroupResource, type FieldError,
} from '../api/status.js';
import { generateName, newUid, nowTimestamp, deepCopy, type ServerObjectMeta } from '../api/meta.js';
import type { ResourceDefinition } from './resources.js';
import type { KubeObject, Strategy } from './strategy.js';
import { CachedObject, decodeStored, type ResourceCache } from './watch-cache.js';

/** The registry's store keys: `/registry/<group|core>/<resource>/[<namespace>/]<name>`. */
export const REGISTRY_ROOT = '/registry/';
export const resourcePrefix = (def: { group: string; resource: string }) => `${REGISTRY_ROOT}${def.group || 'core'}/${def.resource}/`;

export interface ListFilter { matches(obj: KubeObject): boolean }
export const everything: ListFilter = { matches: () => true };

export interface ListOptions {
  filter: ListFilter;
  /** True when the filter selects everything (remainingItemCount is then exact). */
  unfiltered: boolean;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: CachedObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface WriteOptions { dryRun: boolean }
export type Subresource = 'status' | 'scale' | 'binding' | 'finalize';

/** A mutating admission step on create (e.g. DefaultTolerationSeconds), after defaulting and before validation. */
export type MutatingAdmission = (obj: KubeObject) => void;

/** Completes what a begin hook started, told whether the write succeeded (upstream's FinishFunc). */
export type FinishHook = (success: boolean) => Promise<void>;

/**
 * Per-resource steps around writes that need the store beyond the object
 * itself (upstream's BeginCreate/BeginUpdate/AfterDelete), e.g. Service IP
 * and NodePort allocation. Begin hooks run after defaulting and admission and
 * before validation, so that what they fill in is validated.
 */
export interface RegistryHooks {
  beginCreate?(obj: KubeObject, opts: WriteOptions): Promise<FinishHook>;
  /** Only for writes of the main resource, not of subresources. */
  beginUpdate?(obj: KubeObject, old: KubeObject, opts: WriteOptions): Promise<FinishHook>;
  /** After the object is gone from the store; a failure is logged, not returned (the delete happened). */
  afterDelete?(obj: KubeObject): Promise<void>;
}

/** Checks that a namespace can take new objects: exists and is not terminating. */
export type NamespaceGate = (namespace: string) => Promise<void>;

interface ContinueToken { v: string; rv: number; start: string }

const MAX_UPDATE_RETRIES = 16;

/** Upstream's JSON omits empty metadata maps and lists (omitempty): so do we, so a patch that
 *  empties them leaves the object as a fresh create would. */
function dropEmptyMetadata(meta: ServerObjectMeta): void {
  for (const field of ['labels', 'annotations'] as const) if (meta[field] && Object.keys(meta[field]!).length === 0) delete meta[field];
  for (const field of ['finalizers', 'ownerReferences', 'managedFields'] as const) if (meta[field]?.length === 0) delete meta[field];
}

/** The fields of an object that are not metadata or status: what bumps `generation`. */
function specOf(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(rest);
}

/**
 * Generic REST storage for one group-resource, as upstream's
 * `genericregistry.Store`: metadata bookkeeping, strategies, optimistic
 * concurrency, graceful deletion and finalizers, over a `Store` and a watch cache.
 * Objects go in and out in the storage version; version views convert at the edge.
 */
export class ResourceRegistry {
  readonly prefix: string;
  readonly groupResource: GroupResource;

  constructor(
    readonly def: ResourceDefinition,
    private readonly store: Store,
    readonly cache: ResourceCache,
    readonly strategy: Strategy,
    private readonly namespaceGate: NamespaceGate,
    private readonly admission: MutatingAdmission[] = [],
    private readonly hooks: RegistryHooks = {},
  ) {
    this.prefix = resourcePrefix(def);
    this.groupResource = { group: def.group, resource: def.resource };
  }

  keyFor(namespace: string | undefined, name: string): string {
    return this.def.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  private listPrefix(namespace: string | undefined): string {
    return this.def.namespaced && namespace ? `${this.prefix}${namespace}/` : this.prefix;
  }

  private notFound(name: string) { return notFound(this.groupResource, name); }

  /** A consistent read straight from the store. */
  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    const kv = await this.store.get(this.keyFor(namespace, name));
    if (!kv) throw this.notFound(name);
    return decodeStored(kv.value, kv.modRevision);
  }

  async list(namespace: string | undefined, opts: ListOptions): Promise<ListResult> {
    if (opts.limit || opts.continueToken || opts.resourceVersionMatch === 'Exact') return this.listFromStore(namespace, opts);
    const rv = opts.resourceVersion ? Number(opts.resourceVersion) : NaN;
    if (opts.resourceVersion && (!Number.isInteger(rv) || rv < 0)) throw badRequest(`invalid resource version: ${opts.resourceVersion}`);
    // "" means most recent: catch the cache up with every acknowledged write.
    if (!opts.resourceVersion) await this.cache.waitFor(await this.store.currentRevision());
    else if (rv > 0) await this.waitForCache(rv);
    const prefix = this.listPrefix(namespace);
    const items = this.cache.list(prefix, opts.unfiltered ? undefined : (o) => opts.filter.matches(o.object));
    return { items, resourceVersion: String(this.cache.revision) };
  }

  private async waitForCache(rv: number): Promise<void> {
    const timeout = AbortSignal.timeout(3000);
    try { await this.cache.waitFor(rv, timeout); } catch {
      throw new StatusError(504, 'Timeout', `Too large resource version: ${rv}, current: ${this.cache.revision}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
    }
  }

  /** Paginated lists read the store at one revision, so pages are consistent. */
  private async listFromStore(namespace: string | undefined, opts: ListOptions): Promise<ListResult> {
    let revision = 0;
    let startAfter: string | undefined;
    const prefix = this.listPrefix(namespace);
    if (opts.continueToken) {
      const token = this.decodeContinue(opts.continueToken);
      if (!token.start.startsWith(prefix)) throw badRequest('continue key is not valid: does not match the requested list');
      revision = token.rv;
      startAfter = token.start;
    } else if (opts.resourceVersion && opts.resourceVersionMatch === 'Exact') {
      revision = Number(opts.resourceVersion);
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const items: CachedObject[] = [];
    let more = false;
    let remaining: number | undefined;
    let last: KeyValue | undefined;
    try {
      for (;;) {
        const page = await this.store.list(prefix, { limit: limit ? Math.max(limit - items.length, 1) : 0, startAfter, revision });
        revision = page.revision;
        for (const kv of page.items) {
          last = kv;
          const obj = new CachedObject(kv.key, decodeStored(kv.value, kv.modRevision), kv.modRevision);
          if (opts.filter.matches(obj.object)) items.push(obj);
          if (limit && items.length >= limit) break;
        }
        more = page.more || (last !== undefined && page.items.indexOf(last) < page.items.length - 1);
        remaining = page.remaining;
        if (!more || (limit && items.length >= limit) || page.items.length === 0) break;
        startAfter = last?.key;
      }
    } catch (err) {
      if (isStorageError(err, 'Compacted')) {
        throw opts.continueToken
          ? gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.')
          : gone(`too old resource version: ${revision} (${err.revision ?? 0})`);
      }
      throw err;
    }
    const result: ListResult = { items, resourceVersion: String(revision) };
    if (more && last) {
      result.continueToken = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: last.key } satisfies ContinueToken)).toString('base64url');
      if (opts.unfiltered && remaining !== undefined) result.remainingItemCount = remaining;
    }
    return result;
  }

  private decodeContinue(token: string): ContinueToken {
    try {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<ContinueToken>;
      if (parsed.v === 'meta.k8s.io/v1' && typeof parsed.rv === 'number' && typeof parsed.start === 'string') return parsed as ContinueToken;
    } catch { /* fall through */ }
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }

  private validationError(obj: KubeObject, errors: FieldError[]): StatusError {
    return invalid(this.def.kind, this.def.group, obj.metadata?.name ?? obj.metadata?.generateName ?? '', errors);
  }

  /** Creates an object; takes ownership of `obj` (callers pass a fresh decode). */
  async create(namespace: string | undefined, obj: KubeObject, opts: WriteOptions): Promise<KubeObject> {
    const meta = (obj.metadata ??= {}) as ServerObjectMeta;
    if (this.def.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
      if (!meta.namespace) throw badRequest('the namespace of the object is required');
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    meta.uid = newUid();
    meta.creationTimestamp = nowTimestamp();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if ('spec' in obj) meta.generation = 1; else delete meta.generation;

    dropEmptyMetadata(meta);
    this.strategy.defaults?.(obj);
    this.strategy.prepareForCreate?.(obj);
    for (const admit of this.admission) admit(obj);
    const finish = await this.hooks.beginCreate?.(obj, opts);
    let created = false;
    try {
      const errors = this.strategy.validate?.(obj) ?? [];
      if (errors.length) throw this.validationError(obj, errors);
      if (this.def.namespaced) await this.namespaceGate(meta.namespace!);
      if (opts.dryRun) {
        if (await this.store.get(this.keyFor(meta.namespace, meta.name!))) throw alreadyExists(this.groupResource, meta.name!);
        return obj;
      }
      try {
        const kv = await this.store.create(this.keyFor(meta.namespace, meta.name!), encode(obj));
        created = true;
        meta.resourceVersion = String(kv.modRevision);
        return obj;
      } catch (err) {
        if (isStorageError(err, 'AlreadyExists')) throw alreadyExists(this.groupResource, meta.name!);
        throw err;
      }
    } finally {
      await finish?.(created);
    }
  }

  private async afterDelete(obj: KubeObject): Promise<void> {
    try { await this.hooks.afterDelete?.(obj); } catch (err) {
      console.error(`registry ${this.def.resource}: after-delete hook failed:`, err);
    }
  }

  /**
   * Read-modify-write with compare-and-swap, retried on conflicts that the
   * caller did not ask for (upstream's GuaranteedUpdate). `mutate` gets a
   * fresh copy of the current object each round. An object coming back with
   * a different resourceVersion than current is the caller's precondition: 409.
   */
  async guaranteedUpdate(
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions & { subresource?: Subresource },
  ): Promise<KubeObject> {
    const key = this.keyFor(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw this.notFound(name);
      const current = decodeStored(kv.value, kv.modRevision);
      const next = await mutate(deepCopy(current));
      const wanted = next.metadata?.resourceVersion;
      if (wanted && wanted !== String(kv.modRevision)) throw conflict(this.groupResource, name);
      const { obj, finish } = await this.prepareUpdate(next, current, opts);
      if (opts.dryRun) { await finish?.(false); return obj; }
      let written = false;
      try {
        if (obj.metadata?.deletionTimestamp && !(obj.metadata.finalizers?.length) && !obj.metadata.deletionGracePeriodSeconds && !this.strategy.blocksDeletion?.(obj)) {
          // The last finalizer is gone: the object goes away now.
          const deleted = await this.store.delete(key, { expectedRevision: kv.modRevision });
          await finish?.(false);
          const gone = decodeStored(deleted.value, deleted.modRevision);
          await this.afterDelete(gone);
          return gone;
        }
        const kvWritten = await this.store.update(key, encode(obj), kv.modRevision);
        written = true;
        await finish?.(true);
        (obj.metadata as ServerObjectMeta).resourceVersion = String(kvWritten.modRevision);
        return obj;
      } catch (err) {
        if (!written) await finish?.(false);
        if (isStorageError(err, 'Conflict') && !wanted && attempt < MAX_UPDATE_RETRIES) continue;
        if (isStorageError(err, 'Conflict')) throw conflict(this.groupResource, name);
        if (isStorageError(err, 'NotFound')) throw this.notFound(name);
        throw err;
      }
    }
  }

  /** Metadata the client may not change, strategies, validation. */
  private async prepareUpdate(input: KubeObject, current: KubeObject, opts: WriteOptions & { subresource?: Subresource }): Promise<{ obj: KubeObject; finish?: FinishHook }> {
    const subresource = opts.subresource;
    const obj = input;
    const meta = (obj.metadata ??= {}) as ServerObjectMeta;
    const old = current.metadata ?? {};
    if (meta.name && meta.name !== old.name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${old.name})`);
    }
    if (this.def.namespaced && meta.namespace && meta.namespace !== old.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.name = old.name;
    if (this.def.namespaced) meta.namespace = old.namespace;
    if (meta.uid && meta.uid !== old.uid) {
      throw this.validationError(obj, [{ type: 'FieldValueInvalid', field: 'metadata.uid', message: `Invalid value: ${JSON.stringify(meta.uid)}: field is immutable` }]);
    }
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
    meta.deletionTimestamp = old.deletionTimestamp;
    meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    if (!old.deletionTimestamp) { delete meta.deletionTimestamp; delete meta.deletionGracePeriodSeconds; }
    else {
      // Once deleting, finalizers may only be removed, never added.
      const added = (meta.finalizers ?? []).filter((f: string) => !(old.finalizers ?? []).includes(f));
      if (added.length) throw this.validationError(obj, [{ type: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
    }
    delete meta.selfLink;
    if (old.generation !== undefined) meta.generation = old.generation; else delete meta.generation;

    dropEmptyMetadata(meta);
    // A binding only sets spec.nodeName, which pod updates may not: upstream skips the update strategy too.
    if (subresource === 'binding') { delete meta.resourceVersion; return { obj }; }
    this.strategy.defaults?.(obj);
    if (subresource === 'status') this.strategy.prepareForStatusUpdate?.(obj, current);
    else if (subresource === 'finalize') this.strategy.prepareForFinalize?.(obj, current);
    else this.strategy.prepareForUpdate?.(obj, current);
    const finish = subresource ? undefined : await this.hooks.beginUpdate?.(obj, current, opts);
    if (old.generation !== undefined && specOf(obj) !== specOf(current)) meta.generation = old.generation + 1;

    const errors = [...(this.strategy.validate?.(obj) ?? []), ...(this.strategy.validateUpdate?.(obj, current) ?? [])];
    if (errors.length) { await finish?.(false); throw this.validationError(obj, errors); }
    delete meta.resourceVersion;
    return { obj, finish };
  }

  /** PUT: a whole new object. Missing resourceVersion means "unconditional". */
  async update(namespace: string | undefined, name: string, input: KubeObject, opts: WriteOptions & { subresource?: 'status' | 'finalize' }): Promise<KubeObject> {
    return this.guaranteedUpdate(namespace, name, () => deepCopy(input), opts);
  }

  /**
   * DELETE with upstream's semantics: preconditions, graceful deletion
   * (`gracefulDeletion` decides the grace period), finalizers and
   * propagationPolicy. Returns the object and whether it is gone already.
   */
  async delete(namespace: string | undefined, name: string, options: DeleteOptions, opts: WriteOptions): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.keyFor(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw this.notFound(name);
      const current = decodeStored(kv.value, kv.modRevision);
      const meta = current.metadata ?? {};
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== meta.uid) {
        throw conflict(this.groupResource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw conflict(this.groupResource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
      }
      const next = deepCopy(current);
      const nmeta = next.metadata! as ServerObjectMeta;
      const finalizers = new Set(nmeta.finalizers ?? []);
      const policy = options.propagationPolicy ?? (options.orphanDependents ? 'Orphan' : undefined);
      if (policy === 'Foreground') { finalizers.add('foregroundDeletion'); finalizers.delete('orphan'); }
      if (policy === 'Orphan') { finalizers.add('orphan'); finalizers.delete('foregroundDeletion'); }
      if (policy === 'Background') { finalizers.delete('orphan'); finalizers.delete('foregroundDeletion'); }
      const grace = this.gracePeriod(current, options);
      const immediate = finalizers.size === 0 && grace === 0 && !this.strategy.blocksDeletion?.(current);
      try {
        if (immediate) {
          if (opts.dryRun) return { object: current, deleted: true };
          const deleted = await this.store.delete(key, { expectedRevision: kv.modRevision });
          const gone = decodeStored(deleted.value, deleted.modRevision);
          await this.afterDelete(gone);
          return { object: gone, deleted: true };
        }
        // Pending: mark deleting, keep the earlier deadline if it is sooner.
        const deadline = new Date(Date.now() + grace * 1000);
        const sooner = !nmeta.deletionTimestamp || new Date(nmeta.deletionTimestamp) > deadline;
        const sameFinalizers = finalizers.size === (meta.finalizers?.length ?? 0) && (meta.finalizers ?? []).every((f) => finalizers.has(f));
        // A repeated DELETE that changes nothing writes nothing, as upstream (else retrying clients loop on their own writes).
        if (meta.deletionTimestamp && !sooner && sameFinalizers) return { object: current, deleted: false };
        if (sooner) {
          nmeta.deletionTimestamp = nowTimestamp(deadline);
          nmeta.deletionGracePeriodSeconds = grace;
        }
        if (finalizers.size) nmeta.finalizers = [...finalizers]; else delete nmeta.finalizers;
        this.strategy.prepareForDelete?.(next);
        if (nmeta.generation !== undefined) nmeta.generation += 1;
        if (opts.dryRun) return { object: next, deleted: false };
        const { resourceVersion: _rv, ...metaWithoutRv } = nmeta;
        next.metadata = metaWithoutRv;
        const written = await this.store.update(key, encode(next), kv.modRevision);
        return { object: decodeStored(written.value, written.modRevision), deleted: false };
      } catch (err) {
        if (isStorageError(err, 'Conflict') && attempt < MAX_UPDATE_RETRIES) continue;
        if (isStorageError(err, 'NotFound')) throw this.notFound(name);
        throw err;
      }
    }
  }

  /** Upstream deletes pods gracefully only once a node owns them; everything else at once. */
  private gracePeriod(obj: KubeObject, options: DeleteOptions): number {
    if (this.def.resource !== 'pods' || this.def.group !== '') return 0;
    const spec = obj.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
    if (!spec?.nodeName) return 0;
    const status = obj.status as { phase?: string } | undefined;
    if (status?.phase === 'Succeeded' || status?.phase === 'Failed') return 0;
    const requested = options.gracePeriodSeconds ?? obj.metadata?.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, requested);
  }

  async deleteCollection(namespace: string | undefined, listOpts: ListOptions, options: DeleteOptions, opts: WriteOptions): Promise<ListResult> {
    const listed = await this.list(namespace, { ...listOpts, limit: undefined, continueToken: undefined });
    const items: CachedObject[] = [];
    for (const item of listed.items) {
      const meta = item.object.metadata!;
      try {
        const { object } = await this.delete(meta.namespace, meta.name!, options, opts);
        items.push(new CachedObject(item.storeKey, object, Number(object.metadata?.resourceVersion ?? 0)));
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    }
    return { items, resourceVersion: listed.resourceVersion };
  }
}

/** Stored form: the object without resourceVersion (the store's revision is it). */
export function encode(obj: KubeObject): string {
  if (obj.metadata?.resourceVersion === undefined) return JSON.stringify(obj);
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}


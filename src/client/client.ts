import type { IncomingMessage } from 'node:http';
import type { ListMeta, Preconditions } from 'kubernetes-types/meta/v1';
import type { Scale } from 'kubernetes-types/autoscaling/v1';
import type { Binding } from 'kubernetes-types/core/v1';
import { ApiError, WatchExpiredError, statusFrom } from './errors.js';
import { loadKubeconfig, type ConnectionConfig, type KubeconfigOptions } from './kubeconfig.js';
import { DEFAULT_BURST, DEFAULT_QPS, TokenBucket, unlimited, type RequestRateLimiter } from './rate-limiter.js';
import { apiVersionOf, pods, type KubeObject, type ResourceDescriptor } from './resources.js';
import { Transport, readText, type RawRequest } from './transport.js';
import { watchEvents, type WatchEvent } from './watch.js';

export interface ClientOptions extends ConnectionConfig {
  /** Requests per second after the burst; 0 turns client-side limiting off. Default 5, as client-go. */
  qps?: number;
  /** Default 10, as client-go. */
  burst?: number;
  /** Replaces the token bucket (e.g. one shared by several clients). */
  rateLimiter?: RequestRateLimiter;
  userAgent?: string;
  /** Per-request timeout for everything but watches; 0 (default) waits as long as the server takes. */
  timeoutMs?: number;
}

/** A selector as a string (`app=web,tier!=db`) or an equality map. */
export type Selector = string | Record<string, string>;

export interface ListOptions {
  /** For namespaced resources; omitted, the list spans all namespaces. */
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: Selector;
  limit?: number;
  continue?: string;
  /** '' (default): most recent, consistent; '0': any cached state; else not older than this. */
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/** A LIST answer: the items plus `metadata.resourceVersion` (where to watch from) and `continue`. */
export interface ObjectList<T extends KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: Selector;
  /** Where to start: the list's resourceVersion, or the last one seen. Empty starts with the current objects as ADDED. */
  resourceVersion?: string;
  /** Default true: BOOKMARK events move the resume point while nothing changes. */
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  /** The server ends the watch after this long; the caller resumes. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
  signal?: AbortSignal;
}

export interface CreateOptions extends WriteOptions {
  /** When the object's metadata names none; else the client's default namespace. */
  namespace?: string;
}

export type PatchType = 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** `status`, `scale`… */
  subresource?: string;
  /** Server-side apply: take fields owned by other managers. */
  force?: boolean;
}

/** An RFC 6902 operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

export interface DeleteCallOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: Preconditions;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface RequestOptions extends RawRequest {
  /** Sent as JSON unless it is already a string. */
  json?: unknown;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  'json-patch': 'application/json-patch+json',
  'merge-patch': 'application/merge-patch+json',
  'strategic-merge-patch': 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** client-go's `maxRetries` for 429 with Retry-After. */
const MAX_THROTTLE_RETRIES = 10;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function selectorString(s: Selector | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (typeof s === 'string') return s || undefined;
  const parts = Object.entries(s).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : undefined;
}

function query(entries: Record<string, string | number | boolean | undefined>): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(entries)) if (v !== undefined && v !== '') q.set(k, String(v));
  return q;
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
  signal?.addEventListener('abort', onAbort, { once: true });
});

/**
 * A Kubernetes API client, the one door every bosun component uses to
 * cluster state. Methods are generic over the object type, which the
 * resource descriptor carries: `await client.get(pods, 'default', 'web')` is a `Pod`.
 *
 * For namespaced resources an empty namespace means the client's default
 * (the kubeconfig context's, else `default`), as kubectl does — except for
 * `list` and `watch`, where it means every namespace.
 */
export class Client {
  private readonly transport: Transport;
  private readonly limiter: RequestRateLimiter;
  private readonly timeoutMs: number;
  /** Where calls that name no namespace go. */
  readonly namespace: string;

  constructor(options: ClientOptions) {
    this.transport = new Transport(options, options.userAgent ?? 'bosun-client/0.1');
    const qps = options.qps ?? DEFAULT_QPS;
    this.limiter = options.rateLimiter ?? (qps > 0 ? new TokenBucket(qps, options.burst ?? DEFAULT_BURST) : unlimited);
    this.timeoutMs = options.timeoutMs ?? 0;
    this.namespace = options.namespace ?? 'default';
  }

  /** A client from a kubeconfig file (default `$KUBECONFIG` or `~/.kube/config`), `overrides` on top. */
  static async fromKubeconfig(path?: string, overrides: Partial<ClientOptions> & KubeconfigOptions = {}): Promise<Client> {
    const config = await loadKubeconfig(path, overrides);
    return new Client({ ...config, ...overrides });
  }

  get server(): string { return this.transport.server; }

  /** Closes idle keep-alive connections; open watches end. */
  close(): void { this.transport.close(); }

  // ---- paths ---------------------------------------------------------------

  /** `/api/v1/namespaces/ns/pods/name/status` and its `/apis/<group>` siblings. */
  path(res: ResourceDescriptor<KubeObject>, namespace?: string, name?: string, subresource?: string): string {
    const parts = [res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`];
    if (res.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace));
    parts.push(res.resource);
    if (name !== undefined) {
      if (!name) throw new TypeError(`${res.resource}: a name is required`);
      parts.push(encodeURIComponent(name));
      if (subresource) parts.push(subresource);
    }
    return parts.join('/');
  }

  private ns(res: ResourceDescriptor<KubeObject>, namespace: string | undefined): string | undefined {
    return res.namespaced ? (namespace || this.namespace) : undefined;
  }

  // ---- transport -----------------------------------------------------------

  /**
   * One request: rate limited, 429s retried after their Retry-After, a
   * non-2xx answer thrown as `ApiError`. Resolves with the decoded JSON body.
   */
  async request(req: RequestOptions): Promise<unknown> {
    const res = await this.send(req);
    const text = await readText(res);
    if (!text.trim()) return undefined;
    try { return JSON.parse(text) as unknown; } catch {
      throw new Error(`${req.method} ${req.path}: the server sent a body that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Like `request` but hands back the open 2xx response, for streams (watch, logs). */
  async send(req: RequestOptions): Promise<IncomingMessage> {
    const body = req.json === undefined ? req.body : typeof req.json === 'string' ? req.json : JSON.stringify(req.json);
    const timeout = this.timeoutMs > 0 && !req.query?.has('watch') ? AbortSignal.timeout(this.timeoutMs) : undefined;
    const signal = timeout && req.signal ? AbortSignal.any([req.signal, timeout]) : timeout ?? req.signal;
    for (let attempt = 0; ; attempt++) {
      await this.limiter.wait(signal);
      let res: IncomingMessage;
      try {
        res = await this.transport.open({ ...req, body, signal });
      } catch (err) {
        // A keep-alive socket the server had already closed: safe to retry a read once.
        if (attempt === 0 && req.method === 'GET' && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && !signal?.aborted) continue;
        throw err;
      }
      const code = res.statusCode ?? 0;
      if (code >= 200 && code < 300) return res;
      const text = await readText(res).catch(() => '');
      let decoded: unknown;
      try { decoded = JSON.parse(text); } catch { decoded = undefined; }
      const status = statusFrom(decoded, code, text);
      const retryAfter = Number(res.headers['retry-after']);
      if (code === 429 && Number.isFinite(retryAfter) && attempt < MAX_THROTTLE_RETRIES) {
        await sleep(Math.max(1, retryAfter) * 1000, signal);
        continue;
      }
      throw new ApiError(status, `${req.method} ${req.path}`);
    }
  }

  // ---- verbs ---------------------------------------------------------------

  async get<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string, opts: { signal?: AbortSignal } = {}): Promise<T> {
    return await this.request({ method: 'GET', path: this.path(res, this.ns(res, namespace), name), signal: opts.signal }) as T;
  }

  async list<T extends KubeObject>(res: ResourceDescriptor<T>, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const body = await this.request({
      method: 'GET',
      path: this.path(res, opts.namespace),
      query: query({
        labelSelector: selectorString(opts.labelSelector),
        fieldSelector: selectorString(opts.fieldSelector),
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
        resourceVersionMatch: opts.resourceVersionMatch,
        timeoutSeconds: opts.timeoutSeconds,
      }),
      signal: opts.signal,
    });
    if (!isRecord(body)) throw new Error(`list ${res.resource}: the server sent no list`);
    return {
      apiVersion: typeof body.apiVersion === 'string' ? body.apiVersion : apiVersionOf(res),
      kind: typeof body.kind === 'string' ? body.kind : `${res.kind}List`,
      metadata: isRecord(body.metadata) ? body.metadata as ListMeta : {},
      // Go sends `null` for an empty slice in some paths.
      items: Array.isArray(body.items) ? body.items as T[] : [],
    };
  }

  /** Every page of a list, following `continue` tokens; all pages are one consistent snapshot. */
  async listAll<T extends KubeObject>(res: ResourceDescriptor<T>, opts: Omit<ListOptions, 'limit' | 'continue'> & { pageSize?: number } = {}): Promise<ObjectList<T>> {
    const { pageSize = 500, ...rest } = opts;
    const first = await this.list(res, { ...rest, limit: pageSize });
    const items = [...first.items];
    let token = first.metadata.continue;
    let metadata = first.metadata;
    while (token) {
      const page = await this.list(res, { ...rest, limit: pageSize, continue: token, resourceVersion: undefined });
      items.push(...page.items);
      token = page.metadata.continue;
      metadata = page.metadata;
    }
    return { ...first, metadata: { resourceVersion: first.metadata.resourceVersion ?? metadata.resourceVersion }, items };
  }

  async create<T extends KubeObject>(res: ResourceDescriptor<T>, obj: T, opts: CreateOptions = {}): Promise<T> {
    return await this.request({
      method: 'POST',
      path: this.path(res, this.ns(res, obj.metadata?.namespace || opts.namespace)),
      query: writeQuery(opts),
      json: withTypeMeta(res, obj),
      signal: opts.signal,
    }) as T;
  }

  /** PUT: replaces the object; its `metadata.resourceVersion` makes it a compare-and-swap (409 if stale). */
  async update<T extends KubeObject>(res: ResourceDescriptor<T>, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.put(res, obj, undefined, opts);
  }

  /** PUT on `/status`: only the status of `obj` is written. */
  async updateStatus<T extends KubeObject>(res: ResourceDescriptor<T>, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.put(res, obj, 'status', opts);
  }

  private async put<T extends KubeObject>(res: ResourceDescriptor<T>, obj: T, subresource: string | undefined, opts: WriteOptions): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new TypeError(`update ${res.resource}: metadata.name is required`);
    return await this.request({
      method: 'PUT',
      path: this.path(res, this.ns(res, obj.metadata?.namespace), name, subresource),
      query: writeQuery(opts),
      json: withTypeMeta(res, obj),
      signal: opts.signal,
    }) as T;
  }

  /** `patch` is an array of operations for `json-patch`, an object for the merge kinds. */
  async patch<T extends KubeObject>(
    res: ResourceDescriptor<T>, namespace: string | undefined, name: string,
    patch: JsonPatchOperation[] | Record<string, unknown>, type: PatchType, opts: PatchOptions = {},
  ): Promise<T> {
    if (type === 'json-patch' ? !Array.isArray(patch) : Array.isArray(patch)) {
      throw new TypeError(`patch ${res.resource}/${name}: a ${type} is ${type === 'json-patch' ? 'an array of operations' : 'an object'}`);
    }
    if (type === 'apply' && !opts.fieldManager) throw new TypeError('server-side apply needs a fieldManager');
    return await this.request({
      method: 'PATCH',
      path: this.path(res, this.ns(res, namespace), name, opts.subresource),
      query: writeQuery(opts, type === 'apply' && opts.force ? { force: true } : {}),
      json: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      signal: opts.signal,
    }) as T;
  }

  /**
   * Resolves with the object while it still exists (graceful deletion or
   * finalizers pending), undefined once it is gone.
   */
  async delete<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string, opts: DeleteCallOptions = {}): Promise<T | undefined> {
    const body = await this.request({
      method: 'DELETE',
      path: this.path(res, this.ns(res, namespace), name),
      query: query({ dryRun: opts.dryRun ? 'All' : undefined }),
      json: deleteOptions(opts),
      signal: opts.signal,
    });
    return isRecord(body) && body.kind !== 'Status' ? body as T : undefined;
  }

  /** DELETE on the collection: every object the selectors pick. */
  async deleteCollection<T extends KubeObject>(res: ResourceDescriptor<T>, opts: Omit<ListOptions, 'continue' | 'limit'> & DeleteCallOptions = {}): Promise<void> {
    await this.request({
      method: 'DELETE',
      path: this.path(res, opts.namespace),
      query: query({ labelSelector: selectorString(opts.labelSelector), fieldSelector: selectorString(opts.fieldSelector), dryRun: opts.dryRun ? 'All' : undefined }),
      json: deleteOptions(opts),
      signal: opts.signal,
    });
  }

  /**
   * Watches from `opts.resourceVersion`: as an async iterator, or with a
   * callback (resolving when the stream ends). An ERROR event throws
   * `ApiError`, a 410 `WatchExpiredError` (relist). Aborting `opts.signal`
   * ends the stream quietly.
   */
  watch<T extends KubeObject>(res: ResourceDescriptor<T>, opts?: WatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined>;
  watch<T extends KubeObject>(res: ResourceDescriptor<T>, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void | Promise<void>): Promise<void>;
  watch<T extends KubeObject>(res: ResourceDescriptor<T>, opts: WatchOptions = {}, onEvent?: (e: WatchEvent<T>) => void | Promise<void>): AsyncGenerator<WatchEvent<T>, void, undefined> | Promise<void> {
    const events = this.watchStream(res, opts);
    if (!onEvent) return events;
    return (async () => { for await (const e of events) await onEvent(e); })();
  }

  private async *watchStream<T extends KubeObject>(res: ResourceDescriptor<T>, opts: WatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const path = this.path(res, opts.namespace);
    let response: IncomingMessage;
    try {
      response = await this.send({
        method: 'GET',
        path,
        query: query({
          watch: 'true',
          resourceVersion: opts.resourceVersion,
          allowWatchBookmarks: opts.allowWatchBookmarks ?? true,
          sendInitialEvents: opts.sendInitialEvents,
          labelSelector: selectorString(opts.labelSelector),
          fieldSelector: selectorString(opts.fieldSelector),
          timeoutSeconds: opts.timeoutSeconds,
        }),
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) return;
      // Some servers refuse a too-old resourceVersion up front instead of in an ERROR event.
      if (err instanceof ApiError && err.code === 410) throw new WatchExpiredError(err.status, err.request);
      throw err;
    }
    yield* watchEvents<T>(response, opts.signal, `watch ${path}`);
  }

  // ---- subresources --------------------------------------------------------

  /** POST pods/binding: what the scheduler does to put a pod on a node. `uid` guards against a recreated pod. */
  async bind(namespace: string, podName: string, nodeName: string, opts: { uid?: string; dryRun?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const binding: Binding = {
      apiVersion: 'v1', kind: 'Binding',
      metadata: { name: podName, namespace, ...(opts.uid ? { uid: opts.uid } : {}) },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    await this.request({
      method: 'POST',
      path: this.path(pods, namespace, podName, 'binding'),
      query: query({ dryRun: opts.dryRun ? 'All' : undefined }),
      json: binding,
      signal: opts.signal,
    });
  }

  async getScale(res: ResourceDescriptor<KubeObject>, namespace: string | undefined, name: string, opts: { signal?: AbortSignal } = {}): Promise<Scale> {
    return await this.request({ method: 'GET', path: this.path(res, this.ns(res, namespace), name, 'scale'), signal: opts.signal }) as Scale;
  }

  /** With `scale.metadata.resourceVersion` set, a stale scale is a 409. */
  async updateScale(res: ResourceDescriptor<KubeObject>, namespace: string | undefined, name: string, scale: Scale, opts: WriteOptions = {}): Promise<Scale> {
    const ns = this.ns(res, namespace);
    const body: Scale = {
      ...scale, apiVersion: 'autoscaling/v1', kind: 'Scale',
      metadata: { ...scale.metadata, name, ...(ns ? { namespace: ns } : {}) },
    };
    return await this.request({
      method: 'PUT', path: this.path(res, ns, name, 'scale'), query: writeQuery(opts), json: body, signal: opts.signal,
    }) as Scale;
  }
}

function writeQuery(opts: WriteOptions, extra: Record<string, string | boolean> = {}): URLSearchParams {
  return query({ dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager, fieldValidation: opts.fieldValidation, ...extra });
}

/** kubernetes-types leaves apiVersion/kind optional; the server wants them to match the path. */
function withTypeMeta<T extends KubeObject>(res: ResourceDescriptor<T>, obj: T): T {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(res), kind: obj.kind ?? res.kind };
}

function deleteOptions(opts: DeleteCallOptions): Record<string, unknown> | undefined {
  const body: Record<string, unknown> = {};
  if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
  if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
  if (opts.preconditions) body.preconditions = opts.preconditions;
  if (opts.dryRun) body.dryRun = ['All'];
  return Object.keys(body).length ? { apiVersion: 'v1', kind: 'DeleteOptions', ...body } : undefined;
}

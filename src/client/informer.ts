import { Client, type ObjectList, type Selector } from './client.js';
import { isGone } from './errors.js';
import { ObjectStore, type IndexFunc, type Lister } from './object-store.js';
import { apiVersionOf, keyOf, type KubeObject, type ResourceDescriptor } from './resources.js';
import type { WatchEvent } from './watch.js';

/** Where an informer gets its objects: a LIST and a WATCH from a resourceVersion. */
export interface ListWatch<T extends KubeObject> {
  list(signal: AbortSignal): Promise<ObjectList<T>>;
  watch(resourceVersion: string, signal: AbortSignal, timeoutSeconds: number): AsyncIterable<WatchEvent<T>>;
}

export interface InformerOptions {
  /** Only this namespace (namespaced resources); all when omitted. */
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: Selector;
  /** How long one watch lasts before it is renewed; default 5–10 min at random, as client-go's reflector. */
  watchTimeoutSeconds?: number;
  /** Back-off after a failed list or watch, doubling to `maxBackoffMs` (client-go: 800 ms … 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  log?: (message: string) => void;
}

export type ChangeType = 'add' | 'update' | 'delete';

type AddHandler<T> = (obj: T) => void;
type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
type DeleteHandler<T> = (obj: T) => void;
type ChangeHandler<T> = (obj: T, type: ChangeType, oldObj?: T) => void;

export function listWatchFor<T extends KubeObject>(client: Client, res: ResourceDescriptor<T>, o: InformerOptions): ListWatch<T> {
  const scope = { namespace: o.namespace, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector };
  return {
    list: (signal) => client.list(res, { ...scope, signal }),
    watch: (resourceVersion, signal, timeoutSeconds) =>
      client.watch(res, { ...scope, resourceVersion, allowWatchBookmarks: true, timeoutSeconds, signal }),
  };
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(done, ms);
  signal.addEventListener('abort', done, { once: true });
  function done() { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
});

/**
 * client-go's shared informer: lists, then watches from the list's
 * resourceVersion into an in-memory store keyed `namespace/name`, resuming
 * from the last resourceVersion seen (bookmarks move it) when a watch ends,
 * and relisting after a 410 — emitting the difference, deletes included.
 *
 * Handlers run synchronously, in event order, and should only enqueue work:
 * the object they get is the cache's, never to be mutated.
 */
export class Informer<T extends KubeObject> {
  private readonly store = new ObjectStore<T>();
  private readonly source: ListWatch<T>;
  private readonly addHandlers = new Set<AddHandler<T>>();
  private readonly updateHandlers = new Set<UpdateHandler<T>>();
  private readonly deleteHandlers = new Set<DeleteHandler<T>>();
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private running = false;
  private resourceVersion = '';
  private eventsSinceList = 0;
  private readonly log: (message: string) => void;
  readonly name: string;

  constructor(source: Client | ListWatch<T>, readonly res: ResourceDescriptor<T>, private readonly opts: InformerOptions = {}) {
    this.source = source instanceof Client ? listWatchFor(source, res, opts) : source;
    this.name = `${res.resource}${res.group ? `.${res.group}` : ''}${opts.namespace ? ` in ${opts.namespace}` : ''}`;
    this.log = opts.log ?? ((m) => console.error(`informer ${this.name}: ${m}`));
  }

  // ---- handlers ------------------------------------------------------------

  /** Also called at once for every object already in the cache, so late subscribers miss nothing. Returns an unsubscribe function. */
  onAdd(fn: AddHandler<T>): () => void {
    this.addHandlers.add(fn);
    for (const [, obj] of this.store.entries()) this.call(() => fn(obj));
    return () => this.addHandlers.delete(fn);
  }

  onUpdate(fn: UpdateHandler<T>): () => void {
    this.updateHandlers.add(fn);
    return () => this.updateHandlers.delete(fn);
  }

  /** Gets the object's last state: the watch's final one, or the cached one when a relist found it gone. */
  onDelete(fn: DeleteHandler<T>): () => void {
    this.deleteHandlers.add(fn);
    return () => this.deleteHandlers.delete(fn);
  }

  /** One handler for all three: `obj` is the newest state (the last one for a delete). */
  onChange(fn: ChangeHandler<T>): () => void {
    const offs = [
      this.onAdd((o) => fn(o, 'add')),
      this.onUpdate((old, o) => fn(o, 'update', old)),
      this.onDelete((o) => fn(o, 'delete')),
    ];
    return () => { for (const off of offs) off(); };
  }

  /** A secondary index for `lister().byIndex(name, value)`, e.g. pods by `spec.nodeName`. */
  addIndex(name: string, fn: IndexFunc<T>): this {
    this.store.addIndex(name, fn);
    return this;
  }

  lister(): Lister<T> { return this.store; }

  hasSynced(): boolean { return this.synced; }

  /** The resourceVersion the cache reflects (where a resumed watch starts). */
  get lastSyncResourceVersion(): string { return this.resourceVersion; }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => { this.syncWaiters = this.syncWaiters.filter((w) => w !== done); reject(signal!.reason); };
      const done = () => { signal?.removeEventListener('abort', onAbort); resolve(); };
      if (signal?.aborted) { reject(signal.reason); return; }
      this.syncWaiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ---- running -------------------------------------------------------------

  /** Starts in the background; stops when `signal` aborts. */
  start(signal: AbortSignal): this {
    void this.run(signal).catch((err: unknown) => this.log(`stopped: ${String(err)}`));
    return this;
  }

  /** List and watch until `signal` aborts. Failures are retried with back-off, never thrown. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`informer ${this.name} is already running`);
    this.running = true;
    const minBackoff = this.opts.minBackoffMs ?? 800;
    const maxBackoff = this.opts.maxBackoffMs ?? 30_000;
    let backoff = minBackoff;
    let needList = true;
    let goneRightAfterList = false;
    try {
      while (!signal.aborted) {
        try {
          if (needList) {
            await this.relist(signal);
            needList = false;
          }
          const started = Date.now();
          const seen = await this.watchOnce(signal);
          if (seen > 0) backoff = minBackoff;
          // A server that ends watches at once must not turn this into a busy loop.
          else if (!signal.aborted && Date.now() - started < 1000) {
            await sleep(backoff, signal);
            backoff = Math.min(maxBackoff, backoff * 2);
          }
        } catch (err) {
          if (signal.aborted) break;
          if (isGone(err)) {
            needList = true;
            // Relist at once, unless the last relist expired before any event arrived.
            const immediate = this.eventsSinceList > 0 || !goneRightAfterList;
            goneRightAfterList = this.eventsSinceList === 0;
            if (immediate) continue;
          } else {
            this.log(`${needList ? 'list' : 'watch'} failed: ${err instanceof Error ? err.message : String(err)}`);
          }
          await sleep(backoff, signal);
          backoff = Math.min(maxBackoff, backoff * 2);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const list = await this.source.list(signal);
    this.eventsSinceList = 0;
    const fresh = new Map<string, T>();
    for (const item of list.items) fresh.set(keyOf(item), this.typed(item));
    const gone: T[] = [];
    for (const [key, old] of [...this.store.entries()]) {
      if (!fresh.has(key)) { this.store.delete(key); gone.push(old); }
    }
    const changes: Array<[T | undefined, T]> = [];
    for (const [key, obj] of fresh) {
      const old = this.store.get(key);
      if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;
      this.store.set(key, obj);
      changes.push([old, obj]);
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    // The cache is whole before handlers run, so what they read through the lister is consistent.
    for (const obj of gone) this.emitDelete(obj);
    for (const [old, obj] of changes) {
      if (old) this.emitUpdate(old, obj);
      else this.emitAdd(obj);
    }
    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Applies one watch's events; returns how many arrived. Throws on ERROR events (410: relist). */
  private async watchOnce(signal: AbortSignal): Promise<number> {
    const timeout = this.opts.watchTimeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
    let seen = 0;
    for await (const e of this.source.watch(this.resourceVersion, signal, timeout)) {
      seen++;
      this.eventsSinceList++;
      const rv = e.object.metadata?.resourceVersion;
      if (e.type !== 'BOOKMARK') this.apply(e);
      if (rv) this.resourceVersion = rv;
    }
    return seen;
  }

  private apply(e: WatchEvent<T>): void {
    const obj = this.typed(e.object);
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (e.type === 'DELETED') {
      if (!old) return;
      this.store.delete(key);
      this.emitDelete(obj);
      return;
    }
    // A resumed watch may replay what the cache already holds.
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.store.set(key, obj);
    if (old) this.emitUpdate(old, obj);
    else this.emitAdd(obj);
  }

  /** List items arrive without apiVersion/kind; the cache holds whole objects. */
  private typed(obj: T): T {
    if (obj.apiVersion && obj.kind) return obj;
    return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(this.res), kind: obj.kind ?? this.res.kind };
  }

  private emitAdd(obj: T): void { for (const h of this.addHandlers) this.call(() => h(obj)); }
  private emitUpdate(old: T, obj: T): void { for (const h of this.updateHandlers) this.call(() => h(old, obj)); }
  private emitDelete(obj: T): void { for (const h of this.deleteHandlers) this.call(() => h(obj)); }

  private call(fn: () => void): void {
    try { fn(); } catch (err) { this.log(`handler failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`); }
  }
}

/** Scope of a shared informer besides its resource. */
export interface InformerScope {
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: Selector;
}

/**
 * One informer per resource and scope, shared by every controller that asks:
 * a thousand handlers cost one list and one watch.
 */
export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private signal?: AbortSignal;

  constructor(private readonly client: Client, private readonly defaults: Omit<InformerOptions, keyof InformerScope> & InformerScope = {}) {}

  for<T extends KubeObject>(res: ResourceDescriptor<T>, scope: InformerScope = {}): Informer<T> {
    const s = { namespace: scope.namespace ?? this.defaults.namespace, labelSelector: scope.labelSelector ?? this.defaults.labelSelector, fieldSelector: scope.fieldSelector ?? this.defaults.fieldSelector };
    const key = JSON.stringify([res.group, res.version, res.resource, s.namespace ?? '', s.labelSelector ?? '', s.fieldSelector ?? '']);
    let informer = this.informers.get(key) as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer<T>(this.client, res, { ...this.defaults, ...s });
      this.informers.set(key, informer as unknown as Informer<KubeObject>);
      if (this.signal && !this.signal.aborted) informer.start(this.signal);
    }
    return informer;
  }

  /** Starts every informer made so far and every one made later. */
  start(signal: AbortSignal): void {
    if (this.signal) return;
    this.signal = signal;
    for (const informer of this.informers.values()) informer.start(signal);
  }

  /** Resolves when every informer made so far has synced. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
  }
}

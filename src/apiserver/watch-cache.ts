import type { Store, WatchEvent, Watcher } from '../storage/store.js';
import { isStorageError } from '../storage/store.js';
import type { KubeObject } from './strategy.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One object as the cache holds it: parsed once, serialized at most once. */
export class CachedObject {
  private json?: string;
  constructor(readonly storeKey: string, readonly object: KubeObject, readonly revision: number) {}
  /** The object's JSON, shared by every LIST and watcher that sends it. */
  serialized(): string {
    return (this.json ??= JSON.stringify(this.object));
  }
}

export interface CacheEvent {
  type: WatchEventType;
  revision: number;
  current: CachedObject;
  previous?: CachedObject;
}

/** Decodes a stored value into an API object with `resourceVersion` = the revision. */
export function decodeStored(value: string, revision: number): KubeObject {
  const obj = JSON.parse(value) as KubeObject;
  obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(revision) };
  return obj;
}

export interface CacheListener {
  onEvent(event: CacheEvent): void;
  /** The cache lost continuity (store compaction while behind): the watcher must end with 410. */
  onReset(): void;
}

const DEFAULT_HISTORY = 10_000;

/**
 * The current objects of one resource plus a window of recent events, so
 * LIST and WATCH are answered from memory. Fed by the `CacheSet`'s single
 * store watch, never by the store directly.
 */
export class ResourceCache {
  readonly items = new Map<string, CachedObject>();
  private history: CacheEvent[] = [];
  /** A watch from revision R can be served from history iff R >= oldestServable. */
  private oldestServable = 0;
  private readonly listeners = new Set<CacheListener>();

  constructor(readonly prefix: string, private readonly set: CacheSet, private readonly historySize = DEFAULT_HISTORY) {}

  get revision(): number { return this.set.revision; }

  /** The objects under `prefix` (all by default) that pass `keep`, sorted by store key like a store LIST. */
  list(prefix = '', keep?: (o: CachedObject) => boolean): CachedObject[] {
    const out: CachedObject[] = [];
    for (const o of this.items.values()) if (o.storeKey.startsWith(prefix) && (!keep || keep(o))) out.push(o);
    return out.sort((a, b) => (a.storeKey < b.storeKey ? -1 : a.storeKey > b.storeKey ? 1 : 0));
  }

  get(storeKey: string): CachedObject | undefined { return this.items.get(storeKey); }

  /** Waits until the cache has seen every write up to `revision`. */
  waitFor(revision: number, signal?: AbortSignal): Promise<void> { return this.set.waitFor(revision, signal); }

  /**
   * Subscribes from `fromRevision`: replays buffered events after it, then
   * delivers live ones. Both happen in one synchronous step, so nothing falls
   * between them. Returns undefined when the revision is older than the window
   * (the caller answers 410 Gone).
   */
  subscribe(fromRevision: number, listener: CacheListener): { replay: CacheEvent[]; cancel: () => void } | undefined {
    if (fromRevision < this.oldestServable) return undefined;
    const replay = this.history.filter((e) => e.revision > fromRevision);
    this.listeners.add(listener);
    return { replay, cancel: () => this.listeners.delete(listener) };
  }

  /** Subscribes at the current state: the caller sends `items` as ADDED first. */
  subscribeNow(listener: CacheListener, prefix = ''): { items: CachedObject[]; revision: number; cancel: () => void } {
    this.listeners.add(listener);
    return { items: this.list(prefix), revision: this.revision, cancel: () => this.listeners.delete(listener) };
  }

  get oldestRevision(): number { return this.oldestServable; }
  get watcherCount(): number { return this.listeners.size; }

  /** @internal fed by CacheSet */
  reset(objects: CachedObject[], revision: number): void {
    this.items.clear();
    for (const o of objects) this.items.set(o.storeKey, o);
    this.history = [];
    this.oldestServable = revision;
    for (const l of [...this.listeners]) l.onReset();
    this.listeners.clear();
  }

  /** @internal fed by CacheSet */
  apply(e: WatchEvent): void {
    const previous = this.items.get(e.kv.key);
    let event: CacheEvent;
    if (e.type === 'DELETE') {
      if (!previous) return;
      this.items.delete(e.kv.key);
      const last = decodeStored(e.kv.value, e.kv.modRevision);
      event = { type: 'DELETED', revision: e.kv.modRevision, current: new CachedObject(e.kv.key, last, e.kv.modRevision), previous };
    } else {
      const current = new CachedObject(e.kv.key, decodeStored(e.kv.value, e.kv.modRevision), e.kv.modRevision);
      this.items.set(e.kv.key, current);
      event = { type: previous ? 'MODIFIED' : 'ADDED', revision: e.kv.modRevision, current, previous };
    }
    this.history.push(event);
    if (this.history.length > this.historySize) {
      // Drop a chunk at once so trimming stays amortised O(1).
      const dropped = this.history.splice(0, Math.ceil(this.historySize / 10));
      this.oldestServable = dropped[dropped.length - 1].revision;
    }
    for (const l of this.listeners) l.onEvent(event);
  }
}

/**
 * All resource caches, fed by ONE store watch on the common prefix: a thousand
 * API watchers cost one store watch. Holds the revision the caches have
 * reached, which is what LIST answers with and what "most recent" waits for.
 */
export class CacheSet {
  private readonly caches = new Map<string, ResourceCache>();
  private watcher?: Watcher;
  revision = 0;
  private waiters: Array<{ revision: number; resolve: () => void }> = [];
  private closed = false;

  constructor(private readonly store: Store, private readonly rootPrefix: string) {}

  cacheFor(prefix: string): ResourceCache {
    let cache = this.caches.get(prefix);
    if (!cache) {
      cache = new ResourceCache(prefix, this);
      this.caches.set(prefix, cache);
    }
    return cache;
  }

  /** Loads every object, then follows the store from that revision. */
  async start(): Promise<void> {
    const byPrefix = new Map<string, CachedObject[]>();
    let revision = 0;
    let startAfter: string | undefined;
    // Page through one consistent revision so start-up memory stays bounded per page.
    for (;;) {
      const page = await this.store.list(this.rootPrefix, { limit: 5000, startAfter, revision });
      revision = page.revision;
      for (const kv of page.items) {
        const cache = this.cacheForKey(kv.key);
        if (!cache) continue;
        const list = byPrefix.get(cache.prefix) ?? [];
        list.push(new CachedObject(kv.key, decodeStored(kv.value, kv.modRevision), kv.modRevision));
        byPrefix.set(cache.prefix, list);
      }
      if (!page.more || page.items.length === 0) break;
      startAfter = page.items[page.items.length - 1].key;
    }
    this.revision = revision;
    for (const cache of this.caches.values()) cache.reset(byPrefix.get(cache.prefix) ?? [], revision);
    this.watcher = this.store.watch(this.rootPrefix, revision, {
      onEvents: (events) => this.onEvents(events),
      onError: (err) => this.onError(err),
    });
  }

  private cacheForKey(key: string): ResourceCache | undefined {
    // Keys are `<root><group>/<resource>/...`: the cache prefix is the first two segments.
    const rest = key.slice(this.rootPrefix.length);
    const i = rest.indexOf('/');
    const j = i < 0 ? -1 : rest.indexOf('/', i + 1);
    if (j < 0) return undefined;
    return this.caches.get(this.rootPrefix + rest.slice(0, j + 1));
  }

  private onEvents(events: WatchEvent[]): void {
    for (const e of events) {
      this.cacheForKey(e.kv.key)?.apply(e);
      this.revision = Math.max(this.revision, e.kv.modRevision);
    }
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.revision <= this.revision);
      this.waiters = this.waiters.filter((w) => w.revision > this.revision);
      for (const w of ready) w.resolve();
    }
  }

  private onError(err: Error): void {
    if (this.closed) return;
    // Behind a compaction: reload everything; watchers end with 410 and relist.
    if (isStorageError(err, 'Compacted')) {
      this.watcher?.close();
      void this.start().catch((e: unknown) => console.error('watch cache: reload failed:', e));
      return;
    }
    console.error('watch cache: store watch failed, restarting:', err.message);
    setTimeout(() => { if (!this.closed) void this.start().catch(() => this.onError(err)); }, 1000);
  }

  waitFor(revision: number, signal?: AbortSignal): Promise<void> {
    if (revision <= this.revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { revision, resolve };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Waits until the caches reflect every write acknowledged so far. */
  async sync(): Promise<void> {
    await this.waitFor(await this.store.currentRevision());
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
  }
}

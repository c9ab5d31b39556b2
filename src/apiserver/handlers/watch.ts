import type { IncomingMessage, ServerResponse } from 'node:http';
import { gone } from '../../api/status.js';
import type { KubeObject } from '../strategy.js';
import type { CacheEvent, CachedObject, ResourceCache, WatchEventType } from '../watch-cache.js';
import type { ListFilter } from '../registry.js';

export interface WatchRequest {
  cache: ResourceCache;
  /** Store-key prefix: the resource, or one namespace of it. */
  keyPrefix: string;
  filter: ListFilter;
  /** '' (most recent, with initial state), '0' (any, with initial state) or a revision. */
  resourceVersion: string;
  sendInitialEvents: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  /** Revision that "most recent" must reach before the watch starts. */
  latestRevision: () => Promise<number>;
  /** The wire form of one event's object (version conversion, Table rows…). */
  render: (obj: CachedObject, first: boolean) => string;
  /** The wire form of a BOOKMARK object at a revision. */
  bookmark: (revision: number, initialEventsEnd: boolean) => KubeObject;
}

/** How often an idle watch gets a BOOKMARK, so clients can resume close to now. */
const BOOKMARK_INTERVAL_MS = 30_000;
/** A client this far behind is cut off (it relists), as upstream does with slow watchers. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/**
 * Serves one watch from the cache: optional initial ADDED events, then every
 * change under the prefix that matches the filter, translated as upstream does
 * (an object that stops matching is DELETED for this watcher, one that starts
 * matching is ADDED).
 */
export async function serveWatch(req: IncomingMessage, res: ServerResponse, w: WatchRequest): Promise<void> {
  const initialState = w.resourceVersion === '' || w.resourceVersion === '0' || w.sendInitialEvents;
  if (w.resourceVersion === '') await w.cache.waitFor(await w.latestRevision());

  let first = true;
  let closed = false;
  let cancel = () => {};
  const timers: NodeJS.Timeout[] = [];
  const write = (type: WatchEventType | 'BOOKMARK' | 'ERROR', objectJson: string) => {
    if (closed) return;
    res.write(`{"type":"${type}","object":${objectJson}}\n`);
    if (res.writableLength > MAX_BUFFERED_BYTES) finish();
  };
  const send = (type: WatchEventType, obj: CachedObject) => {
    write(type, w.render(obj, first));
    first = false;
  };
  const inScope = (obj: CachedObject) => obj.storeKey.startsWith(w.keyPrefix);
  const matches = (obj: CachedObject | undefined) => obj !== undefined && inScope(obj) && w.filter.matches(obj.object);

  const onEvent = (e: CacheEvent) => {
    const now = matches(e.current);
    const before = e.type !== 'ADDED' && matches(e.previous);
    if (e.type === 'DELETED') { if (before) send('DELETED', e.current); return; }
    if (now && before) send('MODIFIED', e.current);
    else if (now) send('ADDED', e.current);
    else if (before) send('DELETED', e.current);
  };
  const expire = (message: string) => {
    write('ERROR', JSON.stringify(gone(message).toStatus()));
    finish();
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  const listener = { onEvent, onReset: () => expire('the watch cache was reset, relist') };

  if (initialState) {
    const sub = w.cache.subscribeNow(listener, w.keyPrefix);
    cancel = sub.cancel;
    for (const item of sub.items) if (matches(item)) send('ADDED', item);
    if (w.sendInitialEvents && w.allowBookmarks) write('BOOKMARK', JSON.stringify(w.bookmark(sub.revision, true)));
  } else {
    const from = Number(w.resourceVersion);
    const sub = Number.isInteger(from) && from >= 0 ? w.cache.subscribe(from, listener) : undefined;
    if (!sub) {
      expire(`too old resource version: ${w.resourceVersion} (${w.cache.oldestRevision})`);
      return;
    }
    cancel = sub.cancel;
    for (const e of sub.replay) onEvent(e);
  }
  if (first) res.flushHeaders();

  if (w.allowBookmarks) {
    timers.push(setInterval(() => write('BOOKMARK', JSON.stringify(w.bookmark(w.cache.revision, false))), BOOKMARK_INTERVAL_MS));
  }
  if (w.timeoutSeconds && w.timeoutSeconds > 0) timers.push(setTimeout(() => finish(), w.timeoutSeconds * 1000));

  function finish() {
    if (closed) return;
    closed = true;
    cancel();
    for (const t of timers) clearTimeout(t);
    res.end();
  }
  req.on('close', finish);
  res.on('close', finish);
}

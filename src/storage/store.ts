/**
 * The one storage interface of bosun. Everything above `storage/` talks to a
 * `Store`; SQLite and etcd implement it and pass one conformance suite.
 *
 * A store is a revisioned key-value map (MVCC): every write gets the next
 * store-wide revision, which the API server exposes as
 * `metadata.resourceVersion`. Values are opaque strings (the API server puts
 * JSON in them, without `resourceVersion`, which is derived from the revision).
 */

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (its current incarnation). */
  createRevision: number;
  /** Revision of the last write to this key. */
  modRevision: number;
}

export interface ListOptions {
  /** At most this many items; 0 or undefined means all. */
  limit?: number;
  /** Start strictly after this key (a continue token's position). */
  startAfter?: string;
  /** Read as of this revision (0 or undefined: the latest). Older than the
   *  compacted revision gives `StorageError` code `Compacted`. */
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when `limit` cut the list short. */
  more: boolean;
  /** When `more`: how many keys remain after the last returned one (may be an estimate). */
  remaining?: number;
}

export type WatchEventType = 'PUT' | 'DELETE';

export interface WatchEvent {
  type: WatchEventType;
  /** For PUT: the new value; for DELETE: the value before deletion, with
   *  `modRevision` set to the deletion's revision. */
  kv: KeyValue;
  /** The value before this write (PUT of an existing key, or DELETE). */
  prev?: KeyValue;
}

export interface Watcher {
  /** Stops the watch; no event is delivered after it returns. */
  close(): void;
}

export interface WatchCallbacks {
  /** Events arrive once each, in revision order, without gaps. */
  onEvents(events: WatchEvent[]): void;
  /** The watch ended with an error (e.g. `Compacted`); no more events follow. */
  onError(err: Error): void;
}

export interface DeleteOptions {
  /** Delete only if the key's modRevision is still this (else `Conflict`). */
  expectedRevision?: number;
}

export interface Store {
  /** The latest key value, or undefined when the key does not exist. */
  get(key: string): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, in key order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Number of keys under a prefix at the latest revision. */
  count(prefix: string): Promise<number>;
  /** Creates a key; `AlreadyExists` if it exists. Returns the new revision. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Compare-and-swap: writes only if the key's modRevision equals
   *  `expectedRevision` (`Conflict` otherwise, `NotFound` if missing). */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /** Deletes a key; `NotFound` if missing. Returns the deleted value with
   *  `modRevision` set to the deletion's revision. */
  delete(key: string, options?: DeleteOptions): Promise<KeyValue>;
  /** Every change under `prefix` with revision > `fromRevision`, in order.
   *  `fromRevision` older than the compacted revision fails with `Compacted`
   *  (through `onError`). */
  watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): Watcher;
  /** The latest revision of the whole store. */
  currentRevision(): Promise<number>;
  /** Forgets history at and below `revision` (watches and reads there get `Compacted`). */
  compact(revision: number): Promise<void>;
  /** The oldest revision still readable/watchable (compacted revision + 1). */
  compactedRevision(): Promise<number>;
  close(): Promise<void>;
}

export type StorageErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Compacted' | 'Unavailable';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    /** For `Conflict`: the key's current revision; for `Compacted`: the compacted revision. */
    readonly revision?: number,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

export const isStorageError = (err: unknown, code?: StorageErrorCode): err is StorageError =>
  err instanceof StorageError && (code === undefined || err.code === code);

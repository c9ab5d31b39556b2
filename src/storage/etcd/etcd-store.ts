/**
 * The HA store: etcd v3 through the `etcd3` client. etcd already is an MVCC
 * store with the semantics of `Store`, so this is mostly a mapping: creates
 * and compare-and-swaps are transactions, reads carry a revision, and watches
 * start at a revision.
 *
 * Revisions line up with etcd's exactly, with one shift: `compact(R)` here
 * forgets R itself, while etcd's compaction at R keeps R readable, so it
 * becomes an etcd compaction at R + 1. Then "oldest usable revision"
 * (`compactedRevision()`) is etcd's compact revision, on both sides.
 */
import {
  ClientClosedError,
  CompareResult,
  CompareTarget,
  Etcd3,
  isRecoverableError,
  type IDuplexStream,
  type IEvent,
  type IKeyValue,
  type IWatchRequest,
  type IWatchResponse,
} from 'etcd3';
import {
  StorageError,
  type DeleteOptions,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type WatchCallbacks,
  type WatchEvent,
  type Watcher,
} from '../store.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. `['http://127.0.0.1:2379']`. */
  endpoints: string[];
  /** TLS towards etcd (embedded etcd serves clients over mutual TLS): PEM buffers. */
  credentials?: { rootCertificate: Buffer; certChain?: Buffer; privateKey?: Buffer };
  /** Deadline of each unary request; default 30 s. */
  requestTimeoutMs?: number;
  /** How long a broken watch keeps trying to resume before it fails with
   *  `Unavailable`; default 30 s. */
  watchResumeTimeoutMs?: number;
}

const COMPACTED_MESSAGE = 'required revision has been compacted';
const FUTURE_MESSAGE = 'required revision is a future revision';
/** The smallest possible key, for requests that need some key. */
const MIN_KEY = Buffer.from([0]);

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** etcd's "all keys with this prefix" end: the prefix with its last byte
 *  below 0xff incremented; `\0` (meaning "no end") when there is none. */
function prefixEndBytes(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return MIN_KEY;
}

function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

/** Whether an etcd key-value message is really there (proto3 fills absent
 *  messages with defaults). */
const present = (kv: IKeyValue | null | undefined): kv is IKeyValue =>
  kv !== null && kv !== undefined && kv.create_revision !== undefined && kv.create_revision !== '0';

function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (isRecoverableError(err) || err instanceof ClientClosedError) return true;
  // cockatiel's open circuit breaker (the client's per-host fault policy).
  if ((err as { isBrokenCircuitError?: unknown }).isBrokenCircuitError === true) return true;
  return /no leader|leader changed|request timed out|too many requests|not capable|connection refused|timeout/i.test(
    err.message,
  );
}

function mapError(err: unknown): unknown {
  if (err instanceof StorageError) return err;
  if (err instanceof Error && err.message.includes(FUTURE_MESSAGE)) {
    return new StorageError('Unavailable', err.message);
  }
  if (isUnavailable(err)) return new StorageError('Unavailable', (err as Error).message);
  return err;
}

const isCompactedError = (err: unknown): boolean => err instanceof Error && err.message.includes(COMPACTED_MESSAGE);

export class EtcdStore implements Store {
  readonly client: Etcd3;
  private readonly watchResumeTimeoutMs: number;
  private readonly watchers = new Set<EtcdWatch>();
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    const timeout = options.requestTimeoutMs ?? 30_000;
    this.watchResumeTimeoutMs = options.watchResumeTimeoutMs ?? 30_000;
    this.client = new Etcd3({
      hosts: options.endpoints,
      credentials: options.credentials,
      // A list of many objects or a watch catching up can exceed grpc's 4 MiB
      // default; etcd itself sends up to 2 GiB.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
      // Streams (watches) live as long as they are needed; a unary request
      // that hangs on a dead member must fail so that callers see Unavailable.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    });
  }

  // --- reads -------------------------------------------------------------

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.call(() => this.client.kv.range({ key: utf8(key) }));
    const kv = res.kvs[0];
    return kv === undefined ? undefined : toKeyValue(kv);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const prefixBytes = utf8(prefix);
    let start = prefix === '' ? MIN_KEY : prefixBytes;
    if (options.startAfter !== undefined) {
      // The next key after `startAfter` in byte order is itself plus NUL.
      const after = Buffer.concat([utf8(options.startAfter), MIN_KEY]);
      if (Buffer.compare(after, start) > 0) start = after;
    }
    const revision = options.revision !== undefined && options.revision > 0 ? options.revision : 0;
    const limit = options.limit !== undefined && options.limit > 0 ? Math.floor(options.limit) : 0;
    const res = await this.call(() =>
      this.client.kv.range({ key: start, range_end: prefixEndBytes(prefixBytes), revision, limit }),
    );
    const items = res.kvs.map(toKeyValue);
    const result: ListResult = {
      items,
      revision: revision > 0 ? revision : Number(res.header.revision),
      more: res.more,
    };
    // etcd counts the whole range, not just the returned page.
    if (res.more) result.remaining = Number(res.count) - items.length;
    return result;
  }

  async count(prefix: string): Promise<number> {
    const prefixBytes = utf8(prefix);
    const res = await this.call(() =>
      this.client.kv.range({
        key: prefix === '' ? MIN_KEY : prefixBytes,
        range_end: prefixEndBytes(prefixBytes),
        count_only: true,
      }),
    );
    return Number(res.count);
  }

  async currentRevision(): Promise<number> {
    const res = await this.call(() => this.client.kv.range({ key: MIN_KEY, count_only: true }));
    return Number(res.header.revision);
  }

  async compactedRevision(): Promise<number> {
    try {
      await this.call(() => this.client.kv.range({ key: MIN_KEY, revision: 1, count_only: true }));
      return 1;
    } catch (err) {
      if (!(err instanceof StorageError && err.code === 'Compacted')) throw err;
      if (err.revision !== undefined) return err.revision + 1;
      throw err;
    }
  }

  /** etcd tells no one its compact revision except a watch that starts
   *  below it: its cancellation carries the number. */
  private async probeCompactRevision(): Promise<number | undefined> {
    let stream: IDuplexStream<IWatchRequest, IWatchResponse>;
    try {
      stream = await this.client.watchClient.watch();
    } catch {
      return undefined;
    }
    return new Promise<number | undefined>((resolve) => {
      const done = (rev: number | undefined): void => {
        clearTimeout(timer);
        stream.cancel();
        resolve(rev);
      };
      const timer = setTimeout(() => done(undefined), 5000);
      stream.on('data', (res: IWatchResponse) => {
        const c = Number(res.compact_revision);
        if (c > 0) done(c);
        else if (res.canceled || (res.events?.length ?? 0) > 0) done(undefined);
      });
      stream.on('error', () => done(undefined));
      stream.on('end', () => done(undefined));
      stream.write({ create_request: { key: MIN_KEY, start_revision: 1 } });
    });
  }

  // --- writes ------------------------------------------------------------

  async create(key: string, value: string): Promise<KeyValue> {
    const k = utf8(key);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: k, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
        success: [{ request_put: { key: k, value: utf8(value) } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) {
      const existing = res.responses[0]?.response_range?.kvs[0];
      throw new StorageError(
        'AlreadyExists',
        `key ${key} already exists`,
        existing !== undefined ? Number(existing.mod_revision) : undefined,
      );
    }
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const k = utf8(key);
    if (!(expectedRevision > 0)) {
      // A missing key has mod revision 0 in etcd: comparing against 0 would
      // turn this update into a create.
      const cur = await this.get(key);
      if (cur === undefined) throw new StorageError('NotFound', `key ${key} not found`);
      throw conflict(key, cur.modRevision, expectedRevision);
    }
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: expectedRevision }],
        success: [{ request_put: { key: k, value: utf8(value), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) throw this.casFailure(key, res.responses[0]?.response_range?.kvs[0], expectedRevision);
    const rev = Number(res.header.revision);
    const prev = res.responses[0]?.response_put?.prev_kv;
    return { key, value, createRevision: present(prev) ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<KeyValue> {
    const k = utf8(key);
    const expected = options.expectedRevision;
    if (expected === undefined) {
      const res = await this.call(() => this.client.kv.deleteRange({ key: k, prev_kv: true }));
      const prev = res.prev_kvs[0];
      if (Number(res.deleted) === 0 || prev === undefined) throw new StorageError('NotFound', `key ${key} not found`);
      return { ...toKeyValue(prev), modRevision: Number(res.header.revision) };
    }
    if (!(expected > 0)) {
      const cur = await this.get(key);
      if (cur === undefined) throw new StorageError('NotFound', `key ${key} not found`);
      throw conflict(key, cur.modRevision, expected);
    }
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: expected }],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!res.succeeded) throw this.casFailure(key, res.responses[0]?.response_range?.kvs[0], expected);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (prev === undefined) throw new StorageError('NotFound', `key ${key} not found`);
    return { ...toKeyValue(prev), modRevision: Number(res.header.revision) };
  }

  private casFailure(key: string, current: IKeyValue | undefined, expected: number): StorageError {
    if (current === undefined) return new StorageError('NotFound', `key ${key} not found`);
    return conflict(key, Number(current.mod_revision), expected);
  }

  // --- compaction --------------------------------------------------------

  async compact(revision: number): Promise<void> {
    const current = await this.currentRevision();
    // etcd keeps its compaction revision readable, and never compacts past
    // the current revision (which must stay readable here too).
    const target = Math.min(Math.floor(revision) + 1, current);
    if (target <= 1) return;
    try {
      await this.client.kv.compact({ revision: target, physical: true });
    } catch (err) {
      // Someone (another server) already compacted at least this far.
      if (isCompactedError(err)) return;
      throw mapError(err);
    }
  }

  // --- watch -------------------------------------------------------------

  watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): Watcher {
    const w = new EtcdWatch(this, prefix, fromRevision, callbacks, this.watchResumeTimeoutMs, () =>
      this.watchers.delete(w),
    );
    if (this.closed) {
      setImmediate(() => w.fail(new StorageError('Unavailable', 'store is closed')));
      return w;
    }
    this.watchers.add(w);
    w.start();
    return w;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watchers]) w.fail(new StorageError('Unavailable', 'store is closed'));
    this.client.close();
  }

  /** Runs one etcd request, mapping its failures to StorageErrors. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageError('Unavailable', 'store is closed');
    try {
      return await fn();
    } catch (err) {
      if (isCompactedError(err)) throw await this.compactedError((err as Error).message);
      throw mapError(err);
    }
  }

  async compactedError(message: string): Promise<StorageError> {
    const etcdCompact = await this.probeCompactRevision();
    return new StorageError('Compacted', message, etcdCompact !== undefined ? etcdCompact - 1 : undefined);
  }
}

function conflict(key: string, current: number, expected: number): StorageError {
  return new StorageError('Conflict', `key ${key} is at revision ${current}, not ${expected}`, current);
}

/**
 * One watch on its own gRPC stream. etcd3's Watcher is not used: after a
 * reconnect it resumes from the revision of its creation response rather than
 * from the last delivered event (events in between are lost), and it drops
 * the compact revision of a cancellation. Here a broken stream is resumed
 * from the last delivered revision and anything at or below it is dropped, so
 * every event arrives once.
 */
class EtcdWatch implements Watcher {
  private closed = false;
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private lastDelivered: number;
  private readonly key: Buffer;
  private readonly rangeEnd: Buffer;
  private backoffMs = 100;
  /** When resuming started failing; undefined while the stream is healthy. */
  private failingSince: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: EtcdStore,
    prefix: string,
    fromRevision: number,
    private readonly callbacks: WatchCallbacks,
    private readonly resumeTimeoutMs: number,
    private readonly onClose: () => void,
  ) {
    this.lastDelivered = fromRevision;
    const p = utf8(prefix);
    this.key = prefix === '' ? MIN_KEY : p;
    this.rangeEnd = prefixEndBytes(p);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.stream = undefined;
    this.onClose();
  }

  fail(err: Error): void {
    if (this.closed) return;
    this.close();
    this.callbacks.onError(err);
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    let stream: IDuplexStream<IWatchRequest, IWatchResponse>;
    try {
      stream = await this.store.client.watchClient.watch();
    } catch (err) {
      this.broken(err);
      return;
    }
    if (this.closed) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (res: IWatchResponse) => this.onResponse(stream, res));
    stream.on('error', (err: Error) => this.onStreamEnd(stream, err));
    stream.on('end', () => this.onStreamEnd(stream, new Error('etcd closed the watch stream')));
    // Starting at lastDelivered (not +1) makes etcd refuse exactly the
    // revisions this store calls compacted (below compactedRevision()), and
    // keeps the prev_kv lookup of the first wanted event (at its revision
    // - 1) above etcd's compaction point. The extra revision is dropped.
    // Revision 0 would mean "from now" to etcd; 1 is the start of history.
    stream.write({
      create_request: {
        key: this.key,
        range_end: this.rangeEnd,
        start_revision: Math.max(this.lastDelivered, 1),
        prev_kv: true,
      },
    });
  }

  private onResponse(stream: IDuplexStream<IWatchRequest, IWatchResponse>, res: IWatchResponse): void {
    if (this.closed || stream !== this.stream) return;
    const compactRev = Number(res.compact_revision);
    if (compactRev > 0) {
      this.fail(
        new StorageError(
          'Compacted',
          `watch from revision ${this.lastDelivered} has been compacted (compacted revision ${compactRev - 1})`,
          compactRev - 1,
        ),
      );
      return;
    }
    if (res.canceled) {
      const reason = res.cancel_reason !== '' ? res.cancel_reason : 'etcd canceled the watch';
      const err = new Error(reason);
      this.fail(isUnavailable(err) ? new StorageError('Unavailable', reason) : err);
      return;
    }
    if (res.created) {
      this.failingSince = undefined;
      this.backoffMs = 100;
      return;
    }
    const events: WatchEvent[] = [];
    for (const ev of res.events ?? []) {
      if (Number(ev.kv.mod_revision) <= this.lastDelivered) continue;
      const mapped = toWatchEvent(ev);
      if (mapped === undefined) {
        // The value before this event is compacted away (a watch that started
        // right at the compaction point); a DELETE without its value or a PUT
        // without its prev would break the contract.
        this.stream = undefined;
        stream.cancel();
        void this.store
          .compactedError(`the value before revision ${ev.kv.mod_revision} has been compacted`)
          .then((e) => this.fail(e));
        return;
      }
      events.push(mapped);
    }
    if (events.length === 0) return;
    this.lastDelivered = events[events.length - 1]!.kv.modRevision;
    try {
      this.callbacks.onEvents(events);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onStreamEnd(stream: IDuplexStream<IWatchRequest, IWatchResponse>, err: Error): void {
    if (this.closed || stream !== this.stream) return;
    this.stream = undefined;
    stream.cancel();
    this.broken(err);
  }

  /** The stream broke (member down, leader lost): resume after a backoff,
   *  unless it has been failing for too long. */
  private broken(err: unknown): void {
    if (this.closed) return;
    const now = Date.now();
    this.failingSince ??= now;
    if (now - this.failingSince > this.resumeTimeoutMs) {
      const message = err instanceof Error ? err.message : String(err);
      this.fail(new StorageError('Unavailable', `watch could not be resumed: ${message}`));
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) void this.connect();
    }, delay);
  }
}

function toWatchEvent(ev: IEvent): WatchEvent | undefined {
  const type = String(ev.type).toUpperCase();
  if (type === 'DELETE') {
    if (!present(ev.prev_kv)) return undefined;
    const prev = toKeyValue(ev.prev_kv);
    return { type: 'DELETE', kv: { ...prev, modRevision: Number(ev.kv.mod_revision) }, prev };
  }
  const kv = toKeyValue(ev.kv);
  if (present(ev.prev_kv)) return { type: 'PUT', kv, prev: toKeyValue(ev.prev_kv) };
  // version 1 = this put created the key; anything else had a prev.
  if (Number(ev.kv.version) !== 1) return undefined;
  return { type: 'PUT', kv };
}

export async function openEtcdStore(options: EtcdStoreOptions): Promise<EtcdStore> {
  const store = new EtcdStore(options);
  try {
    // Fail at startup, not on the first request, when etcd is unreachable.
    await store.currentRevision();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

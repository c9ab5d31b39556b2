/**
 * The embedded store: one SQLite file, written by this process only.
 *
 * Shape (like k3s's kine): `log` has one row per write, its `id` is the
 * revision. A delete is a row too (a tombstone carrying the deleted value), so
 * history can be replayed to watchers and read at an old revision. `current`
 * maps each live key to its latest row so that latest reads (get, list, count,
 * the existence checks of writes) never scan history.
 *
 * Writes are queued and committed together once per event-loop turn (group
 * commit): one fsync-free WAL commit costs about as much as a dozen row
 * inserts, so batching what concurrent clients issued in the same turn raises
 * throughput without adding latency. Each write in a batch is still checked and
 * applied in order, as if alone.
 *
 * Durability: WAL + synchronous=NORMAL. A commit is in the OS once it returns,
 * so an acknowledged write survives the process being killed (not a power cut).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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

export interface SqliteCompactionOptions {
  /** How often the automatic compaction runs; default 5 minutes. */
  intervalMs?: number;
  /** Never compact the newest this-many revisions; default 10,000. */
  minRetainedRevisions?: number;
}

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created). */
  path: string;
  /** Automatic compaction; `false` leaves compaction to explicit `compact()` calls. */
  compaction?: SqliteCompactionOptions | false;
  /** Commit the writes issued in one event-loop turn together (default true). */
  groupCommit?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id);
CREATE TABLE IF NOT EXISTS current (
  name TEXT PRIMARY KEY,
  id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Revisions compacted per transaction, so that a large compaction does not
 *  stall the event loop (and every request) for long. */
const COMPACT_CHUNK = 5000;
/** History rows read per step when a watcher catches up. */
const CATCHUP_CHUNK = 1000;

interface CurrentRow {
  id: number;
  createRevision: number;
  value: string;
}

interface LatestRow {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

interface HistoryRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  createRevision: number;
  value: string;
  prevId: number | null;
  prevCreateRevision: number | null;
  prevValue: string | null;
}

type WriteOp =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expected: number }
  | { kind: 'delete'; key: string; expected: number | undefined };

interface PendingWrite {
  op: WriteOp;
  resolve(kv: KeyValue): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; kv: KeyValue; event: WatchEvent } | { ok: false; error: unknown };

/**
 * The smallest string greater than every string starting with `prefix`, in
 * UTF-8 byte order (= code point order, SQLite's BINARY collation), or
 * undefined when there is none (empty prefix, or only U+10FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix, (ch) => ch.codePointAt(0) ?? 0);
  while (cps.length > 0) {
    const last = cps.pop() ?? 0;
    if (last < 0x10ffff) {
      // Surrogate code points cannot appear in valid strings; skip over them.
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return String.fromCodePoint(...cps, next);
    }
  }
  return undefined;
}

type SqlParams = Record<string, string | number>;

/** SQL bounds selecting the keys under `prefix`, strictly after `after` when
 *  given (the caller ensures `after` >= `prefix`). */
function keyRange(prefix: string, after: string | undefined): { where(col: string): string; params: SqlParams } {
  const end = prefixEnd(prefix);
  const params: SqlParams = {};
  const parts: string[] = [];
  if (after !== undefined) {
    params.lo = after;
    parts.push('> @lo');
  } else if (prefix !== '') {
    params.lo = prefix;
    parts.push('>= @lo');
  }
  if (end !== undefined) {
    params.hi = end;
    parts.push('< @hi');
  }
  return {
    where: (col) => (parts.length === 0 ? '1' : parts.map((p) => `${col} ${p}`).join(' AND ')),
    params,
  };
}

/** Whether `key` starts with `prefix`; same answer as the SQL range bounds. */
const hasPrefix = (key: string, prefix: string): boolean => key.startsWith(prefix);

class SqliteWatch implements Watcher {
  closed = false;
  live = false;
  /** Highest revision delivered (or skipped as before the start). */
  lastDelivered: number;
  /** Live events that arrived while history was still being replayed. */
  buffered: WatchEvent[] = [];
  queue: WatchEvent[] = [];
  flushScheduled = false;

  constructor(
    readonly prefix: string,
    fromRevision: number,
    /** Revision committed when the watch started: history covers up to it. */
    readonly catchUpTo: number,
    readonly callbacks: WatchCallbacks,
    private readonly onClose: (w: SqliteWatch) => void,
  ) {
    this.lastDelivered = fromRevision;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffered = [];
    this.queue = [];
    this.onClose(this);
  }

  deliver(events: WatchEvent[]): void {
    if (this.closed || events.length === 0) return;
    this.lastDelivered = events[events.length - 1]!.kv.modRevision;
    try {
      this.callbacks.onEvents(events);
    } catch (err) {
      // A consumer that throws cannot be trusted to have seen the events, so
      // the watch ends instead of continuing with a silent gap.
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  fail(err: Error): void {
    if (this.closed) return;
    this.close();
    this.callbacks.onError(err);
  }

  /** Called synchronously right after a commit. */
  push(events: WatchEvent[]): void {
    if (this.closed) return;
    if (!this.live) {
      this.buffered.push(...events);
      return;
    }
    this.queue.push(...events);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Delivery is deferred so that a consumer never runs inside a commit.
      queueMicrotask(() => {
        this.flushScheduled = false;
        const batch = this.queue;
        this.queue = [];
        this.deliver(batch.filter((e) => e.kv.modRevision > this.lastDelivered));
      });
    }
  }
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly groupCommit: boolean;
  /** Latest committed revision. */
  private rev: number;
  /** History at and below this revision is gone. */
  private compactRev: number;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private readonly watchers = new Set<SqliteWatch>();
  private compactTimer: NodeJS.Timeout | undefined;
  /** Revision seen at the previous automatic-compaction tick. */
  private lastTickRevision: number;
  private compacting: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly stmtCache = new Map<string, Database.Statement>();

  private readonly sGetCurrent: Database.Statement<[string], CurrentRow>;
  private readonly sInsert: Database.Statement<[number, string, number, number, number, number, string]>;
  private readonly sCurrentInsert: Database.Statement<[string, number]>;
  private readonly sCurrentUpdate: Database.Statement<[number, string]>;
  private readonly sCurrentDelete: Database.Statement<[string]>;
  private readonly sRowById: Database.Statement<[number], { deleted: number; createRevision: number; value: string }>;
  private readonly sSetMeta: Database.Statement<[string, number]>;
  private readonly sCompactSuperseded: Database.Statement<[number, number]>;
  private readonly sCompactTombstones: Database.Statement<[number, number]>;
  private readonly applyBatch: (ops: PendingWrite[]) => Outcome[];

  constructor(options: SqliteStoreOptions) {
    // The database holds Secrets: keep its directory private.
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    this.db = new Database(options.path);
    this.groupCommit = options.groupCommit ?? true;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Another process (a backup, a debugging shell) may hold the lock briefly.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    this.db.exec(SCHEMA);

    const maxId = this.db.prepare<[], { m: number | null }>('SELECT max(id) AS m FROM log').get()?.m ?? 0;
    const seq =
      this.db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'log'").get()?.seq ?? 0;
    this.rev = Math.max(maxId, seq);
    this.compactRev =
      this.db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'compact_revision'").get()?.value ?? 0;
    this.lastTickRevision = this.rev;

    this.sGetCurrent = this.db.prepare(
      'SELECT c.id AS id, l.create_revision AS createRevision, l.value AS value FROM current c JOIN log l ON l.id = c.id WHERE c.name = ?',
    );
    this.sInsert = this.db.prepare(
      'INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.sCurrentInsert = this.db.prepare('INSERT INTO current (name, id) VALUES (?, ?)');
    this.sCurrentUpdate = this.db.prepare('UPDATE current SET id = ? WHERE name = ?');
    this.sCurrentDelete = this.db.prepare('DELETE FROM current WHERE name = ?');
    this.sRowById = this.db.prepare(
      'SELECT deleted, create_revision AS createRevision, value FROM log WHERE id = ?',
    );
    this.sSetMeta = this.db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    // A row is history once a later write of its key exists: every write
    // records the row it replaced, so a compaction of (from, to] deletes the
    // rows replaced by writes in that range, plus the tombstones in it. The
    // newest row at or below `to` of every live key survives, which is all a
    // read at a revision above `to` needs.
    this.sCompactSuperseded = this.db.prepare(
      'DELETE FROM log WHERE id IN (SELECT prev_revision FROM log WHERE id > ? AND id <= ? AND prev_revision > 0)',
    );
    this.sCompactTombstones = this.db.prepare('DELETE FROM log WHERE id > ? AND id <= ? AND deleted = 1');

    const batchTxn = this.db.transaction((ops: PendingWrite[]): Outcome[] => ops.map((p) => this.apply(p.op)));
    this.applyBatch = (ops) => batchTxn.immediate(ops);

    if (options.compaction !== false) {
      const intervalMs = options.compaction?.intervalMs ?? 5 * 60_000;
      const minRetained = options.compaction?.minRetainedRevisions ?? 10_000;
      // Policy: compact to the revision seen one interval ago, but keep at
      // least the newest `minRetained` revisions. The first bound gives any
      // watcher or paginated list at least one interval (5 min, as the
      // Kubernetes apiserver's own compactor) to resume before it gets 410
      // Gone; the second keeps a burst of writes from compacting away what a
      // slightly lagging watch cache still needs.
      this.compactTimer = setInterval(() => {
        const target = Math.min(this.lastTickRevision, this.rev - minRetained);
        this.lastTickRevision = this.rev;
        if (target > this.compactRev) {
          this.compact(target).catch(() => {
            // Compaction is best effort; the next tick retries.
          });
        }
      }, intervalMs);
      this.compactTimer.unref();
    }
  }

  // --- reads -------------------------------------------------------------

  async get(key: string): Promise<KeyValue | undefined> {
    this.checkOpen();
    const row = this.sGetCurrent.get(key);
    if (row === undefined) return undefined;
    return { key, value: row.value, createRevision: row.createRevision, modRevision: row.id };
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const requested = options.revision ?? 0;
    if (requested > 0 && requested <= this.compactRev) {
      throw new StorageError(
        'Compacted',
        `revision ${requested} has been compacted (compacted revision ${this.compactRev})`,
        this.compactRev,
      );
    }
    if (requested > this.rev) {
      // The Kubernetes apiserver answers a resourceVersion from the future with
      // a retryable "too large resource version"; Unavailable is the closest.
      throw new StorageError('Unavailable', `revision ${requested} is newer than the current revision ${this.rev}`);
    }
    const atRevision = requested > 0 ? requested : this.rev;
    const limit = options.limit !== undefined && options.limit > 0 ? Math.floor(options.limit) : 0;
    const after = options.startAfter !== undefined && options.startAfter >= prefix ? options.startAfter : undefined;
    const range = keyRange(prefix, after);

    let items: KeyValue[];
    if (atRevision === this.rev) {
      // Latest state: straight from `current`, in key order.
      const sql =
        `SELECT c.name AS key, l.value AS value, l.create_revision AS createRevision, c.id AS modRevision ` +
        `FROM current c JOIN log l ON l.id = c.id WHERE ${range.where('c.name')} ORDER BY c.name` +
        (limit > 0 ? ' LIMIT @limit' : '');
      const params: SqlParams = { ...range.params };
      if (limit > 0) params.limit = limit + 1;
      items = this.stmt<LatestRow>(sql).all(params);
    } else {
      // Older state: for each key its newest row at or below the revision,
      // unless that row is a tombstone. The (name, id) index yields the
      // candidates in key order, so the scan stops once the page is full.
      const sql = `SELECT name, max(id) AS id FROM log WHERE ${range.where('name')} AND id <= @rev GROUP BY name ORDER BY name`;
      items = [];
      for (const cand of this.stmt<{ name: string; id: number }>(sql).iterate({ ...range.params, rev: atRevision })) {
        const row = this.sRowById.get(cand.id);
        if (row === undefined || row.deleted) continue;
        items.push({ key: cand.name, value: row.value, createRevision: row.createRevision, modRevision: cand.id });
        if (limit > 0 && items.length > limit) break;
      }
    }

    const more = limit > 0 && items.length > limit;
    if (!more) return { items, revision: atRevision, more: false };
    items.length = limit;
    // Counted at the latest revision even for an older read: the interface
    // allows an estimate, and counting history would cost a full scan.
    const rest = keyRange(prefix, items[items.length - 1]!.key);
    const remaining = this.stmt<{ n: number }>(`SELECT count(*) AS n FROM current WHERE ${rest.where('name')}`).get(rest.params)?.n ?? 0;
    return { items, revision: atRevision, more: true, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    const range = keyRange(prefix, undefined);
    return this.stmt<{ n: number }>(`SELECT count(*) AS n FROM current WHERE ${range.where('name')}`).get(range.params)?.n ?? 0;
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.rev;
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compactRev + 1;
  }

  // --- writes ------------------------------------------------------------

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue({ kind: 'create', key, value });
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.enqueue({ kind: 'update', key, value, expected: expectedRevision });
  }

  delete(key: string, options: DeleteOptions = {}): Promise<KeyValue> {
    return this.enqueue({ kind: 'delete', key, expected: options.expectedRevision });
  }

  private enqueue(op: WriteOp): Promise<KeyValue> {
    if (this.closed) return Promise.reject(new StorageError('Unavailable', 'store is closed'));
    return new Promise<KeyValue>((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      if (!this.groupCommit) {
        this.flush();
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate runs after the I/O callbacks of this turn, so the
        // writes of every request that arrived together share one commit.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Applies one write inside the open transaction. Errors that are the
   *  caller's (NotFound, Conflict, ...) are outcomes, not exceptions, so they
   *  do not roll back the other writes of the batch. */
  private apply(op: WriteOp): Outcome {
    const cur = this.sGetCurrent.get(op.key);
    switch (op.kind) {
      case 'create': {
        if (cur !== undefined) {
          return { ok: false, error: new StorageError('AlreadyExists', `key ${op.key} already exists`, cur.id) };
        }
        const id = this.rev + 1;
        this.sInsert.run(id, op.key, 1, 0, id, 0, op.value);
        this.sCurrentInsert.run(op.key, id);
        this.rev = id;
        const kv: KeyValue = { key: op.key, value: op.value, createRevision: id, modRevision: id };
        return { ok: true, kv, event: { type: 'PUT', kv } };
      }
      case 'update': {
        if (cur === undefined) return { ok: false, error: new StorageError('NotFound', `key ${op.key} not found`) };
        if (cur.id !== op.expected) {
          return {
            ok: false,
            error: new StorageError('Conflict', `key ${op.key} is at revision ${cur.id}, not ${op.expected}`, cur.id),
          };
        }
        const id = this.rev + 1;
        this.sInsert.run(id, op.key, 0, 0, cur.createRevision, cur.id, op.value);
        this.sCurrentUpdate.run(id, op.key);
        this.rev = id;
        const kv: KeyValue = { key: op.key, value: op.value, createRevision: cur.createRevision, modRevision: id };
        const prev: KeyValue = { key: op.key, value: cur.value, createRevision: cur.createRevision, modRevision: cur.id };
        return { ok: true, kv, event: { type: 'PUT', kv, prev } };
      }
      case 'delete': {
        if (cur === undefined) return { ok: false, error: new StorageError('NotFound', `key ${op.key} not found`) };
        if (op.expected !== undefined && cur.id !== op.expected) {
          return {
            ok: false,
            error: new StorageError('Conflict', `key ${op.key} is at revision ${cur.id}, not ${op.expected}`, cur.id),
          };
        }
        const id = this.rev + 1;
        this.sInsert.run(id, op.key, 0, 1, cur.createRevision, cur.id, cur.value);
        this.sCurrentDelete.run(op.key);
        this.rev = id;
        const kv: KeyValue = { key: op.key, value: cur.value, createRevision: cur.createRevision, modRevision: id };
        const prev: KeyValue = { key: op.key, value: cur.value, createRevision: cur.createRevision, modRevision: cur.id };
        return { ok: true, kv, event: { type: 'DELETE', kv, prev } };
      }
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const committedRev = this.rev;
    let outcomes: Outcome[];
    try {
      outcomes = this.applyBatch(batch);
    } catch {
      // Something failed below the semantics (disk full, I/O error). Retry
      // each write alone so that one bad write does not fail its neighbours,
      // and each caller gets its own error.
      this.rev = committedRev;
      outcomes = batch.map((p) => {
        const before = this.rev;
        try {
          return this.applyBatch([p])[0]!;
        } catch (error) {
          this.rev = before;
          return { ok: false, error };
        }
      });
    }
    const events: WatchEvent[] = [];
    for (const o of outcomes) if (o.ok) events.push(o.event);
    if (events.length > 0) {
      for (const w of this.watchers) {
        const mine = w.prefix === '' ? events : events.filter((e) => hasPrefix(e.kv.key, w.prefix));
        if (mine.length > 0) w.push(mine);
      }
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.kv);
      else p.reject(o.error);
    });
  }

  // --- watch -------------------------------------------------------------

  watch(prefix: string, fromRevision: number, callbacks: WatchCallbacks): Watcher {
    const w = new SqliteWatch(prefix, fromRevision, this.rev, callbacks, (x) => this.watchers.delete(x));
    if (this.closed) {
      setImmediate(() => w.fail(new StorageError('Unavailable', 'store is closed')));
      return w;
    }
    // A watch from revision R needs nothing at or below R, but it is refused
    // like a read at R would be: the same rule as etcd applies (see the etcd
    // backend), so both backends answer alike.
    if (this.compactRev > 0 && fromRevision <= this.compactRev) {
      const c = this.compactRev;
      setImmediate(() =>
        w.fail(new StorageError('Compacted', `revision ${fromRevision} has been compacted (compacted revision ${c})`, c)),
      );
      return w;
    }
    // Registered now, in the same synchronous step that fixed catchUpTo: every
    // later commit reaches the watcher live, everything up to catchUpTo comes
    // from the table, so nothing falls between the two.
    this.watchers.add(w);
    setImmediate(() => this.catchUp(w));
    return w;
  }

  private catchUp(w: SqliteWatch): void {
    if (w.closed) return;
    if (this.closed) {
      w.fail(new StorageError('Unavailable', 'store is closed'));
      return;
    }
    if (w.lastDelivered < w.catchUpTo) {
      if (w.lastDelivered < this.compactRev) {
        // A compaction overtook the replay: the rows it still needs are gone.
        w.fail(new StorageError('Compacted', `watch fell behind compaction at ${this.compactRev}`, this.compactRev));
        return;
      }
      const range = keyRange(w.prefix, undefined);
      const sql =
        'SELECT l.id AS id, l.name AS name, l.created AS created, l.deleted AS deleted, ' +
        'l.create_revision AS createRevision, l.value AS value, p.id AS prevId, ' +
        'p.create_revision AS prevCreateRevision, p.value AS prevValue ' +
        'FROM log l LEFT JOIN log p ON p.id = l.prev_revision AND l.created = 0 ' +
        `WHERE l.id > @from AND l.id <= @to AND ${range.where('l.name')} ORDER BY l.id LIMIT @limit`;
      const rows = this.stmt<HistoryRow>(sql).all({
        ...range.params,
        from: w.lastDelivered,
        to: w.catchUpTo,
        limit: CATCHUP_CHUNK,
      });
      w.deliver(rows.map(historyEvent));
      if (w.closed) return;
      if (rows.length < CATCHUP_CHUNK) w.lastDelivered = w.catchUpTo;
      if (w.lastDelivered < w.catchUpTo) {
        // Next chunk on a later turn, so a long replay shares the loop.
        setImmediate(() => this.catchUp(w));
        return;
      }
    }
    w.live = true;
    const rest = w.buffered.filter((e) => e.kv.modRevision > w.lastDelivered);
    w.buffered = [];
    if (rest.length > 0) w.push(rest);
  }

  // --- compaction --------------------------------------------------------

  compact(revision: number): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('Unavailable', 'store is closed'));
    // Serialised: two compactions interleaving chunks would still be correct,
    // but the compacted revision must only grow.
    const run = this.compacting.then(() => this.compactNow(revision));
    this.compacting = run.catch(() => undefined);
    return run;
  }

  private async compactNow(revision: number): Promise<void> {
    // The latest revision stays readable: a list "as of now" must be
    // continuable at the revision it returned.
    const target = Math.min(Math.floor(revision), this.rev - 1);
    while (!this.closed && this.compactRev < target) {
      const from = this.compactRev;
      const to = Math.min(target, from + COMPACT_CHUNK);
      this.db.transaction(() => {
        this.sCompactSuperseded.run(from, to);
        this.sCompactTombstones.run(from, to);
        this.sSetMeta.run('compact_revision', to);
      }).immediate();
      this.compactRev = to;
      if (to < target) await new Promise<void>((r) => setImmediate(r));
    }
  }

  // --- lifecycle ---------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    // Writes already accepted are committed and acknowledged first.
    this.flush();
    this.closed = true;
    if (this.compactTimer !== undefined) clearInterval(this.compactTimer);
    await this.compacting;
    for (const w of [...this.watchers]) w.fail(new StorageError('Unavailable', 'store is closed'));
    this.db.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', 'store is closed');
  }

  /** Statements whose text depends on the range shape, prepared once each. */
  private stmt<R>(sql: string): Database.Statement<[SqlParams], R> {
    let s = this.stmtCache.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.stmtCache.set(sql, s);
    }
    return s as Database.Statement<[SqlParams], R>;
  }
}

function historyEvent(r: HistoryRow): WatchEvent {
  const kv: KeyValue = { key: r.name, value: r.value, createRevision: r.createRevision, modRevision: r.id };
  const prev: KeyValue | undefined =
    r.prevId !== null && r.prevValue !== null
      ? { key: r.name, value: r.prevValue, createRevision: r.prevCreateRevision ?? r.createRevision, modRevision: r.prevId }
      : undefined;
  const event: WatchEvent = { type: r.deleted ? 'DELETE' : 'PUT', kv };
  if (prev !== undefined) event.prev = prev;
  return event;
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  return new SqliteStore(options);
}

/**
 * The one conformance suite every Store backend must pass. It never assumes
 * absolute revisions or an empty store: each test works under its own key
 * prefix, so a backend may share one server (one etcd) between tests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  StorageError,
  isStorageError,
  type KeyValue,
  type Store,
  type StorageErrorCode,
  type WatchCallbacks,
  type WatchEvent,
} from '../../src/storage/store.js';

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

let prefixCounter = 0;
const uniquePrefix = (): string => `/conformance/${++prefixCounter}-${randomBytes(4).toString('hex')}/`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rejectsWith(p: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StorageError, `expected StorageError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    assert.ok(isStorageError(err, code));
    return err;
  }
  assert.fail(`expected StorageError ${code}, but it succeeded`);
}

/** Records what a watch delivers. */
class Collector {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  batches = 0;
  readonly callbacks: WatchCallbacks = {
    onEvents: (events) => {
      assert.ok(events.length > 0, 'onEvents with an empty batch');
      this.batches++;
      this.events.push(...events);
    },
    onError: (err) => {
      this.errors.push(err);
    },
  };

  get lastRevision(): number {
    return this.events.length === 0 ? 0 : this.events[this.events.length - 1]!.kv.modRevision;
  }

  async waitFor(what: string, pred: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.errors.length > 0) assert.fail(`${what}: watch failed: ${this.errors[0]!.message}`);
      if (Date.now() > deadline) {
        assert.fail(`${what}: timed out; got ${this.events.length} events up to revision ${this.lastRevision}`);
      }
      await sleep(5);
    }
  }

  async waitForError(timeoutMs = 15_000): Promise<Error> {
    const deadline = Date.now() + timeoutMs;
    while (this.errors.length === 0) {
      if (Date.now() > deadline) assert.fail('timed out waiting for a watch error');
      await sleep(5);
    }
    return this.errors[0]!;
  }
}

const keysOf = (items: KeyValue[]): string[] => items.map((kv) => kv.key);
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function storeConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store conformance: ${name}`, () => {
    /** Runs `fn` with a freshly opened store and a unique key prefix. */
    const withStore = (fn: (store: Store, p: string) => Promise<void>) => async (): Promise<void> => {
      const { store, cleanup } = await open();
      try {
        await fn(store, uniquePrefix());
      } finally {
        await cleanup();
      }
    };

    describe('create and get', () => {
      it('creates a key at the next revision and reads it back', withStore(async (store, p) => {
        assert.equal(await store.get(`${p}a`), undefined);
        const before = await store.currentRevision();
        const kv = await store.create(`${p}a`, 'value-a');
        assert.equal(kv.key, `${p}a`);
        assert.equal(kv.value, 'value-a');
        assert.ok(kv.modRevision > before, 'revision grows');
        assert.equal(kv.createRevision, kv.modRevision);
        assert.equal(await store.currentRevision(), kv.modRevision);
        assert.deepEqual(await store.get(`${p}a`), kv);
      }));

      it('gives every write the next store-wide revision', withStore(async (store, p) => {
        const a = await store.create(`${p}a`, '1');
        const b = await store.create(`${p}b`, '1');
        const a2 = await store.update(`${p}a`, '2', a.modRevision);
        const d = await store.delete(`${p}b`);
        assert.ok(a.modRevision < b.modRevision && b.modRevision < a2.modRevision && a2.modRevision < d.modRevision);
        assert.equal(await store.currentRevision(), d.modRevision);
      }));

      it('refuses to create an existing key with AlreadyExists', withStore(async (store, p) => {
        const kv = await store.create(`${p}a`, 'first');
        await rejectsWith(store.create(`${p}a`, 'second'), 'AlreadyExists');
        assert.deepEqual(await store.get(`${p}a`), kv);
        assert.equal(await store.currentRevision(), kv.modRevision, 'a failed write takes no revision');
      }));

      it('lets exactly one of many concurrent creates of a key win', withStore(async (store, p) => {
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.create(`${p}race`, `v${i}`)));
        const won = results.filter((r) => r.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const r of results) {
          if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'AlreadyExists'));
        }
      }));

      it('keeps keys and values byte-exact (unicode, large values, empty value)', withStore(async (store, p) => {
        const big = 'x'.repeat(1024 * 1024);
        const keys = [`${p}ünïcödé/🚀`, `${p}big`, `${p}empty`];
        const values = ['{"emoji":"🚀","ß":"ü"}', big, ''];
        for (let i = 0; i < keys.length; i++) await store.create(keys[i]!, values[i]!);
        for (let i = 0; i < keys.length; i++) assert.equal((await store.get(keys[i]!))?.value, values[i]);
        const listed = await store.list(p);
        assert.deepEqual(new Set(listed.items.map((kv) => kv.value.length)), new Set(values.map((v) => v.length)));
      }));
    });

    describe('update (compare-and-swap)', () => {
      it('writes when the expected revision matches and keeps createRevision', withStore(async (store, p) => {
        const kv = await store.create(`${p}a`, 'v1');
        const up = await store.update(`${p}a`, 'v2', kv.modRevision);
        assert.equal(up.value, 'v2');
        assert.equal(up.createRevision, kv.createRevision);
        assert.ok(up.modRevision > kv.modRevision);
        assert.deepEqual(await store.get(`${p}a`), up);
      }));

      it('fails with Conflict and the current revision when stale', withStore(async (store, p) => {
        const kv = await store.create(`${p}a`, 'v1');
        const up = await store.update(`${p}a`, 'v2', kv.modRevision);
        const err = await rejectsWith(store.update(`${p}a`, 'v3', kv.modRevision), 'Conflict');
        assert.equal(err.revision, up.modRevision);
        await rejectsWith(store.update(`${p}a`, 'v3', 0), 'Conflict');
        await rejectsWith(store.update(`${p}a`, 'v3', up.modRevision + 1000), 'Conflict');
        assert.deepEqual(await store.get(`${p}a`), up);
      }));

      it('fails with NotFound when the key does not exist', withStore(async (store, p) => {
        await rejectsWith(store.update(`${p}missing`, 'v', 1), 'NotFound');
        await rejectsWith(store.update(`${p}missing`, 'v', 0), 'NotFound');
        const kv = await store.create(`${p}gone`, 'v');
        await store.delete(`${p}gone`);
        await rejectsWith(store.update(`${p}gone`, 'v2', kv.modRevision), 'NotFound');
        assert.equal(await store.get(`${p}missing`), undefined);
        assert.equal(await store.get(`${p}gone`), undefined);
      }));

      it('lets exactly one of many concurrent updates from one revision win', withStore(async (store, p) => {
        const kv = await store.create(`${p}a`, 'v0');
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.update(`${p}a`, `v${i + 1}`, kv.modRevision)),
        );
        const won = results.filter((r): r is PromiseFulfilledResult<KeyValue> => r.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.ok(isStorageError(r.reason, 'Conflict'));
            assert.equal(r.reason.revision, won[0]!.value.modRevision);
          }
        }
      }));
    });

    describe('delete', () => {
      it('returns the deleted value at the deletion revision', withStore(async (store, p) => {
        const kv = await store.create(`${p}a`, 'v1');
        const up = await store.update(`${p}a`, 'v2', kv.modRevision);
        const del = await store.delete(`${p}a`);
        assert.equal(del.key, `${p}a`);
        assert.equal(del.value, 'v2');
        assert.equal(del.createRevision, kv.createRevision);
        assert.ok(del.modRevision > up.modRevision);
        assert.equal(await store.currentRevision(), del.modRevision);
        assert.equal(await store.get(`${p}a`), undefined);
      }));

      it('fails with NotFound when the key does not exist', withStore(async (store, p) => {
        await rejectsWith(store.delete(`${p}missing`), 'NotFound');
        await rejectsWith(store.delete(`${p}missing`, { expectedRevision: 5 }), 'NotFound');
      }));

      it('with expectedRevision: Conflict when stale, deletes when current', withStore(async (store, p) => {
        const kv = await store.create(`${p}a`, 'v1');
        const up = await store.update(`${p}a`, 'v2', kv.modRevision);
        const err = await rejectsWith(store.delete(`${p}a`, { expectedRevision: kv.modRevision }), 'Conflict');
        assert.equal(err.revision, up.modRevision);
        assert.deepEqual(await store.get(`${p}a`), up);
        const del = await store.delete(`${p}a`, { expectedRevision: up.modRevision });
        assert.equal(del.value, 'v2');
        assert.equal(await store.get(`${p}a`), undefined);
      }));

      it('a re-created key starts a new incarnation', withStore(async (store, p) => {
        const first = await store.create(`${p}a`, 'v1');
        await store.delete(`${p}a`);
        const second = await store.create(`${p}a`, 'v2');
        assert.ok(second.createRevision > first.createRevision);
        assert.equal(second.createRevision, second.modRevision);
        assert.deepEqual(await store.get(`${p}a`), second);
      }));
    });

    describe('list and count', () => {
      it('lists only keys under the prefix, in byte order', withStore(async (store, p) => {
        const inside = [`${p}b`, `${p}B`, `${p}a/b`, `${p}a`, `${p}ab`, `${p}é`, `${p}z`, `${p}a-`, `${p}~`];
        const outside = [p.slice(0, -1), `${p.slice(0, -1)}0`, `${p.slice(0, -1)}.`, `${p.slice(0, -1)}x/a`];
        for (const k of [...inside, ...outside]) await store.create(k, `v:${k}`);
        const res = await store.list(p);
        assert.deepEqual(keysOf(res.items), [...inside].sort(byteOrder));
        assert.equal(res.more, false);
        assert.equal(res.revision, await store.currentRevision());
        for (const kv of res.items) {
          assert.equal(kv.value, `v:${kv.key}`);
          assert.deepEqual(await store.get(kv.key), kv);
        }
        assert.deepEqual(keysOf((await store.list(`${p}a`)).items), [`${p}a`, `${p}a-`, `${p}a/b`, `${p}ab`]);
        assert.deepEqual((await store.list(`${p}nothing/`)).items, []);
      }));

      it('counts keys under a prefix', withStore(async (store, p) => {
        assert.equal(await store.count(p), 0);
        for (let i = 0; i < 7; i++) await store.create(`${p}x/${i}`, 'v');
        await store.create(`${p}y/1`, 'v');
        await store.create(`${p.slice(0, -1)}-sibling`, 'v');
        assert.equal(await store.count(p), 8);
        assert.equal(await store.count(`${p}x/`), 7);
        await store.delete(`${p}x/3`);
        assert.equal(await store.count(`${p}x/`), 6);
        assert.equal(await store.count(`${p}nothing/`), 0);
      }));

      it('paginates with limit and startAfter, reporting more and remaining', withStore(async (store, p) => {
        const keys = Array.from({ length: 10 }, (_, i) => `${p}k${String(i).padStart(2, '0')}`);
        for (const k of keys) await store.create(k, k);
        const page1 = await store.list(p, { limit: 4 });
        assert.deepEqual(keysOf(page1.items), keys.slice(0, 4));
        assert.equal(page1.more, true);
        assert.equal(page1.remaining, 6);
        const page2 = await store.list(p, { limit: 4, startAfter: keys[3], revision: page1.revision });
        assert.deepEqual(keysOf(page2.items), keys.slice(4, 8));
        assert.equal(page2.more, true);
        assert.equal(page2.remaining, 2);
        assert.equal(page2.revision, page1.revision);
        const page3 = await store.list(p, { limit: 4, startAfter: keys[7], revision: page1.revision });
        assert.deepEqual(keysOf(page3.items), keys.slice(8));
        assert.equal(page3.more, false);
        // An exact fit is not "more".
        const exact = await store.list(p, { limit: 10 });
        assert.equal(exact.items.length, 10);
        assert.equal(exact.more, false);
        // startAfter a key that does not exist, and one before the prefix.
        assert.deepEqual(keysOf((await store.list(p, { startAfter: `${p}k04x` })).items), keys.slice(5));
        assert.deepEqual(keysOf((await store.list(p, { startAfter: '/' })).items), keys);
        assert.deepEqual((await store.list(p, { startAfter: keys[9] })).items, []);
      }));

      it('continues a paginated list at the same revision while writes happen', withStore(async (store, p) => {
        const keys = Array.from({ length: 30 }, (_, i) => `${p}k${String(i).padStart(2, '0')}`);
        for (const k of keys) await store.create(k, `v1:${k}`);
        const snapshot = (await store.list(p)).items;
        const got: KeyValue[] = [];
        let page = await store.list(p, { limit: 7 });
        const revision = page.revision;
        let n = 0;
        for (;;) {
          got.push(...page.items);
          // Change the range between pages: updates, deletes, creates before
          // and after the cursor.
          const cursor = page.items[page.items.length - 1]!.key;
          n++;
          const cur = await store.get(keys[(n * 5) % 30]!);
          if (cur !== undefined) await store.update(cur.key, `v2:${cur.key}`, cur.modRevision);
          const victim = keys[(n * 7 + 3) % 30]!;
          if ((await store.get(victim)) !== undefined) await store.delete(victim);
          await store.create(`${cursor}-new${n}`, 'new');
          await store.create(`${p}a-new${n}`, 'new');
          if (!page.more) break;
          page = await store.list(p, { limit: 7, startAfter: cursor, revision });
          assert.equal(page.revision, revision);
        }
        assert.deepEqual(got, snapshot);
      }));

      it('lists the state as of an old revision', withStore(async (store, p) => {
        await store.create(`${p.slice(0, -1)}-before`, 'x');
        const a = await store.create(`${p}a`, 'a1');
        const b = await store.create(`${p}b`, 'b1');
        const r1 = await store.currentRevision();
        await store.update(`${p}a`, 'a2', a.modRevision);
        await store.delete(`${p}b`);
        await store.create(`${p}c`, 'c1');
        const r2 = await store.currentRevision();
        await store.create(`${p}b`, 'b2');

        const at1 = await store.list(p, { revision: r1 });
        assert.equal(at1.revision, r1);
        assert.deepEqual(at1.items, [a, b]);
        const at2 = await store.list(p, { revision: r2 });
        assert.deepEqual(
          at2.items.map((kv) => [kv.key, kv.value]),
          [
            [`${p}a`, 'a2'],
            [`${p}c`, 'c1'],
          ],
        );
        const firstOnly = await store.list(p, { revision: r1, limit: 1 });
        assert.deepEqual(firstOnly.items, [a]);
        assert.equal(firstOnly.more, true);
        const latest = await store.list(p);
        assert.deepEqual(keysOf(latest.items), [`${p}a`, `${p}b`, `${p}c`]);
        assert.equal((await store.list(p, { revision: a.modRevision - 1 })).items.length, 0);
      }));

      it('refuses a revision from the future with Unavailable', withStore(async (store, p) => {
        await store.create(`${p}a`, 'v');
        const cur = await store.currentRevision();
        await rejectsWith(store.list(p, { revision: cur + 1000 }), 'Unavailable');
      }));
    });

    describe('watch', () => {
      it('delivers PUT with prev for updates and DELETE with the deleted value', withStore(async (store, p) => {
        const c = new Collector();
        const from = await store.currentRevision();
        const w = store.watch(p, from, c.callbacks);
        try {
          const a = await store.create(`${p}a`, 'v1');
          const a2 = await store.update(`${p}a`, 'v2', a.modRevision);
          const del = await store.delete(`${p}a`);
          const again = await store.create(`${p}a`, 'v3');
          await c.waitFor('4 events', () => c.lastRevision >= again.modRevision);
          assert.deepEqual(c.events, [
            { type: 'PUT', kv: a },
            { type: 'PUT', kv: a2, prev: a },
            { type: 'DELETE', kv: { ...a2, modRevision: del.modRevision }, prev: a2 },
            { type: 'PUT', kv: again },
          ]);
          assert.deepEqual(del, { ...a2, modRevision: del.modRevision });
        } finally {
          w.close();
        }
      }));

      it('sees only its prefix', withStore(async (store, p) => {
        const c = new Collector();
        const w = store.watch(`${p}a/`, await store.currentRevision(), c.callbacks);
        try {
          await store.create(`${p}a`, 'no');
          await store.create(`${p}a/1`, 'yes');
          await store.create(`${p}ab`, 'no');
          await store.create(`${p}a0`, 'no');
          await store.create(`${p}b/1`, 'no');
          const last = await store.create(`${p}a/2/deep`, 'yes');
          await store.create(`${p}a.`, 'no');
          await c.waitFor('2 events', () => c.lastRevision >= last.modRevision);
          await sleep(50);
          assert.deepEqual(
            c.events.map((e) => e.kv.key),
            [`${p}a/1`, `${p}a/2/deep`],
          );
        } finally {
          w.close();
        }
      }));

      it('from the current revision delivers only later events', withStore(async (store, p) => {
        await store.create(`${p}old`, 'v');
        const c = new Collector();
        const w = store.watch(p, await store.currentRevision(), c.callbacks);
        try {
          await sleep(50);
          assert.equal(c.events.length, 0);
          const kv = await store.create(`${p}new`, 'v');
          await c.waitFor('1 event', () => c.events.length >= 1);
          assert.deepEqual(c.events, [{ type: 'PUT', kv }]);
        } finally {
          w.close();
        }
      }));

      it('replays history from a past revision, then continues live, no gap or duplicate', withStore(async (store, p) => {
        const expected: WatchEvent[] = [];
        // Seed history that the watch must replay.
        const from = await store.currentRevision();
        for (let i = 0; i < 50; i++) expected.push({ type: 'PUT', kv: await store.create(`${p}seed/${i}`, `s${i}`) });

        // 10 writers, each owning its keys, so each key's history is known.
        const workers = 10;
        const perWorker = 500 / workers;
        let writes = 0;
        const c = new Collector();
        let watchStarted: (() => void) | undefined;
        const started = new Promise<void>((r) => (watchStarted = r));
        const worker = async (id: number): Promise<void> => {
          const live = new Map<string, KeyValue>();
          for (let i = 0; i < perWorker; i++) {
            const step = i % 5;
            const key = `${p}w${id}/${i % 7}`;
            const cur = live.get(key);
            let ev: WatchEvent;
            if (cur === undefined) {
              const kv = await store.create(key, `c${i}`);
              live.set(key, kv);
              ev = { type: 'PUT', kv };
            } else if (step === 4) {
              const del = await store.delete(key, { expectedRevision: cur.modRevision });
              live.delete(key);
              ev = { type: 'DELETE', kv: del, prev: cur };
            } else {
              const kv = await store.update(key, `u${i}`, cur.modRevision);
              live.set(key, kv);
              ev = { type: 'PUT', kv, prev: cur };
            }
            expected.push(ev);
            // Noise outside the prefix.
            if (i % 10 === 0) await store.create(`${p.slice(0, -1)}-other/${id}/${i}`, 'x');
            // The watch starts while writes are in flight.
            if (++writes === 150) watchStarted?.();
          }
        };
        const running = Promise.all(Array.from({ length: workers }, (_, id) => worker(id)));
        await started;
        const w = store.watch(p, from, c.callbacks);
        try {
          await running;
          expected.sort((x, y) => x.kv.modRevision - y.kv.modRevision);
          const last = expected[expected.length - 1]!.kv.modRevision;
          await c.waitFor('all events', () => c.lastRevision >= last);
          await sleep(50);
          assert.equal(c.errors.length, 0);
          const revs = c.events.map((e) => e.kv.modRevision);
          for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!, `out of order at ${i}`);
          assert.equal(c.events.length, expected.length);
          assert.deepEqual(c.events, expected);
        } finally {
          w.close();
        }
      }));

      it('close stops delivery', withStore(async (store, p) => {
        const c = new Collector();
        const w = store.watch(p, await store.currentRevision(), c.callbacks);
        const first = await store.create(`${p}a`, 'v');
        await c.waitFor('first event', () => c.events.length === 1);
        w.close();
        w.close();
        await store.create(`${p}b`, 'v');
        await store.update(`${p}a`, 'v2', first.modRevision);
        await sleep(100);
        assert.equal(c.events.length, 1);
        assert.equal(c.errors.length, 0);
      }));

      it('several watchers on overlapping prefixes each get their events', withStore(async (store, p) => {
        const from = await store.currentRevision();
        const all = new Collector();
        const sub = new Collector();
        const w1 = store.watch(p, from, all.callbacks);
        const w2 = store.watch(`${p}sub/`, from, sub.callbacks);
        try {
          for (let i = 0; i < 20; i++) await store.create(i % 2 === 0 ? `${p}sub/${i}` : `${p}top/${i}`, 'v');
          const last = await store.currentRevision();
          await all.waitFor('all', () => all.lastRevision >= last);
          await sub.waitFor('sub', () => sub.events.length >= 10);
          assert.equal(all.events.length, 20);
          assert.deepEqual(
            sub.events.map((e) => e.kv.key),
            all.events.filter((e) => e.kv.key.startsWith(`${p}sub/`)).map((e) => e.kv.key),
          );
        } finally {
          w1.close();
          w2.close();
        }
      }));
    });

    describe('compaction', () => {
      it('forgets history at and below the revision, keeps every live key', withStore(async (store, p) => {
        const a = await store.create(`${p}a`, 'a1');
        const b = await store.create(`${p}b`, 'b1'); // never touched again
        const c1 = await store.create(`${p}c`, 'c1');
        const a2 = await store.update(`${p}a`, 'a2', a.modRevision);
        await store.delete(`${p}c`);
        const d = await store.create(`${p}d`, 'd1');
        const compactAt = d.modRevision;
        const a3 = await store.update(`${p}a`, 'a3', a2.modRevision);
        const c2 = await store.create(`${p}c`, 'c2');
        const bDel = await store.delete(`${p}b`);
        const latestBefore = (await store.list(p)).items;

        await store.compact(compactAt);
        assert.equal(await store.compactedRevision(), compactAt + 1);

        // Latest state is untouched.
        assert.deepEqual((await store.list(p)).items, latestBefore);
        assert.deepEqual(await store.get(`${p}a`), a3);

        // Reads at and below the compacted revision are gone.
        const err = await rejectsWith(store.list(p, { revision: compactAt }), 'Compacted');
        assert.equal(err.revision, compactAt);
        await rejectsWith(store.list(p, { revision: c1.modRevision }), 'Compacted');

        // The first revision after it is complete, including keys last
        // written before the compaction point.
        const after = await store.list(p, { revision: compactAt + 1 });
        assert.deepEqual(after.items, [a3, b, d]);

        // Watches from before the compacted revision fail...
        for (const from of [compactAt - 1, compactAt]) {
          const c = new Collector();
          const w = store.watch(p, from, c.callbacks);
          const werr = await c.waitForError();
          assert.ok(isStorageError(werr, 'Compacted'), `watch from ${from}: ${werr.message}`);
          assert.equal((werr as StorageError).revision, compactAt);
          assert.equal(c.events.length, 0);
          w.close();
        }

        // ...a watch from the oldest usable revision replays what follows,
        // with the values before each event intact.
        const c = new Collector();
        const w = store.watch(p, compactAt + 1, c.callbacks);
        try {
          await c.waitFor('replay', () => c.lastRevision >= bDel.modRevision);
          assert.deepEqual(c.events, [
            { type: 'PUT', kv: c2 },
            { type: 'DELETE', kv: { ...b, modRevision: bDel.modRevision }, prev: b },
          ]);
          assert.equal(a3.modRevision, compactAt + 1);
        } finally {
          w.close();
        }
      }));

      it('does not move backwards, and keeps the current revision readable', withStore(async (store, p) => {
        let kv = await store.create(`${p}a`, '0');
        for (let i = 1; i <= 5; i++) kv = await store.update(`${p}a`, String(i), kv.modRevision);
        await store.compact(kv.modRevision - 2);
        assert.equal(await store.compactedRevision(), kv.modRevision - 1);
        await store.compact(kv.modRevision - 4);
        assert.equal(await store.compactedRevision(), kv.modRevision - 1);

        const current = await store.currentRevision();
        await store.compact(current + 10);
        const oldest = await store.compactedRevision();
        assert.ok(oldest <= current, 'the current revision stays readable');
        const res = await store.list(p, { revision: current });
        assert.deepEqual(res.items, [kv]);
        assert.deepEqual(await store.get(`${p}a`), kv);
        // A watch from the current revision still works.
        const c = new Collector();
        const w = store.watch(p, current, c.callbacks);
        try {
          const next = await store.update(`${p}a`, 'next', kv.modRevision);
          await c.waitFor('live event', () => c.events.length === 1);
          assert.deepEqual(c.events, [{ type: 'PUT', kv: next, prev: kv }]);
        } finally {
          w.close();
        }
      }));

      it('a paginated list whose revision gets compacted fails with Compacted', withStore(async (store, p) => {
        for (let i = 0; i < 6; i++) await store.create(`${p}k${i}`, 'v');
        const page = await store.list(p, { limit: 2 });
        await store.create(`${p}later`, 'v');
        await store.compact(page.revision);
        const last = page.items[page.items.length - 1]!.key;
        await rejectsWith(store.list(p, { limit: 2, startAfter: last, revision: page.revision }), 'Compacted');
      }));
    });
  });
}

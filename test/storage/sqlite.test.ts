import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/storage/index.js';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/storage/sqlite/sqlite-store.js';
import { isStorageError, type WatchEvent } from '../../src/storage/store.js';
import { storeConformance } from './conformance.js';

const here = dirname(fileURLToPath(import.meta.url));
const tempDirs: string[] = [];
after(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bosun-sqlite-test-'));
  tempDirs.push(dir);
  return dir;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openTemp(extra: Omit<SqliteStoreOptions, 'path'> = {}) {
  return async () => {
    const dir = await tempDir();
    const store = await openSqliteStore({ path: join(dir, 'state.db'), compaction: false, ...extra });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

storeConformance('sqlite', openTemp());
storeConformance('sqlite without group commit', openTemp({ groupCommit: false }));

describe('SQLite store', () => {
  it('openStore puts the database at <dataDir>/server/db/state.db', async () => {
    const dir = await tempDir();
    const store = await openStore({ dataDir: dir, datastoreEndpoint: '' });
    try {
      await store.create('/x', 'y');
      assert.ok(existsSync(join(dir, 'server', 'db', 'state.db')));
    } finally {
      await store.close();
    }
  });

  it('keeps data, revisions and compaction across a reopen', async () => {
    const path = join(await tempDir(), 'state.db');
    let store = await openSqliteStore({ path, compaction: false });
    const a = await store.create('/r/a', 'a1');
    const a2 = await store.update('/r/a', 'a2', a.modRevision);
    await store.create('/r/b', 'b1');
    const bDel = await store.delete('/r/b');
    await store.compact(a2.modRevision);
    const c = await store.create('/r/c', 'c1');
    const before = await store.list('/r/');
    await store.close();

    store = await openSqliteStore({ path, compaction: false });
    try {
      assert.deepEqual(await store.list('/r/'), before);
      assert.equal(await store.currentRevision(), c.modRevision);
      assert.equal(await store.compactedRevision(), a2.modRevision + 1);
      await assert.rejects(store.list('/r/', { revision: a2.modRevision }), (e) => isStorageError(e, 'Compacted'));
      // Revisions continue, never reused, even though the newest rows were
      // tombstones or compacted.
      const d = await store.create('/r/d', 'd1');
      assert.equal(d.modRevision, c.modRevision + 1);
      // History survives too: a watch replays it.
      const events: WatchEvent[] = [];
      const w = store.watch('/r/', a2.modRevision + 1, { onEvents: (e) => events.push(...e), onError: assert.fail });
      while (events.length < 3) await sleep(5);
      w.close();
      assert.deepEqual(
        events.map((e) => [e.type, e.kv.key, e.kv.modRevision]),
        [
          ['DELETE', '/r/b', bDel.modRevision],
          ['PUT', '/r/c', c.modRevision],
          ['PUT', '/r/d', d.modRevision],
        ],
      );
    } finally {
      await store.close();
    }
  });

  it('an acknowledged write survives kill -9 of the writing process', async () => {
    const path = join(await tempDir(), 'state.db');
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'sqlite-writer.ts'), path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: Array<[string, number]> = [];
    let buf = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          buf += d;
          const lines = buf.split('\n');
          buf = lines.pop() ?? '';
          for (const line of lines) {
            const [key, rev] = line.split(' ');
            acked.push([key!, Number(rev)]);
          }
          // Kill while writes are streaming, well past startup.
          if (acked.length >= 3000 && child.exitCode === null && !child.killed) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`writer exited early (${String(code)}): ${stderr}`)));
        setTimeout(() => reject(new Error(`writer too slow: ${acked.length} acks; ${stderr}`)), 60_000).unref();
      });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
    // Lines read after the kill was sent were acknowledged too.
    for (const line of buf.split('\n').filter((l) => l.includes(' '))) {
      const [key, rev] = line.split(' ');
      acked.push([key!, Number(rev)]);
    }

    const store = await openSqliteStore({ path, compaction: false });
    try {
      for (const [key, rev] of acked) {
        const kv = await store.get(key);
        assert.ok(kv !== undefined, `acknowledged key ${key} lost`);
        assert.equal(kv.modRevision, rev);
        assert.equal(kv.value, `value-of-${key}`);
      }
      assert.ok((await store.currentRevision()) >= Math.max(...acked.map(([, r]) => r)));
      assert.equal(await store.count('/durability/'), await store.currentRevision());
      // The reopened store takes writes.
      await store.create('/after-crash', 'ok');
    } finally {
      await store.close();
    }
  });

  it('replays a long history in order across catch-up chunks', async () => {
    const { store, cleanup } = await openTemp()();
    try {
      const from = await store.currentRevision();
      const writes = Array.from({ length: 2500 }, (_, i) => store.create(`/long/${i}`, `v${i}`));
      const kvs = await Promise.all(writes);
      const events: WatchEvent[] = [];
      const w = store.watch('/long/', from, { onEvents: (e) => events.push(...e), onError: assert.fail });
      const more = await store.create('/long/live', 'v');
      while (events.length < 2501) await sleep(5);
      w.close();
      assert.deepEqual(
        events.map((e) => e.kv),
        [...kvs, more],
      );
    } finally {
      await cleanup();
    }
  });

  it('a compaction that overtakes a replaying watch ends it with Compacted', async () => {
    const { store, cleanup } = await openTemp()();
    try {
      const from = await store.currentRevision();
      await Promise.all(Array.from({ length: 3000 }, (_, i) => store.create(`/race/${i}`, 'v')));
      const events: WatchEvent[] = [];
      let error: Error | undefined;
      const w = store.watch('/race/', from, { onEvents: (e) => events.push(...e), onError: (e) => (error = e) });
      const compacted = store.compact(from + 2500);
      await compacted;
      while (error === undefined) await sleep(5);
      w.close();
      assert.ok(isStorageError(error, 'Compacted'));
      // Whatever was delivered before is a gap-free prefix.
      events.forEach((e, i) => assert.equal(e.kv.modRevision, from + 1 + i));
    } finally {
      await cleanup();
    }
  });

  it('compacts automatically, keeping the newest revisions', async () => {
    const { store, cleanup } = await openTemp({ compaction: { intervalMs: 20, minRetainedRevisions: 10 } })();
    try {
      let kv = await store.create('/auto/a', '0');
      for (let i = 1; i < 50; i++) kv = await store.update('/auto/a', String(i), kv.modRevision);
      const current = await store.currentRevision();
      const deadline = Date.now() + 5000;
      while ((await store.compactedRevision()) <= 1 && Date.now() < deadline) await sleep(10);
      const oldest = await store.compactedRevision();
      assert.ok(oldest > 1, 'compaction ran');
      assert.ok(oldest <= current - 10 + 1, `kept the newest 10 revisions (oldest usable ${oldest}, current ${current})`);
      assert.deepEqual(await store.get('/auto/a'), kv);
    } finally {
      await cleanup();
    }
  });

  it('closing ends watches with Unavailable and rejects later calls', async () => {
    const dir = await tempDir();
    const store = await openSqliteStore({ path: join(dir, 'state.db'), compaction: false });
    let error: Error | undefined;
    store.watch('/', 0, { onEvents: () => undefined, onError: (e) => (error = e) });
    await store.create('/k', 'v');
    await store.close();
    assert.ok(isStorageError(error, 'Unavailable'));
    await assert.rejects(store.create('/k2', 'v'), (e) => isStorageError(e, 'Unavailable'));
    await assert.rejects(store.get('/k'), (e) => isStorageError(e, 'Unavailable'));
  });
});

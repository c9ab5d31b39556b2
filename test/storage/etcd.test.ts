import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openEtcdStore } from '../../src/storage/etcd/etcd-store.js';
import { openStore } from '../../src/storage/index.js';
import { isStorageError, type KeyValue, type WatchEvent } from '../../src/storage/store.js';
import { startEtcd, type EtcdInstance } from '../helpers/etcd.js';
import { storeConformance } from './conformance.js';

// One etcd for the whole file: the suite keeps each test under its own key
// prefix, and starting etcd costs about a second.
let etcd: EtcdInstance | undefined;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

const endpoint = (): string => {
  assert.ok(etcd !== undefined, 'etcd not started');
  return etcd.endpoint;
};

storeConformance('etcd', async () => {
  const store = await openEtcdStore({ endpoints: [endpoint()] });
  return { store, cleanup: () => store.close() };
});

describe('etcd store', () => {
  it('openStore picks etcd for a comma-separated list of endpoints', async () => {
    const store = await openStore({ dataDir: '/nonexistent', datastoreEndpoint: `${endpoint()},${endpoint()}` });
    try {
      const kv = await store.create('/factory/a', 'v');
      assert.deepEqual(await store.get('/factory/a'), kv);
    } finally {
      await store.close();
    }
  });

  it('reports Unavailable when etcd is gone, for requests and for watches', async () => {
    const own = await startEtcd();
    const store = await openEtcdStore({ endpoints: [own.endpoint], requestTimeoutMs: 2000, watchResumeTimeoutMs: 500 });
    try {
      await store.create('/down/a', 'v');
      let error: Error | undefined;
      store.watch('/down/', await store.currentRevision(), { onEvents: () => undefined, onError: (e) => (error = e) });
      await new Promise((r) => setTimeout(r, 200));
      await own.stop();
      await assert.rejects(store.get('/down/a'), (e) => isStorageError(e, 'Unavailable'));
      await assert.rejects(store.create('/down/b', 'v'), (e) => isStorageError(e, 'Unavailable'));
      const deadline = Date.now() + 15_000;
      while (error === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(isStorageError(error, 'Unavailable'), `watch error: ${String(error)}`);
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('a watch resumes across an etcd crash and restart, without gap or duplicate', async () => {
    const own = await startEtcd();
    const store = await openEtcdStore({ endpoints: [own.endpoint], requestTimeoutMs: 2000 });
    try {
      const events: WatchEvent[] = [];
      const errors: Error[] = [];
      const w = store.watch('/resume/', await store.currentRevision(), {
        onEvents: (e) => events.push(...e),
        onError: (e) => errors.push(e),
      });
      const written: KeyValue[] = [];
      for (let i = 0; i < 10; i++) written.push(await store.create(`/resume/${i}`, `v${i}`));
      while (events.length < 10) await new Promise((r) => setTimeout(r, 10));
      await own.restart();
      for (let i = 10; i < 20; i++) {
        // The client reconnects on its own; until then writes are Unavailable.
        for (let attempt = 0; ; attempt++) {
          try {
            written.push(await store.create(`/resume/${i}`, `v${i}`));
            break;
          } catch (err) {
            if (!isStorageError(err, 'Unavailable') || attempt > 100) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      const deadline = Date.now() + 20_000;
      while (events.length < 20 && errors.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 100));
      w.close();
      assert.deepEqual(errors, []);
      assert.deepEqual(
        events,
        written.map((kv) => ({ type: 'PUT', kv })),
      );
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('openEtcdStore fails fast when no etcd answers', async () => {
    const own = await startEtcd();
    const dead = own.endpoint;
    await own.stop();
    await assert.rejects(openEtcdStore({ endpoints: [dead], requestTimeoutMs: 2000 }), (e) =>
      isStorageError(e, 'Unavailable'),
    );
  });
});

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { Store } from '../../storage/store.js';
import { PortAllocator, SERVICE_NODE_PORTS_PREFIX } from './port-allocator.js';

const owner = (uid: string) => ({ namespace: 'default', name: uid, uid });

describe('PortAllocator', () => {
  let dir = '';
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-portalloc-'));
    store = await openSqliteStore({ path: join(dir, 'state.db') });
  });
  after(async () => { await store.close(); await rm(dir, { recursive: true, force: true }); });

  it('parses ranges as upstream does', () => {
    assert.equal(new PortAllocator(store).range, '30000-32767');
    assert.equal(new PortAllocator(store, '30000+10').size, 11);
    assert.throws(() => new PortAllocator(store, '32767-30000'), /invalid/);
  });

  it('honours a requested free port once', async () => {
    const p = new PortAllocator(store);
    await p.allocate(30080, owner('a'));
    assert.ok(await store.get(`${SERVICE_NODE_PORTS_PREFIX}30080`));
    await assert.rejects(p.allocate(30080, owner('b')), /^AllocationError: provided port is already allocated$/);
    await assert.rejects(p.allocate(8080, owner('b')), /provided port is not in the valid range. The range of valid ports is 30000-32767/);
    await p.release(30080, 'a');
    await p.allocate(30080, owner('b'));
  });

  it('hands out distinct ports until the range is full', async () => {
    const p = new PortAllocator(store, '31000-31019');
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => p.allocateNext(owner(`x${i}`))));
    assert.equal(new Set(got).size, 20);
    for (const port of got) assert.ok(port >= 31000 && port <= 31019);
    await assert.rejects(p.allocateNext(owner('full')), /range is full/);
  });
});

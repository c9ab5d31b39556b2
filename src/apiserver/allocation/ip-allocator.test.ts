import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { Store } from '../../storage/store.js';
import { AllocationError } from './allocation-set.js';
import { IpAllocator, SERVICE_IPS_PREFIX } from './ip-allocator.js';

const owner = (uid: string) => ({ namespace: 'default', name: uid, uid });

describe('IpAllocator', () => {
  let dir = '';
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-ipalloc-'));
    store = await openSqliteStore({ path: join(dir, 'state.db') });
  });
  after(async () => { await store.close(); await rm(dir, { recursive: true, force: true }); });

  it('knows its range: network and broadcast addresses are not usable', () => {
    const a = new IpAllocator(store, '10.43.0.0/16');
    assert.equal(a.size, 65534);
    assert.equal(a.ipAt(0), '10.43.0.1');
    assert.ok(a.contains('10.43.255.254'));
    for (const ip of ['10.43.0.0', '10.43.255.255', '10.44.0.1', 'fd00::1', 'nope']) assert.ok(!a.contains(ip), ip);
    assert.throws(() => new IpAllocator(store, '10.43.0.0'), /invalid/);
  });

  it('allocates a requested address once, as one store key', async () => {
    const a = new IpAllocator(store);
    await a.allocate('10.43.0.5', owner('a'));
    assert.ok(await store.get(`${SERVICE_IPS_PREFIX}10.43.0.5`));
    await assert.rejects(a.allocate('10.43.0.5', owner('b')), (e: unknown) => e instanceof AllocationError && e.message === 'provided IP is already allocated');
    await assert.rejects(a.allocate('10.44.0.5', owner('b')), /provided IP is not in the valid range. The range of valid IPs is 10.43.0.0\/16/);
    // Someone else's release does nothing; the owner's frees it.
    await a.release('10.43.0.5', 'b');
    assert.ok(await store.get(`${SERVICE_IPS_PREFIX}10.43.0.5`));
    await a.release('10.43.0.5', 'a');
    await a.allocate('10.43.0.5', owner('b'));
  });

  it('dry runs check without claiming', async () => {
    const a = new IpAllocator(store);
    await a.allocate('10.43.0.6', owner('c'), true);
    assert.equal(await store.get(`${SERVICE_IPS_PREFIX}10.43.0.6`), undefined);
  });

  it('picks dynamic addresses above the static band, and fills a small range completely', async () => {
    const big = new IpAllocator(store);
    const ip = await big.allocateNext(owner('d'));
    assert.ok(big.contains(ip));
    assert.ok(!ip.startsWith('10.43.0.'), `${ip} should be above the static band`);
    const small = new IpAllocator(store, '10.99.0.0/28');
    const got = new Set<string>();
    for (let i = 0; i < 14; i++) got.add(await small.allocateNext(owner(`s${i}`)));
    assert.equal(got.size, 14);
    await assert.rejects(small.allocateNext(owner('full')), /range is full/);
  });
});

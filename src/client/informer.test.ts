import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConfigMap } from 'kubernetes-types/core/v1';
import { WatchExpiredError } from './errors.js';
import { Informer, type ListWatch } from './informer.js';
import type { ObjectList } from './client.js';
import { configmaps } from './resources.js';
import type { WatchEvent } from './watch.js';

/** A scripted API: `items` is what a LIST returns; each WATCH is a channel the test feeds. */
class FakeSource implements ListWatch<ConfigMap> {
  items = new Map<string, ConfigMap>();
  rv = 1;
  lists = 0;
  watchedFrom: string[] = [];
  private channel?: { push(e: WatchEvent<ConfigMap> | Error | 'end'): void };

  list(): Promise<ObjectList<ConfigMap>> {
    this.lists++;
    return Promise.resolve({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: String(this.rv) }, items: [...this.items.values()].map((o) => structuredClone(o)) });
  }

  watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<ConfigMap>> {
    this.watchedFrom.push(resourceVersion);
    const queue: Array<WatchEvent<ConfigMap> | Error | 'end'> = [];
    let wake: (() => void) | undefined;
    this.channel = { push: (e) => { queue.push(e); wake?.(); } };
    signal.addEventListener('abort', () => this.channel?.push('end'));
    return (async function* () {
      for (;;) {
        while (!queue.length) await new Promise<void>((r) => { wake = r; });
        const e = queue.shift()!;
        if (e === 'end') return;
        if (e instanceof Error) throw e;
        yield e;
      }
    })();
  }

  /** A write at the server: stored, and sent on the open watch. */
  write(type: 'ADDED' | 'MODIFIED' | 'DELETED', name: string, data: Record<string, string> = {}, send = true): ConfigMap {
    const obj: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ns', name, resourceVersion: String(++this.rv), labels: data.label ? { app: data.label } : {} }, data };
    if (type === 'DELETED') this.items.delete(`ns/${name}`);
    else this.items.set(`ns/${name}`, obj);
    if (send) this.channel?.push({ type, object: obj });
    return obj;
  }

  send(e: WatchEvent<ConfigMap> | Error | 'end'): void { this.channel?.push(e); }
}

function record(informer: Informer<ConfigMap>): string[] {
  const log: string[] = [];
  informer.onAdd((o) => log.push(`add ${o.metadata!.name}`));
  informer.onUpdate((old, o) => log.push(`update ${o.metadata!.name} ${old.metadata!.resourceVersion}->${o.metadata!.resourceVersion}`));
  informer.onDelete((o) => log.push(`delete ${o.metadata!.name}`));
  return log;
}

const expired = () => new WatchExpiredError({ code: 410, reason: 'Expired', message: 'too old resource version' });

test('lists, syncs, then applies watch events to the store and handlers', async () => {
  const src = new FakeSource();
  src.write('ADDED', 'a', { label: 'web' }, false);
  src.write('ADDED', 'b', {}, false);
  const informer = new Informer(src, configmaps, { log: () => {} });
  const log = record(informer);
  const stop = new AbortController();
  informer.start(stop.signal);
  await informer.waitForSync();
  assert.ok(informer.hasSynced());
  assert.deepEqual(log.sort(), ['add a', 'add b']);
  assert.equal(informer.lastSyncResourceVersion, '3');
  await delay(5);
  assert.deepEqual(src.watchedFrom, ['3'], 'watch starts at the list resourceVersion');

  log.length = 0;
  src.write('ADDED', 'c', { label: 'web' });
  src.write('MODIFIED', 'a', { label: 'web', x: '1' });
  src.write('DELETED', 'b');
  await delay(10);
  assert.deepEqual(log, ['add c', 'update a 2->5', 'delete b']);
  const lister = informer.lister();
  assert.equal(lister.get('ns/a')!.data!.x, '1');
  assert.equal(lister.get('ns/b'), undefined);
  assert.deepEqual(lister.list('ns', 'app=web').map((o) => o.metadata!.name).sort(), ['a', 'c']);
  assert.deepEqual(lister.list('other'), []);
  assert.equal(lister.get('ns/c')!.kind, 'ConfigMap');
  stop.abort();
});

test('resumes from the last resourceVersion (bookmarks move it) when a watch ends', async () => {
  const src = new FakeSource();
  const informer = new Informer(src, configmaps, { log: () => {}, minBackoffMs: 1 });
  const stop = new AbortController();
  informer.start(stop.signal);
  await informer.waitForSync();
  await delay(5);
  src.write('ADDED', 'a');
  src.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '40' } } });
  await delay(5);
  assert.equal(informer.lastSyncResourceVersion, '40');
  src.send('end');
  await delay(20);
  assert.deepEqual(src.watchedFrom, ['1', '40']);
  assert.equal(src.lists, 1, 'no relist for an ordinary end of watch');
  src.send(new Error('connection reset'));
  await delay(30);
  assert.deepEqual(src.watchedFrom, ['1', '40', '40'], 'a broken watch resumes too');
  assert.equal(src.lists, 1);
  stop.abort();
});

test('a 410 relists and emits the differences: adds, updates, and deletes for objects gone meanwhile', async () => {
  const src = new FakeSource();
  src.write('ADDED', 'keep', {}, false);
  src.write('ADDED', 'change', {}, false);
  src.write('ADDED', 'vanish', {}, false);
  const informer = new Informer(src, configmaps, { log: () => {} });
  const log = record(informer);
  const changes: string[] = [];
  informer.onChange((o, type) => changes.push(`${type} ${o.metadata!.name}`));
  const stop = new AbortController();
  informer.start(stop.signal);
  await informer.waitForSync();
  await delay(5);
  log.length = 0;
  changes.length = 0;

  // Changes the watch never delivered (the client fell behind the window).
  src.write('MODIFIED', 'change', { v: '2' }, false);
  src.write('DELETED', 'vanish', {}, false);
  src.write('ADDED', 'new', {}, false);
  src.send(expired());
  await delay(20);
  assert.equal(src.lists, 2);
  assert.deepEqual(log.sort(), ['add new', 'delete vanish', 'update change 3->5'].sort());
  assert.deepEqual(changes.sort(), ['add new', 'delete vanish', 'update change'].sort());
  assert.deepEqual(informer.lister().keys().sort(), ['ns/change', 'ns/keep', 'ns/new']);
  assert.equal(src.watchedFrom.at(-1), String(src.rv), 'watching again from the new list');
  stop.abort();
});

test('a handler added after sync gets the cached objects as adds; a failing handler does not stop others', async () => {
  const src = new FakeSource();
  src.write('ADDED', 'a', {}, false);
  const logged: string[] = [];
  const informer = new Informer(src, configmaps, { log: (m) => logged.push(m) });
  const stop = new AbortController();
  informer.start(stop.signal);
  await informer.waitForSync();
  informer.onAdd(() => { throw new Error('boom'); });
  const late: string[] = [];
  const off = informer.onAdd((o) => late.push(o.metadata!.name!));
  assert.deepEqual(late, ['a']);
  await delay(5);
  src.write('ADDED', 'b');
  await delay(5);
  assert.deepEqual(late, ['a', 'b']);
  assert.ok(logged.some((m) => m.includes('boom')));
  off();
  src.write('ADDED', 'c');
  await delay(5);
  assert.deepEqual(late, ['a', 'b']);
  stop.abort();
});

test('indexes follow updates and deletes', async () => {
  const src = new FakeSource();
  src.write('ADDED', 'a', { node: 'n1' }, false);
  src.write('ADDED', 'b', { node: 'n1' }, false);
  const informer = new Informer(src, configmaps, { log: () => {} }).addIndex('node', (o) => [o.data?.node ?? '']);
  const stop = new AbortController();
  informer.start(stop.signal);
  await informer.waitForSync();
  await delay(5);
  const names = (node: string) => informer.lister().byIndex('node', node).map((o) => o.metadata!.name).sort();
  assert.deepEqual(names('n1'), ['a', 'b']);
  src.write('MODIFIED', 'b', { node: 'n2' });
  src.write('DELETED', 'a');
  await delay(5);
  assert.deepEqual(names('n1'), []);
  assert.deepEqual(names('n2'), ['b']);
  stop.abort();
});

test('waitForSync rejects when its signal aborts first', async () => {
  const informer = new Informer(new FakeSource(), configmaps);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(informer.waitForSync(ac.signal));
});

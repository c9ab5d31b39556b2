/**
 * The client, informer and leader election against a real bosun API server
 * started in-process (HTTPS, kubeconfig with client certificates).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConfigMap, Pod } from 'kubernetes-types/core/v1';
import type { Deployment } from 'kubernetes-types/apps/v1';
import { BosunServer } from '../server/server.js';
import { freePort } from '../../test/helpers/server.js';
import { Client } from './client.js';
import { ApiError, WatchExpiredError, isAlreadyExists, isConflict, isGone, isNotFound } from './errors.js';
import { Informer, InformerFactory, listWatchFor, type ListWatch } from './informer.js';
import { LeaderElector, leaseLock, type LeaseLock } from './leader-election.js';
import { configmaps, deployments, leases, namespaces, pods, secrets } from './resources.js';
import type { WatchEvent } from './watch.js';

let dataDir = '';
let port = 0;
let server: BosunServer;
let client: Client;

async function startServer(): Promise<BosunServer> {
  const s = new BosunServer({ dataDir, bindAddress: '127.0.0.1', httpsListenPort: port, tlsSans: [], datastoreEndpoint: '', disableAgent: true }, () => {});
  await s.start();
  return s;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'bosun-client-test-'));
  port = await freePort();
  server = await startServer();
  client = await Client.fromKubeconfig(server.kubeconfigPath, { qps: 0 });
});

after(async () => {
  client?.close();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}, namespace = 'default'): ConfigMap =>
  ({ metadata: { name, namespace, labels }, data });

const podSpec = (name: string, namespace = 'default'): Pod =>
  ({ metadata: { name, namespace }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
  return performance.now() - t0;
}

test('CRUD with the errors callers branch on: 404, 409 AlreadyExists, 409 Conflict', async () => {
  const created = await client.create(configmaps, cm('crud', { a: '1' }));
  assert.equal(created.metadata?.name, 'crud');
  assert.ok(created.metadata?.uid);
  assert.ok(created.metadata?.resourceVersion);
  assert.equal(created.kind, 'ConfigMap');

  const dup = await client.create(configmaps, cm('crud')).catch((e: unknown) => e);
  assert.ok(isAlreadyExists(dup), `got ${String(dup)}`);
  assert.equal((dup as ApiError).code, 409);

  const got = await client.get(configmaps, 'default', 'crud');
  assert.deepEqual(got.data, { a: '1' });

  const updated = await client.update(configmaps, { ...got, data: { a: '2' } });
  assert.deepEqual(updated.data, { a: '2' });
  assert.notEqual(updated.metadata?.resourceVersion, got.metadata?.resourceVersion);

  const stale = await client.update(configmaps, { ...got, data: { a: '3' } }).catch((e: unknown) => e);
  assert.ok(isConflict(stale), `got ${String(stale)}`);
  assert.match((stale as ApiError).message, /the object has been modified/);

  assert.equal(await client.delete(configmaps, 'default', 'crud'), undefined);
  const missing = await client.get(configmaps, 'default', 'crud').catch((e: unknown) => e);
  assert.ok(missing instanceof ApiError && isNotFound(missing));
  assert.equal(missing.status.reason, 'NotFound');
  assert.equal(missing.message, 'configmaps "crud" not found');
  assert.ok(isNotFound(await client.delete(configmaps, 'default', 'crud').catch((e: unknown) => e)));
});

test('patch: json-patch, merge-patch and strategic-merge-patch', async () => {
  await client.create(configmaps, cm('patched', { a: '1', b: '2' }));
  let p = await client.patch(configmaps, 'default', 'patched', [{ op: 'replace', path: '/data/a', value: 'x' }, { op: 'remove', path: '/data/b' }], 'json-patch');
  assert.deepEqual(p.data, { a: 'x' });
  p = await client.patch(configmaps, 'default', 'patched', { metadata: { labels: { tier: 'fe' } }, data: { c: '3' } }, 'merge-patch');
  assert.deepEqual(p.data, { a: 'x', c: '3' });
  assert.equal(p.metadata?.labels?.tier, 'fe');
  p = await client.patch(configmaps, 'default', 'patched', { data: { a: null } }, 'strategic-merge-patch');
  assert.deepEqual(p.data, { c: '3' });
  const failed = await client.patch(configmaps, 'default', 'patched', [{ op: 'test', path: '/data/c', value: 'nope' }], 'json-patch').catch((e: unknown) => e);
  assert.ok(failed instanceof ApiError, `got ${String(failed)}`);
  assert.ok(failed.code >= 400 && failed.code < 500, `code ${failed.code}`);
});

test('list with selectors and pagination; listAll follows continue tokens', async () => {
  await client.create(namespaces, { metadata: { name: 'paging' } });
  for (let i = 0; i < 7; i++) await client.create(configmaps, cm(`item-${i}`, {}, { set: 'paging', parity: i % 2 ? 'odd' : 'even' }, 'paging'));
  const all = await client.list(configmaps, { namespace: 'paging' });
  assert.equal(all.items.length, 7);
  assert.ok(all.metadata.resourceVersion);

  const names: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await client.list(configmaps, { namespace: 'paging', limit: 3, continue: token });
    assert.ok(page.items.length <= 3);
    names.push(...page.items.map((o) => o.metadata!.name!));
    token = page.metadata.continue || undefined;
    if (token) assert.equal(page.metadata.remainingItemCount, 7 - names.length);
    pages++;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(names, [...names].sort());
  assert.deepEqual(new Set(names).size, 7);

  const everything = await client.listAll(configmaps, { namespace: 'paging', pageSize: 2 });
  assert.equal(everything.items.length, 7);
  assert.equal((await client.list(configmaps, { namespace: 'paging', labelSelector: 'parity=odd' })).items.length, 3);
  assert.equal((await client.list(configmaps, { namespace: 'paging', labelSelector: { parity: 'even' } })).items.length, 4);
  assert.deepEqual((await client.list(configmaps, { namespace: 'paging', fieldSelector: 'metadata.name=item-2' })).items.map((o) => o.metadata!.name), ['item-2']);
  const across = await client.list(configmaps, { labelSelector: 'set=paging' });
  assert.equal(across.items.length, 7, 'no namespace: every namespace');
});

test('watch from a list resourceVersion sees later changes in order', async () => {
  const start = await client.list(configmaps, { namespace: 'default' });
  const ac = new AbortController();
  const events: Array<WatchEvent<ConfigMap>> = [];
  const watching = client.watch(configmaps, { namespace: 'default', resourceVersion: start.metadata.resourceVersion, signal: ac.signal }, (e) => { events.push(e); });
  await client.create(configmaps, cm('watched', { v: '1' }));
  await client.patch(configmaps, 'default', 'watched', { data: { v: '2' } }, 'merge-patch');
  await client.create(secrets, { metadata: { name: 'not-a-configmap', namespace: 'default' } });
  await client.delete(configmaps, 'default', 'watched');
  await until(() => events.filter((e) => e.type !== 'BOOKMARK').length >= 3, 5000, 'three events');
  ac.abort();
  await watching;
  const changes = events.filter((e) => e.type !== 'BOOKMARK');
  assert.deepEqual(changes.map((e) => `${e.type} ${e.object.metadata?.name} ${e.object.data?.v}`), ['ADDED watched 1', 'MODIFIED watched 2', 'DELETED watched 2']);
  const rvs = changes.map((e) => Number(e.object.metadata?.resourceVersion));
  assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b));
});

test('watch as an async iterator, one object by field selector', async () => {
  await client.create(configmaps, cm('one'));
  await client.create(configmaps, cm('other'));
  const ac = new AbortController();
  const seen: string[] = [];
  const iterating = (async () => {
    for await (const e of client.watch(configmaps, { namespace: 'default', fieldSelector: 'metadata.name=one', signal: ac.signal })) {
      seen.push(`${e.type} ${e.object.metadata?.name}`);
      if (seen.length === 2) break;
    }
  })();
  await delay(100);
  await client.patch(configmaps, 'default', 'other', { data: { x: '1' } }, 'merge-patch');
  await client.patch(configmaps, 'default', 'one', { data: { x: '1' } }, 'merge-patch');
  await iterating;
  assert.deepEqual(seen, ['ADDED one', 'MODIFIED one'], 'no resourceVersion: current state first, then changes');
});

test('pods: updateStatus, bind (and a second bind conflicts), graceful delete of a bound pod', async () => {
  const pod = await client.create(pods, podSpec('bindme'));
  const withStatus = await client.updateStatus(pods, { ...pod, status: { ...pod.status, phase: 'Running', message: 'set by test' } });
  assert.equal(withStatus.status?.message, 'set by test');
  await client.bind('default', 'bindme', 'node-1', { uid: pod.metadata?.uid });
  const bound = await client.get(pods, 'default', 'bindme');
  assert.equal(bound.spec?.nodeName, 'node-1');
  assert.ok(bound.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True'));
  const again = await client.bind('default', 'bindme', 'node-2').catch((e: unknown) => e);
  assert.ok(isConflict(again), `got ${String(again)}`);

  const wrongUid = await client.delete(pods, 'default', 'bindme', { preconditions: { uid: 'not-the-uid' } }).catch((e: unknown) => e);
  assert.ok(isConflict(wrongUid), `got ${String(wrongUid)}`);
  const pending = await client.delete(pods, 'default', 'bindme', { gracePeriodSeconds: 30 });
  assert.ok(pending?.metadata?.deletionTimestamp, 'a pod on a node is deleted gracefully');
  assert.equal(await client.delete(pods, 'default', 'bindme', { gracePeriodSeconds: 0 }), undefined);
  assert.ok(isNotFound(await client.get(pods, 'default', 'bindme').catch((e: unknown) => e)));
});

test('scale subresource: getScale and updateScale (stale resourceVersion conflicts)', async () => {
  const d: Deployment = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  };
  await client.create(deployments, d);
  const scale = await client.getScale(deployments, 'default', 'web');
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.spec?.replicas, 1);
  assert.equal(scale.status?.selector, 'app=web');
  const scaled = await client.updateScale(deployments, 'default', 'web', { ...scale, spec: { replicas: 3 } });
  assert.equal(scaled.spec?.replicas, 3);
  assert.equal((await client.get(deployments, 'default', 'web')).spec?.replicas, 3);
  const stale = await client.updateScale(deployments, 'default', 'web', { ...scale, spec: { replicas: 5 } }).catch((e: unknown) => e);
  assert.ok(isConflict(stale), `got ${String(stale)}`);
});

test('informer: syncs, delivers add/update/delete, serves listers; the factory shares one informer', async () => {
  await client.create(namespaces, { metadata: { name: 'inf' } });
  await client.create(configmaps, cm('pre', { v: '1' }, { app: 'a' }, 'inf'));
  const factory = new InformerFactory(client, { log: () => {} });
  const informer = factory.for(configmaps, { namespace: 'inf' });
  assert.equal(factory.for(configmaps, { namespace: 'inf' }), informer);
  assert.notEqual(factory.for(configmaps), informer);
  const log: string[] = [];
  informer.onAdd((o) => log.push(`add ${o.metadata?.name}`));
  informer.onUpdate((old, o) => log.push(`update ${o.metadata?.name} ${old.data?.v}->${o.data?.v}`));
  informer.onDelete((o) => log.push(`delete ${o.metadata?.name}`));
  const stop = new AbortController();
  factory.start(stop.signal);
  await factory.waitForSync();
  assert.ok(informer.hasSynced());
  assert.deepEqual(log, ['add pre']);

  await client.create(configmaps, cm('new', { v: '1' }, { app: 'b' }, 'inf'));
  await client.patch(configmaps, 'inf', 'pre', { data: { v: '2' } }, 'merge-patch');
  await client.delete(configmaps, 'inf', 'new');
  await client.create(configmaps, cm('elsewhere'));
  await until(() => log.length >= 4, 5000, 'informer events');
  assert.deepEqual(log, ['add pre', 'add new', 'update pre 1->2', 'delete new']);
  const lister = informer.lister();
  assert.equal(lister.get('inf/pre')?.data?.v, '2');
  assert.deepEqual(lister.list('inf', 'app=a').map((o) => o.metadata?.name), ['pre']);
  assert.equal(lister.get('default/elsewhere'), undefined, 'scoped to its namespace');
  const everywhere = factory.for(configmaps);
  await everywhere.waitForSync();
  await until(() => everywhere.lister().get('default/elsewhere') !== undefined, 5000, 'the all-namespaces informer');
  stop.abort();
});

test('an informer resumes from its resourceVersion when the server ends a watch (timeoutSeconds), without relisting', async () => {
  await client.create(namespaces, { metadata: { name: 'resume' } });
  const inner = listWatchFor(client, configmaps, { namespace: 'resume' });
  const calls: string[] = [];
  const counting: ListWatch<ConfigMap> = {
    list: (signal) => { calls.push('list'); return inner.list(signal); },
    watch: (rv, signal, timeout) => { calls.push(`watch ${rv}`); return inner.watch(rv, signal, timeout); },
  };
  const informer = new Informer(counting, configmaps, { watchTimeoutSeconds: 1, minBackoffMs: 50, log: () => {} });
  const added: string[] = [];
  informer.onAdd((o) => added.push(o.metadata!.name!));
  const stop = new AbortController();
  informer.start(stop.signal);
  await informer.waitForSync();
  await client.create(configmaps, cm('first', {}, {}, 'resume'));
  await until(() => added.includes('first'), 5000, 'first');
  const rv = informer.lastSyncResourceVersion;
  await until(() => calls.length >= 3, 5000, 'the watch to end and resume');
  assert.equal(calls[2], `watch ${rv}`, 'resumed from the last resourceVersion seen');
  await client.create(configmaps, cm('second', {}, {}, 'resume'));
  await until(() => added.includes('second'), 5000, 'second');
  assert.equal(calls.filter((c) => c === 'list').length, 1);
  stop.abort();
});

test('two electors on one lease: one leads; stopping it hands over within leaseDuration + retryPeriod', async () => {
  const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };
  const state = { a: false, b: false, overlap: false };
  const make = (id: 'a' | 'b') => new LeaderElector({
    lock: leaseLock(client, 'kube-system', 'bosun-test'), identity: id, ...timing, log: () => {},
    onStartedLeading: (signal) => {
      state[id] = true;
      if (state.a && state.b) state.overlap = true;
      signal.addEventListener('abort', () => { state[id] = false; });
    },
  });
  const a = make('a');
  const b = make('b');
  const stopA = new AbortController();
  const stopB = new AbortController();
  const runA = a.run(stopA.signal);
  await until(() => a.isLeader(), 5000, 'a to lead');
  const runB = b.run(stopB.signal);
  await delay(timing.leaseDurationMs + 500);
  assert.ok(a.isLeader() && !b.isLeader());
  assert.equal(b.getLeader(), 'a');

  const lease = await client.get(leases, 'kube-system', 'bosun-test');
  assert.equal(lease.spec?.holderIdentity, 'a');
  assert.equal(lease.spec?.leaseDurationSeconds, 2);
  assert.equal(lease.spec?.leaseTransitions, 0);
  assert.match(lease.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.match(lease.spec?.acquireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(Date.parse(lease.spec!.renewTime!) - Date.now() > -1000, 'renewed recently');

  const t0 = performance.now();
  stopA.abort();
  await runA;
  assert.equal((await client.get(leases, 'kube-system', 'bosun-test')).spec?.holderIdentity === 'a', false, 'released');
  await until(() => b.isLeader(), timing.leaseDurationMs + timing.retryPeriodMs, 'b to take over');
  const took = performance.now() - t0;
  assert.ok(took < timing.leaseDurationMs + timing.retryPeriodMs, `took ${took.toFixed(0)} ms`);
  const after = await client.get(leases, 'kube-system', 'bosun-test');
  assert.equal(after.spec?.holderIdentity, 'b');
  assert.equal(after.spec?.leaseTransitions, 1);
  assert.equal(state.overlap, false);
  stopB.abort();
  await runB;
});

test('a leader whose renewals fail stops acting within renewDeadline; the other takes over once the lease expires', async () => {
  const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };
  const cut = { value: false };
  const real = leaseLock(client, 'kube-system', 'bosun-cut');
  // a's connection to the API server breaks: every call fails.
  const flaky: LeaseLock = {
    namespace: real.namespace, name: real.name,
    get: (s) => cut.value ? Promise.reject(new Error('ECONNREFUSED')) : real.get(s),
    create: (l, s) => cut.value ? Promise.reject(new Error('ECONNREFUSED')) : real.create(l, s),
    update: (l, s) => cut.value ? Promise.reject(new Error('ECONNREFUSED')) : real.update(l, s),
  };
  let aSignal: AbortSignal | undefined;
  let bStarted = 0;
  const a = new LeaderElector({ lock: flaky, identity: 'a', ...timing, log: () => {}, onStartedLeading: (s) => { aSignal = s; } });
  const b = new LeaderElector({ lock: real, identity: 'b', ...timing, log: () => {}, onStartedLeading: () => { bStarted = performance.now(); } });
  const stop = new AbortController();
  const runA = a.run(stop.signal);
  await until(() => a.isLeader(), 5000, 'a to lead');
  const runB = b.run(stop.signal);
  await delay(500);
  const lastGood = (await client.get(leases, 'kube-system', 'bosun-cut')).spec!.renewTime!;
  cut.value = true;
  const cutAt = performance.now();
  await until(() => aSignal!.aborted, 3000, 'a to stop');
  const stoppedAfter = performance.now() - cutAt;
  assert.ok(stoppedAfter <= timing.renewDeadlineMs + 200, `a acted ${stoppedAfter.toFixed(0)} ms after renewals began failing`);
  await runA;
  await until(() => bStarted > 0, timing.leaseDurationMs + 3 * timing.retryPeriodMs + 1000, 'b to lead');
  assert.ok(bStarted - cutAt >= timing.leaseDurationMs - timing.retryPeriodMs - 100, 'b waited the lease out');
  const lease = await client.get(leases, 'kube-system', 'bosun-cut');
  assert.equal(lease.spec?.holderIdentity, 'b');
  assert.ok(lease.spec!.renewTime! > lastGood);
  stop.abort();
  await runB;
});

test('after a restart old resourceVersions are gone: a watch gets 410, an informer relists and emits the difference', async () => {
  await client.create(namespaces, { metadata: { name: 'relist' } });
  for (const n of ['keep', 'change', 'vanish']) await client.create(configmaps, cm(n, { v: '1' }, {}, 'relist'));
  const informer = new Informer(client, configmaps, { namespace: 'relist', minBackoffMs: 3000, log: () => {} });
  const log: string[] = [];
  informer.onChange((o, type) => log.push(`${type} ${o.metadata?.name}`));
  const stop = new AbortController();
  informer.start(stop.signal);
  await informer.waitForSync();
  const oldRv = informer.lastSyncResourceVersion;
  // Writes elsewhere move the store revision past what this informer has seen.
  await client.create(secrets, { metadata: { name: 'bump', namespace: 'default' } });
  log.length = 0;

  // ApiServer.stop() hangs if a TLS handshake is in flight when it closes connections
  // (the informer's watch may still be connecting): let it settle first.
  await delay(200);
  await server.stop();
  server = await startServer();
  // Within the informer's back-off: changes it can only learn of by relisting.
  await client.patch(configmaps, 'relist', 'change', { data: { v: '2' } }, 'merge-patch');
  await client.delete(configmaps, 'relist', 'vanish');
  await client.create(configmaps, cm('new', {}, {}, 'relist'));

  const gone = await (async () => { for await (const _ of client.watch(configmaps, { namespace: 'relist', resourceVersion: oldRv })) { /* none expected */ } })().catch((e: unknown) => e);
  assert.ok(gone instanceof WatchExpiredError && isGone(gone), `got ${String(gone)}`);
  assert.equal(gone.code, 410);

  await until(() => log.length >= 3, 10_000, 'the relist');
  assert.deepEqual(log.sort(), ['add new', 'delete vanish', 'update change']);
  assert.deepEqual(informer.lister().keys().sort(), ['relist/change', 'relist/keep', 'relist/new']);
  await client.create(configmaps, cm('after', {}, {}, 'relist'));
  await until(() => log.includes('add after'), 5000, 'watching again');
  stop.abort();
});

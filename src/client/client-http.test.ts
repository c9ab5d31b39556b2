/**
 * The client's HTTP mechanics against a scripted loopback server: paths,
 * Status errors, throttling, the watch stream framing. The bosun API server
 * itself is exercised in client.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from './client.js';
import { ApiError, WatchExpiredError, isConflict, isGone, isNotFound } from './errors.js';
import { parseKubeconfig } from './kubeconfig.js';
import { configmaps, deployments, nodes, pods, type KubeObject } from './resources.js';
import type { WatchEvent } from './watch.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let handler: Handler = (_req, res) => res.end('{}');
const seen: Array<{ method: string; url: string; body: string; headers: IncomingMessage['headers'] }> = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => { body += c.toString(); });
  req.on('end', () => { seen.push({ method: req.method!, url: req.url!, body, headers: req.headers }); handler(req, res, body); });
});
let url = '';

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => { server.closeAllConnections(); server.close(); });

const json = (res: ServerResponse, code: number, body: unknown) => { res.writeHead(code, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
const client = (extra: Record<string, unknown> = {}) => new Client({ server: url, qps: 0, ...extra });

test('paths follow the API layout for core, grouped, namespaced and cluster-scoped resources', async () => {
  const c = client({ namespace: 'team' });
  assert.equal(c.path(pods, 'ns', 'p', 'status'), '/api/v1/namespaces/ns/pods/p/status');
  assert.equal(c.path(pods), '/api/v1/pods');
  assert.equal(c.path(deployments, 'ns', 'd', 'scale'), '/apis/apps/v1/namespaces/ns/deployments/d/scale');
  assert.equal(c.path(nodes, 'ignored', 'n1'), '/api/v1/nodes/n1');
  seen.length = 0;
  handler = (_req, res) => json(res, 200, { kind: 'ConfigMap', metadata: { name: 'x' } });
  await c.get(configmaps, undefined, 'x');
  await c.create(configmaps, { metadata: { name: 'y' } }, { dryRun: true, fieldValidation: 'Strict' });
  assert.equal(seen[0].url, '/api/v1/namespaces/team/configmaps/x', 'the default namespace');
  assert.equal(seen[1].url, '/api/v1/namespaces/team/configmaps?dryRun=All&fieldValidation=Strict');
  assert.deepEqual(JSON.parse(seen[1].body), { metadata: { name: 'y' }, apiVersion: 'v1', kind: 'ConfigMap' });
  assert.equal(seen[1].headers['content-type'], 'application/json');
  c.close();
});

test('list passes selectors and paging and returns items with list metadata', async () => {
  seen.length = 0;
  handler = (_req, res) => json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '9', continue: 'tok' }, items: null });
  const c = client();
  const list = await c.list(pods, { namespace: 'ns', labelSelector: { app: 'web', tier: 'fe' }, fieldSelector: 'spec.nodeName=n1', limit: 2, continue: 'abc' });
  assert.deepEqual(list.items, []);
  assert.equal(list.metadata.resourceVersion, '9');
  assert.equal(list.metadata.continue, 'tok');
  const q = new URL(seen[0].url, url).searchParams;
  assert.equal(q.get('labelSelector'), 'app=web,tier=fe');
  assert.equal(q.get('fieldSelector'), 'spec.nodeName=n1');
  assert.equal(q.get('limit'), '2');
  assert.equal(q.get('continue'), 'abc');
  c.close();
});

test('a non-2xx answer throws ApiError with the server Status; a bare one gets a Status made up', async () => {
  const c = client();
  handler = (_req, res) => json(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'pods "x" not found', details: { name: 'x', kind: 'pods' } });
  const err = await c.get(pods, 'ns', 'x').catch((e: unknown) => e);
  assert.ok(err instanceof ApiError);
  assert.ok(isNotFound(err) && !isConflict(err));
  assert.equal(err.message, 'pods "x" not found');
  assert.equal(err.status.details?.name, 'x');
  handler = (_req, res) => { res.writeHead(503); res.end('upstream is down'); };
  const bare = await c.get(pods, 'ns', 'x').catch((e: unknown) => e);
  assert.ok(bare instanceof ApiError);
  assert.equal(bare.code, 503);
  assert.equal(bare.reason, 'ServiceUnavailable');
  assert.equal(bare.message, 'upstream is down');
  handler = (_req, res) => json(res, 409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'modified' });
  assert.ok(isConflict(await c.update(pods, { metadata: { name: 'x', namespace: 'ns', resourceVersion: '1' } } as KubeObject).catch((e: unknown) => e)));
  c.close();
});

test('a 429 with Retry-After is retried after the wait', async () => {
  let n = 0;
  handler = (_req, res) => {
    if (n++ === 0) { res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' }); res.end(JSON.stringify({ kind: 'Status', code: 429, reason: 'TooManyRequests' })); return; }
    json(res, 200, { metadata: { name: 'x' } });
  };
  const c = client();
  const t0 = Date.now();
  const got = await c.get(pods, 'ns', 'x');
  assert.equal(got.metadata?.name, 'x');
  assert.ok(Date.now() - t0 >= 950);
  assert.equal(n, 2);
  c.close();
});

test('the token bucket lets a burst through, then qps', async () => {
  handler = (_req, res) => json(res, 200, {});
  const c = client({ qps: 20, burst: 3 });
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 3 }, () => c.get(pods, 'ns', 'x')));
  assert.ok(Date.now() - t0 < 40, 'burst');
  await Promise.all(Array.from({ length: 4 }, () => c.get(pods, 'ns', 'x')));
  assert.ok(Date.now() - t0 >= 180, `4 more at 20/s take ~200 ms, took ${Date.now() - t0}`);
  c.close();
});

test('patch sends the content type of its kind; delete sends DeleteOptions and tells gone from pending', async () => {
  seen.length = 0;
  handler = (req, res) => {
    if (req.method === 'DELETE' && req.url!.includes('/gone')) return json(res, 200, { kind: 'Status', status: 'Success' });
    json(res, 200, { kind: 'Pod', metadata: { name: 'p', deletionTimestamp: '2024-01-01T00:00:00Z' } });
  };
  const c = client();
  await c.patch(pods, 'ns', 'p', [{ op: 'replace', path: '/spec/x', value: 1 }], 'json-patch');
  await c.patch(pods, 'ns', 'p', { metadata: { labels: { a: 'b' } } }, 'merge-patch', { subresource: 'status' });
  await c.patch(pods, 'ns', 'p', { spec: {} }, 'strategic-merge-patch');
  await assert.rejects(c.patch(pods, 'ns', 'p', { a: 1 }, 'json-patch'), TypeError);
  assert.equal(await c.delete(pods, 'ns', 'gone', { gracePeriodSeconds: 0, propagationPolicy: 'Foreground', preconditions: { uid: 'u1' } }), undefined);
  const pending = await c.delete(pods, 'ns', 'p');
  assert.equal(pending?.metadata?.deletionTimestamp, '2024-01-01T00:00:00Z');
  assert.deepEqual(seen.map((s) => s.headers['content-type']), ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json', undefined]);
  assert.equal(seen[1].url, '/api/v1/namespaces/ns/pods/p/status');
  assert.deepEqual(JSON.parse(seen[3].body), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Foreground', preconditions: { uid: 'u1' } });
  c.close();
});

test('bind posts a Binding; scale goes through the scale subresource', async () => {
  seen.length = 0;
  handler = (_req, res) => json(res, 201, { kind: 'Status', status: 'Success' });
  const c = client();
  await c.bind('ns', 'p', 'node-1', { uid: 'u1' });
  assert.equal(seen[0].url, '/api/v1/namespaces/ns/pods/p/binding');
  assert.deepEqual(JSON.parse(seen[0].body), { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } });
  handler = (_req, res) => json(res, 200, { kind: 'Scale', spec: { replicas: 3 } });
  await c.updateScale(deployments, 'ns', 'd', { spec: { replicas: 3 } });
  assert.equal(seen[1].method, 'PUT');
  assert.equal(seen[1].url, '/apis/apps/v1/namespaces/ns/deployments/d/scale');
  assert.deepEqual(JSON.parse(seen[1].body), { spec: { replicas: 3 }, apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd', namespace: 'ns' } });
  c.close();
});

test('watch frames events split anywhere, even inside a UTF-8 character, and turns a 410 ERROR into WatchExpiredError', async () => {
  seen.length = 0;
  handler = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const text = [
      { type: 'ADDED', object: { kind: 'ConfigMap', metadata: { name: 'a', resourceVersion: '2' }, data: { v: 'héllo✓' } } },
      { type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '5' } } },
      { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' } },
    ].map((e) => JSON.stringify(e)).join('\n') + '\n';
    const bytes = Buffer.from(text);
    // One byte at a time: every boundary, including inside multi-byte characters.
    let i = 0;
    const tick = () => { if (i < bytes.length) { res.write(bytes.subarray(i, ++i)); setImmediate(tick); } else res.end(); };
    tick();
  };
  const c = client();
  const events: WatchEvent<KubeObject>[] = [];
  const err = await c.watch(configmaps, { namespace: 'ns', resourceVersion: '1' }, (e) => { events.push(e); }).catch((e: unknown) => e);
  assert.deepEqual(events.map((e) => e.type), ['ADDED', 'BOOKMARK']);
  assert.equal((events[0].object as { data?: Record<string, string> }).data?.v, 'héllo✓');
  assert.ok(err instanceof WatchExpiredError);
  assert.ok(isGone(err));
  const q = new URL(seen[0].url, url).searchParams;
  assert.equal(q.get('watch'), 'true');
  assert.equal(q.get('resourceVersion'), '1');
  assert.equal(q.get('allowWatchBookmarks'), 'true');
  c.close();
});

test('aborting a watch ends its iterator quietly; breaking out closes the stream', async () => {
  let open = 0;
  handler = (req, res) => {
    open++;
    req.on('close', () => open--);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
  };
  const c = client();
  const ac = new AbortController();
  const got: string[] = [];
  setTimeout(() => ac.abort(), 50);
  for await (const e of c.watch(configmaps, { signal: ac.signal })) got.push(e.object.metadata!.name!);
  assert.deepEqual(got, ['a']);
  for await (const e of c.watch(configmaps)) { got.push(e.type); break; }
  await delay(50);
  assert.equal(open, 0, 'both streams closed');
  c.close();
});

test('a kubeconfig token is sent as a bearer token; the context picks the namespace', async () => {
  const config = parseKubeconfig(`
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c
  cluster: { server: "${url}" }
users:
- name: u
  user: { token: s3cret }
contexts:
- name: dev
  context: { cluster: c, user: u, namespace: dev-ns }
`);
  assert.equal(config.namespace, 'dev-ns');
  seen.length = 0;
  handler = (_req, res) => json(res, 200, {});
  const c = new Client({ ...config, qps: 0 });
  await c.get(configmaps, '', 'x');
  assert.equal(seen[0].headers.authorization, 'Bearer s3cret');
  assert.equal(seen[0].url, '/api/v1/namespaces/dev-ns/configmaps/x');
  assert.match(String(seen[0].headers['user-agent']), /bosun/);
  c.close();
});

test('kubeconfig data fields are base64 PEM; errors name what is missing', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const config = parseKubeconfig(`
current-context: x
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443", certificate-authority-data: ${b64('CA')} } }]
users: [{ name: u, user: { client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')} } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
`);
  assert.deepEqual([config.ca, config.cert, config.key, config.token, config.namespace], ['CA', 'CERT', 'KEY', undefined, undefined]);
  assert.throws(() => parseKubeconfig('current-context: nope\ncontexts: []'), /no context named "nope"/);
});

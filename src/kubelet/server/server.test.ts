/**
 * The kubelet API without a container runtime: who may call it, and container
 * logs read from CRI log files as containerd writes them. Exec, attach,
 * port-forward and stats against a real containerd are in
 * test/e2e/kubectl-streaming.test.ts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { KubeletServer, type KubeletServerRuntime } from './server.js';
import { loadOrCreatePki, type ClusterPki, type KeyPairPem } from '../../server/pki.js';
import { podLogsDirectory } from '../logs/paths.js';
import { formatCriLogLine } from '../logs/cri-log.js';

/** Nothing here reaches the runtime; a call would be a bug the test should see. */
const noRuntime = new Proxy({}, {
  get: (_t, method) => () => Promise.reject(new Error(`no container runtime in this test (called ${String(method)})`)),
}) as KubeletServerRuntime;

interface Answer { status: number; body: string }

function get(port: number, path: string, opts: { ca: string; client?: KeyPairPem; method?: string; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, method: opts.method ?? 'GET', ca: opts.ca, headers: opts.headers,
      ...(opts.client ? { cert: opts.client.certPem, key: opts.client.keyPem } : {}), agent: false,
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kubelet API server', () => {
  let dir: string;
  let pki: ClusterPki;
  let server: KubeletServer;
  let logs: string;
  const pods = new Map<string, Pod>();
  const pod = (name: string, uid: string, containers: string[], waiting?: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid },
    spec: { nodeName: 'node-a', containers: containers.map((c) => ({ name: c, image: 'localhost/bosun/busybox:1' })) },
    status: waiting ? { containerStatuses: containers.map((c) => ({ name: c, ready: false, restartCount: 0, image: '', imageID: '', state: { waiting: { reason: waiting } } })) } : {},
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-kubelet-api-'));
    pki = await loadOrCreatePki(join(dir, 'tls'), ['127.0.0.1']);
    logs = join(dir, 'pods');
    pods.set('default/web', pod('web', 'uid-web', ['app']));
    pods.set('default/pending', pod('pending', 'uid-pending', ['app'], 'ImagePullBackOff'));
    const appDir = join(podLogsDirectory(logs, 'default', 'web', 'uid-web'), 'app');
    await mkdir(appDir, { recursive: true });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    await writeFile(join(appDir, '0.log'), formatCriLogLine(new Date(t0), 'stdout', 'first run'));
    await writeFile(join(appDir, '1.log'), [1, 2, 3].map((i) => formatCriLogLine(new Date(t0 + i * 1000), i === 2 ? 'stderr' : 'stdout', `line ${i}`)).join(''));
    const serving = await pki.authority.issueServing('node-a', ['127.0.0.1', 'node-a']);
    server = new KubeletServer({
      runtime: noRuntime, podLogsDir: logs, nodeName: 'node-a', address: '127.0.0.1', port: 0,
      tls: { ...serving, caPem: pki.ca.certPem },
      getPod: (ns, name) => pods.get(`${ns}/${name}`),
      listPods: () => [...pods.values()],
    });
    await server.start();
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /healthz to anyone', async () => {
    assert.deepEqual(await get(server.port, '/healthz', { ca: pki.ca.certPem }), { status: 200, body: 'ok' });
  });

  it('lets only the API server\'s kubelet client certificate in', async () => {
    const anonymous = await get(server.port, '/pods', { ca: pki.ca.certPem });
    assert.equal(anonymous.status, 401);
    const admin = await get(server.port, '/pods', { ca: pki.ca.certPem, client: pki.admin });
    assert.equal(admin.status, 403);
    assert.match(JSON.parse(admin.body).message, /user=system:admin/);
    // A certificate with the right name from another CA is not trusted.
    const other = await loadOrCreatePki(join(dir, 'other-tls'), ['127.0.0.1']);
    assert.equal((await get(server.port, '/pods', { ca: pki.ca.certPem, client: other.kubeletClient })).status, 401);
    const ok = await get(server.port, '/pods', { ca: pki.ca.certPem, client: pki.kubeletClient });
    assert.equal(ok.status, 200);
    const list = JSON.parse(ok.body) as { kind: string; items: Pod[] };
    assert.equal(list.kind, 'PodList');
    assert.deepEqual(list.items.map((p) => p.metadata?.name).sort(), ['pending', 'web']);
  });

  it('serves container logs: current, previous, tail, timestamps, limitBytes', async () => {
    const logsOf = (q = '') => get(server.port, `/containerLogs/default/web/app${q}`, { ca: pki.ca.certPem, client: pki.kubeletClient });
    assert.deepEqual(await logsOf(), { status: 200, body: 'line 1\nline 2\nline 3\n' });
    assert.equal((await logsOf('?previous=true')).body, 'first run\n');
    assert.equal((await logsOf('?tailLines=1')).body, 'line 3\n');
    assert.equal((await logsOf('?tailLines=1&timestamps=true')).body, '2026-01-01T00:00:03.000000000Z line 3\n');
    assert.equal((await logsOf('?sinceTime=2026-01-01T00:00:02Z')).body, 'line 2\nline 3\n');
    assert.equal((await logsOf('?limitBytes=8')).body, 'line 1\nl');
    const bad = await logsOf('?tailLines=-1');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /tailLines/);
  });

  it('says why there are no logs', async () => {
    const ask = (path: string) => get(server.port, path, { ca: pki.ca.certPem, client: pki.kubeletClient });
    const missing = await ask('/containerLogs/default/nope/app');
    assert.equal(missing.status, 404);
    const waiting = await ask('/containerLogs/default/pending/app');
    assert.equal(waiting.status, 400);
    assert.equal(JSON.parse(waiting.body).message, 'container "app" in pod "pending" is waiting to start: ImagePullBackOff');
    const noPrevious = await ask('/containerLogs/default/pending/app?previous=1');
    assert.match(JSON.parse(noPrevious.body).message, /previous terminated container "app" in pod "pending" not found/);
  });

  it('wants an upgrade for exec, attach and port-forward', async () => {
    const r = await get(server.port, '/exec/default/web/app?command=ls&stdout=1', { ca: pki.ca.certPem, client: pki.kubeletClient, method: 'POST' });
    assert.equal(r.status, 400);
    assert.match(r.body, /Upgrade request required/);
    assert.equal((await get(server.port, '/nothing', { ca: pki.ca.certPem, client: pki.kubeletClient })).status, 404);
  });
});

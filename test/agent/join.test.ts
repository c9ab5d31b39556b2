import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, namespaces, ApiError } from '../../src/client/index.js';
import { joinCluster } from '../../src/agent/join.js';
import { startTestServer } from '../helpers/server.js';

const run = promisify(execFile);
const bosun = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../src/cli/main.ts'), ...args], { env: { ...process.env } });

test('an agent joins with a bootstrap token from `bosun token create`, after checking the CA hash', async (t) => {
  const ts = await startTestServer();
  const work = await mkdtemp(join(tmpdir(), 'bosun-join-'));
  t.after(async () => { await ts.stop(); await rm(work, { recursive: true, force: true }); });

  const token = (await bosun('token', 'create', '--data-dir', ts.dataDir, '--ttl', '1h', '--description', 'for node-a')).stdout.trim();
  assert.match(token, /^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const id = token.split('::')[1].split('.')[0];
  const listed = (await bosun('token', 'list', '--data-dir', ts.dataDir)).stdout;
  assert.match(listed, new RegExp(`^${id}\\s+(59m|1h)\\s+\\S+\\s+authentication\\s+for node-a$`, 'm'));

  // The bootstrap token is no cluster credential: it may only ask for node certificates.
  const bearer = await fetchStatus(ts.url, '/api/v1/namespaces', token, await readFile(join(ts.dataDir, 'server/tls/server-ca.crt'), 'utf8'));
  assert.equal(bearer.code, 403);

  const joined = await joinCluster({ server: ts.url, token, nodeName: 'node-a', addresses: ['127.0.0.1'], dir: join(work, 'agent') });
  const serving = new X509Certificate(joined.credentials.serving.certPem);
  assert.ok(serving.verify(new X509Certificate(joined.credentials.caPem).publicKey), 'serving certificate signed by the cluster CA');
  assert.match(serving.subjectAltName ?? '', /DNS:node-a/);
  assert.match(serving.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(new X509Certificate(joined.credentials.client.certPem).subject, /CN=system:node:node-a/);
  const nodeClient = new Client(joined.connection);
  t.after(() => nodeClient.close());
  const ns = await nodeClient.list(namespaces);
  assert.ok(ns.items.some((n) => n.metadata?.name === 'kube-system'), 'the node identity talks to the API');

  // A revoked token joins nothing.
  assert.match((await bosun('token', 'delete', '--data-dir', ts.dataDir, id)).stdout, new RegExp(`"${id}" deleted`));
  await assert.rejects(joinCluster({ server: ts.url, token, nodeName: 'node-b', addresses: [], dir: join(work, 'b') }),
    (err: unknown) => err instanceof ApiError && err.code === 401);
});

test('a token whose CA hash does not match the server is refused before the secret is sent', async (t) => {
  const ts = await startTestServer();
  const work = await mkdtemp(join(tmpdir(), 'bosun-join-'));
  t.after(async () => { await ts.stop(); await rm(work, { recursive: true, force: true }); });
  const wrong = `K10${'0'.repeat(64)}::abcdef.0123456789abcdef`;
  await assert.rejects(joinCluster({ server: ts.url, token: wrong, nodeName: 'x', addresses: [], dir: work }), /matches the CA hash/);
});

test('the server token joins too, and an expired bootstrap token does not', async (t) => {
  const ts = await startTestServer();
  const work = await mkdtemp(join(tmpdir(), 'bosun-join-'));
  t.after(async () => { await ts.stop(); await rm(work, { recursive: true, force: true }); });
  const serverToken = (await readFile(join(ts.dataDir, 'server/token'), 'utf8')).trim();
  const joined = await joinCluster({ server: ts.url, token: serverToken, nodeName: 'node-s', addresses: ['127.0.0.2'], dir: join(work, 's') });
  assert.match(new X509Certificate(joined.credentials.serving.certPem).subjectAltName ?? '', /IP Address:127\.0\.0\.2/);

  const shortLived = (await bosun('token', 'create', '--data-dir', ts.dataDir, '--ttl', '1s')).stdout.trim();
  await new Promise((r) => setTimeout(r, 2100));
  await assert.rejects(joinCluster({ server: ts.url, token: shortLived, nodeName: 'node-e', addresses: [], dir: join(work, 'e') }),
    (err: unknown) => err instanceof ApiError && err.code === 401);
});

async function fetchStatus(server: string, path: string, token: string, ca: string): Promise<{ code: number }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve({ code: res.statusCode ?? 0 });
    });
    req.on('error', reject);
    req.end();
  });
}

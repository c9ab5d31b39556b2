/**
 * The real registry (Debian's docker-registry) on a free loopback port: an
 * image built here is pushed through the Distribution API, then pulled by our
 * containerd over plain HTTP (the hosts.toml route CRI uses) and run.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freeLoopbackPort } from '../../test/helpers/etcd.js';
import { startTestContainerd } from '../../test/helpers/containerd.js';
import { addPlainHttpRegistry, containerdPaths, ctr } from '../agent/containerd.js';
import { buildBusyboxImage, buildBusyboxImageTar } from '../agent/images/index.js';
import { listTags, pushImage } from './push.js';
import { startRegistry, type RunningRegistry } from './registry.js';

const root = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function registryFor(t: { after(fn: () => unknown): void }, log?: (m: string) => void): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'bosun-registry-test-'));
  let reg: RunningRegistry | undefined;
  t.after(async () => { await reg?.stop(); await rm(dir, { recursive: true, force: true }); });
  reg = await startRegistry({ dataDir: dir, port: await freeLoopbackPort(), log });
  return reg;
}

test('push an image built here; the registry serves its tag and manifest', async (t) => {
  const reg = await registryFor(t);
  const dir = await mkdtemp(join(tmpdir(), 'bosun-registry-tar-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tar = join(dir, 'busybox.tar');
  await buildBusyboxImageTar(tar, { name: 'x/busybox:1' });
  const digest = await pushImage(reg.url, 'busybox', '1', tar);
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(await listTags(reg.url, 'busybox'), ['1']);
  // Pushing again is cheap (blobs exist) and gives the same digest.
  assert.equal(await pushImage(reg.url, 'busybox', '1', tar), digest);
  const res = await fetch(`${reg.url}/v2/busybox/manifests/1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-content-digest'), digest);
  assert.deepEqual(await listTags(reg.url, 'nothing-here'), []);
  await assert.rejects(pushImage(reg.url, 'Bad Name', '1', tar), /invalid repository name/);
});

test('the registry is restarted when it dies', async (t) => {
  const logs: string[] = [];
  const reg = await registryFor(t, (m) => logs.push(m));
  const first = reg.pid()!;
  process.kill(first, 'SIGKILL');
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const r = await fetch(`${reg.url}/v2/`).catch(() => undefined);
    if (r?.status === 200 && reg.pid() !== first) break;
    await sleep(100);
  }
  assert.notEqual(reg.pid(), first);
  assert.equal((await fetch(`${reg.url}/v2/`)).status, 200);
  assert.ok(logs.some((l) => /exited unexpectedly/.test(l)), logs.join('\n'));
});

test('containerd pulls a pushed image over plain HTTP and runs it', { skip: !root && 'needs root' }, async (t) => {
  const reg = await registryFor(t);
  const rt = await startTestContainerd(t);
  await pushImage(reg.url, 'tools/busybox', '1', await buildBusyboxImage({ cmd: ['echo', 'pulled and ran'] }));
  const name = `${reg.host}/tools/busybox:1`;
  // The same hosts.toml CRI reads: no --plain-http flag needed.
  await addPlainHttpRegistry(rt, reg.host);
  await ctr(rt, ['images', 'pull', '--hosts-dir', containerdPaths(rt.stateDir).certsDir, name]);
  assert.match(await ctr(rt, ['images', 'ls', '-q']), new RegExp(`^${name.replace(/[.]/g, '\\.')}$`, 'm'));
  const out = await ctr(rt, ['run', '--rm', name, `rt-pull-${process.pid}`]);
  assert.equal(out.trim(), 'pulled and ran');
});

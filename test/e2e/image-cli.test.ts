import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ctr, destroyContainerd, startContainerd } from '../../src/agent/containerd.js';
import { buildBusyboxImage, PAUSE_IMAGE } from '../../src/agent/images/index.js';
import { writeTar } from '../../src/agent/images/tar.js';
import type { ImageManifest } from '../../src/agent/images/oci.js';
import { listTags, startRegistry } from '../../src/registry/index.js';
import { freePort } from '../helpers/server.js';

const run = promisify(execFile);
const bosun = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../src/cli/main.ts'), ...args]);

/** A `docker save`-style archive of the busybox image: manifest.json, the config, uncompressed layers. */
async function dockerArchive(path: string, repoTag: string): Promise<void> {
  const img = await buildBusyboxImage();
  const manifest = JSON.parse(img.manifest.toString()) as ImageManifest;
  const layers = manifest.layers.map((l, i) => ({ name: `layer${i}/layer.tar`, data: gunzipSync(img.blobs.get(l.digest)!) }));
  const entries = [
    { name: 'config.json', data: img.config },
    ...layers,
    { name: 'manifest.json', data: Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: [repoTag], Layers: layers.map((l) => l.name) }])) },
  ];
  await writeFile(path, writeTar(entries.map((e) => ({ type: 'file' as const, mode: 0o644, ...e }))));
}

test('bosun image: build, push (OCI and docker archives) to the registry, import into the node\'s containerd', { timeout: 120_000 }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'bosun-image-'));
  const registry = await startRegistry({ dataDir: join(dataDir, 'registry'), port: await freePort() });
  const containerd = await startContainerd({ stateDir: join(dataDir, 'agent', 'containerd'), cniConfDir: join(dataDir, 'cni'), sandboxImage: PAUSE_IMAGE });
  t.after(async () => {
    await destroyContainerd(containerd);
    await registry.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const oci = join(dataDir, 'bb.tar');
  await bosun('image', 'busybox', oci);
  const pushed = await bosun('image', 'push', oci, `${registry.host}/tools/bb:2`);
  assert.match(pushed.stdout, /pushed \(sha256:[0-9a-f]{64}\)/);
  assert.deepEqual(await listTags(registry.url, 'tools/bb'), ['2']);

  const docker = join(dataDir, 'docker.tar');
  await dockerArchive(docker, 'example.test/dock:7');
  await bosun('image', 'push', docker, `${registry.host}/tools/dock:7`);
  assert.deepEqual(await listTags(registry.url, 'tools/dock'), ['7']);
  // What was pushed is a whole image: containerd pulls and unpacks it.
  await ctr(containerd, ['images', 'pull', '--plain-http', `${registry.host}/tools/dock:7`], { timeoutMs: 60_000 });

  await bosun('image', 'import', docker, 'localhost/test/dock:1', '--data-dir', dataDir);
  await bosun('image', 'import', oci, 'localhost/test/bb:3', '--data-dir', dataDir);
  const names = (await ctr(containerd, ['images', 'ls', '-q'])).split('\n');
  for (const n of ['localhost/test/dock:1', 'localhost/test/bb:3', `${registry.host}/tools/dock:7`]) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);

  await assert.rejects(bosun('image', 'push', oci, 'bb:1'), /names no registry/);
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTar, writeTar } from './tar.js';
import { layerEntries } from './oci.js';
import { buildBusyboxImage, buildBusyboxImageTar, readLayoutTar, splitImageName, PAUSE_ENTRYPOINT } from './index.js';

test('tar: what is written reads back, long names included', () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
  const archive = writeTar([
    { name: 'etc', type: 'dir' },
    { name: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0::/root:/bin/sh\n'), mode: 0o600 },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    { name: long, type: 'file', data: Buffer.alloc(1000, 7) },
  ]);
  assert.equal(archive.length % 512, 0);
  const back = readTar(archive);
  assert.deepEqual(back.map((e) => [e.name, e.type]), [['etc', 'dir'], ['etc/passwd', 'file'], ['bin/sh', 'symlink'], [long, 'file']]);
  assert.equal(back[1]!.data!.toString(), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(back[1]!.mode, 0o600);
  assert.equal(back[2]!.linkname, '/bin/busybox');
  assert.equal(back[3]!.data!.length, 1000);
});

test('busybox image: applets, /tmp, /etc/passwd with root and nobody, /var/www; default cmd sh', async () => {
  const image = await buildBusyboxImage();
  const files = new Map(layerEntries(image).map((e) => [e.name, e]));
  assert.equal(files.get('bin/busybox')?.type, 'file');
  assert.equal(files.get('bin/sh')?.linkname, '/bin/busybox');
  assert.equal(files.get('tmp')?.mode, 0o1777);
  assert.equal(files.get('var/www')?.type, 'dir');
  assert.match(files.get('etc/passwd')!.data!.toString(), /^root:x:0:0:.*\nnobody:x:65534:65534:/);
  assert.match(files.get('etc/group')!.data!.toString(), /nobody:x:65534:/);
  const config = JSON.parse(image.config.toString());
  assert.deepEqual(config.config.Cmd, ['sh']);
  assert.equal(config.os, 'linux');
});

test('images are reproducible: same input, same manifest digest', async () => {
  const a = await buildBusyboxImage({ entrypoint: PAUSE_ENTRYPOINT });
  const b = await buildBusyboxImage({ entrypoint: PAUSE_ENTRYPOINT });
  assert.equal(a.manifestDescriptor.digest, b.manifestDescriptor.digest);
  const c = await buildBusyboxImage();
  assert.notEqual(a.manifestDescriptor.digest, c.manifestDescriptor.digest);
});

test('OCI layout archive: index names the tag, blobs read back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bosun-images-test-'));
  try {
    const path = join(dir, 'x.tar');
    await buildBusyboxImageTar(path, { name: '127.0.0.1:5000/tools/busybox:v2', cmd: ['echo', 'hi'] });
    const files = new Map(readTar(await import('node:fs/promises').then((f) => f.readFile(path))).map((e) => [e.name, e]));
    assert.deepEqual(JSON.parse(files.get('oci-layout')!.data!.toString()), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(files.get('index.json')!.data!.toString());
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v2');
    const image = await readLayoutTar(path);
    assert.equal(image.manifestDescriptor.digest, index.manifests[0].digest);
    assert.deepEqual(JSON.parse(image.config.toString()).config.Cmd, ['echo', 'hi']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('splitImageName', () => {
  assert.deepEqual(splitImageName('localhost/bosun/pause:3.9'), { repository: 'localhost/bosun/pause', tag: '3.9' });
  assert.deepEqual(splitImageName('127.0.0.1:5000/busybox'), { repository: '127.0.0.1:5000/busybox', tag: 'latest' });
  assert.deepEqual(splitImageName('127.0.0.1:5000/busybox:1'), { repository: '127.0.0.1:5000/busybox', tag: '1' });
});

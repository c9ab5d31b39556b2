/**
 * The node's built-in images, made locally from busybox and imported into
 * containerd's k8s.io namespace: the pod sandbox ("pause") image and a busybox
 * image for tests and users. Names carry a registry host (`localhost/…`) so
 * containerd never asks docker.io for them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctr, type RunningContainerd } from '../containerd.js';
import { busyboxRootfs } from './busybox.js';
import { buildImage, writeLayoutTar, type OciImage } from './oci.js';

export { readLayoutTar, readImageArchive, buildImage, writeLayoutTar, digestOf, type OciImage } from './oci.js';

export const PAUSE_IMAGE = 'localhost/bosun/pause:3.9';
export const BUSYBOX_IMAGE = 'localhost/bosun/busybox:1';

/** Sleeps forever in a way that exits at once on SIGTERM (PID 1 ignores signals it has no handler for). */
export const PAUSE_ENTRYPOINT = ['sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"];

export interface BusyboxImageOptions {
  entrypoint?: string[];
  /** Default `['sh']` when no entrypoint is given. */
  cmd?: string[];
  /** Full image name, `<repository>:<tag>`; its tag goes into the layout's ref name. Default BUSYBOX_IMAGE. */
  name?: string;
}

/** Splits `host/path/repo:tag` into repository and tag (default `latest`). */
export function splitImageName(name: string): { repository: string; tag: string } {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { repository: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repository: base, tag: 'latest' };
}

export async function buildBusyboxImage(opts: BusyboxImageOptions = {}): Promise<OciImage> {
  const cmd = opts.cmd ?? (opts.entrypoint ? undefined : ['sh']);
  return buildImage(await busyboxRootfs(), { entrypoint: opts.entrypoint, cmd });
}

/** Writes a busybox image as an OCI image layout archive (importable by `ctr images import`). */
export async function buildBusyboxImageTar(path: string, opts: BusyboxImageOptions = {}): Promise<void> {
  const image = await buildBusyboxImage(opts);
  await writeFile(path, writeLayoutTar(image, splitImageName(opts.name ?? BUSYBOX_IMAGE).tag));
}

/** Imports an OCI layout archive under `name` (which must match the ref name's tag written in it). */
export async function importImageTar(run: Pick<RunningContainerd, 'socketPath'>, tarPath: string, name: string): Promise<void> {
  // --base-name makes containerd name the image <repository>:<ref name>; without
  // it an `import-<date>` name is invented and later imports steal it.
  await ctr(run, ['images', 'import', '--base-name', splitImageName(name).repository, tarPath]);
}

export async function listImages(run: RunningContainerd): Promise<string[]> {
  return (await ctr(run, ['images', 'ls', '-q'])).split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Imports the pause and busybox images unless containerd already has them; fast when present. */
export async function ensureImages(run: RunningContainerd, opts: { workDir?: string } = {}): Promise<void> {
  const present = new Set(await listImages(run));
  const wanted: [string, BusyboxImageOptions][] = [
    [PAUSE_IMAGE, { name: PAUSE_IMAGE, entrypoint: PAUSE_ENTRYPOINT }],
    [BUSYBOX_IMAGE, { name: BUSYBOX_IMAGE, cmd: ['sh'] }],
  ];
  const missing = wanted.filter(([name]) => !present.has(name));
  if (missing.length === 0) return;
  const dir = await mkdtemp(join(opts.workDir ?? tmpdir(), 'bosun-images-'));
  try {
    for (const [name, imageOpts] of missing) {
      const path = join(dir, `${splitImageName(name).repository.replace(/\//g, '_')}.tar`);
      await buildBusyboxImageTar(path, imageOpts);
      await importImageTar(run, path, name);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

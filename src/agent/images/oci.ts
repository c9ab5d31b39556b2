/**
 * OCI images in memory: built from a root filesystem, written as an OCI image
 * layout archive (what `ctr images import` reads), and read back from one
 * (what the registry push uses).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readTar, writeTar, type TarEntry } from './tar.js';

export const MEDIA_TYPE_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_TYPE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_TYPE_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** Everything needed to import or push one single-platform image. */
export interface OciImage {
  manifest: Buffer;
  manifestDescriptor: Descriptor;
  config: Buffer;
  /** Blobs by digest: config and layers. */
  blobs: Map<string, Buffer>;
}

export interface ImageConfigOptions {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
}

export const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const goArch = (): string => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;

/** One-layer image from rootfs entries. Reproducible: same entries, same digests. */
export function buildImage(rootfs: TarEntry[], opts: ImageConfigOptions = {}): OciImage {
  const layerTar = writeTar(rootfs);
  const layer = gzipSync(layerTar, { level: 6 });
  const config = Buffer.from(JSON.stringify({
    created: '1970-01-01T00:00:00Z',
    architecture: goArch(),
    os: 'linux',
    config: {
      Env: opts.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(opts.entrypoint ? { Entrypoint: opts.entrypoint } : {}),
      ...(opts.cmd ? { Cmd: opts.cmd } : {}),
      WorkingDir: opts.workingDir ?? '/',
    },
    rootfs: { type: 'layers', diff_ids: [digestOf(layerTar)] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'bosun image builder' }],
  }));
  const configDesc: Descriptor = { mediaType: MEDIA_TYPE_CONFIG, digest: digestOf(config), size: config.length };
  const layerDesc: Descriptor = { mediaType: MEDIA_TYPE_LAYER_GZIP, digest: digestOf(layer), size: layer.length };
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPE_MANIFEST, config: configDesc, layers: [layerDesc] };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest: manifestBytes,
    manifestDescriptor: { mediaType: MEDIA_TYPE_MANIFEST, digest: digestOf(manifestBytes), size: manifestBytes.length, platform: { architecture: goArch(), os: 'linux' } },
    config,
    blobs: new Map([[configDesc.digest, config], [layerDesc.digest, layer]]),
  };
}

const blobPath = (digest: string) => `blobs/${digest.replace(':', '/')}`;

/**
 * The OCI image layout as a tar. `refName` goes into the index's
 * `org.opencontainers.image.ref.name`; pass the tag (e.g. `3.9`) and import
 * with `--base-name <repository>` so containerd names it `<repository>:<tag>`.
 */
export function writeLayoutTar(image: OciImage, refName: string): Buffer {
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPE_INDEX, manifests: [{ ...image.manifestDescriptor, annotations: { [REF_NAME]: refName } }] };
  const entries: TarEntry[] = [
    { name: 'oci-layout', type: 'file', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { name: 'index.json', type: 'file', data: Buffer.from(JSON.stringify(index)) },
    { name: 'blobs', type: 'dir' },
    { name: 'blobs/sha256', type: 'dir' },
    { name: blobPath(image.manifestDescriptor.digest), type: 'file', data: image.manifest },
    ...[...image.blobs].map(([digest, data]): TarEntry => ({ name: blobPath(digest), type: 'file', data })),
  ];
  return writeTar(entries);
}

/** Reads the first image of an OCI layout archive (file path or bytes). */
export async function readLayoutTar(source: string | Buffer): Promise<OciImage> {
  const bytes = typeof source === 'string' ? await readFile(source) : source;
  const files = new Map(readTar(bytes).filter((e) => e.type === 'file').map((e) => [e.name, e.data!]));
  const indexBytes = files.get('index.json');
  if (!indexBytes) throw new Error('not an OCI image layout: index.json missing');
  const index = JSON.parse(indexBytes.toString()) as { manifests: Descriptor[] };
  let desc = index.manifests[0];
  if (!desc) throw new Error('OCI image layout has no manifests');
  // A nested index (multi-platform): take the entry for this machine.
  while (desc.mediaType === MEDIA_TYPE_INDEX) {
    const nested = JSON.parse(files.get(blobPath(desc.digest))?.toString() ?? '{"manifests":[]}') as { manifests: Descriptor[] };
    desc = nested.manifests.find((m) => m.platform?.architecture === goArch()) ?? nested.manifests[0];
    if (!desc) throw new Error('OCI image index has no manifests');
  }
  const manifest = files.get(blobPath(desc.digest));
  if (!manifest) throw new Error(`blob ${desc.digest} missing from the layout`);
  const parsed = JSON.parse(manifest.toString()) as ImageManifest;
  const blobs = new Map<string, Buffer>();
  for (const d of [parsed.config, ...parsed.layers]) {
    const b = files.get(blobPath(d.digest));
    if (!b) throw new Error(`blob ${d.digest} missing from the layout`);
    blobs.set(d.digest, b);
  }
  return { manifest, manifestDescriptor: { mediaType: parsed.mediaType ?? MEDIA_TYPE_MANIFEST, digest: desc.digest, size: manifest.length }, config: blobs.get(parsed.config.digest)!, blobs };
}

/** For tests: the files of an image's (single, gzipped) layer. */
export function layerEntries(image: OciImage): TarEntry[] {
  const m = JSON.parse(image.manifest.toString()) as ImageManifest;
  return m.layers.flatMap((l) => readTar(gunzipSync(image.blobs.get(l.digest)!)));
}

const MEDIA_TYPE_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';

/**
 * An image archive as `docker save` writes it (manifest.json, a config JSON
 * and uncompressed layer tars), turned into an OCI image: the same bytes,
 * so layer digests and the image's identity carry over.
 */
export function readDockerArchive(files: Map<string, Buffer>): OciImage {
  const entries = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Config: string; Layers: string[] }>;
  const entry = entries[0];
  if (!entry) throw new Error('docker archive: manifest.json lists no image');
  const config = files.get(entry.Config);
  if (!config) throw new Error(`docker archive: ${entry.Config} missing`);
  const blobs = new Map<string, Buffer>([[digestOf(config), config]]);
  const layers: Descriptor[] = entry.Layers.map((path) => {
    const layer = files.get(path);
    if (!layer) throw new Error(`docker archive: layer ${path} missing`);
    const d = digestOf(layer);
    blobs.set(d, layer);
    return { mediaType: MEDIA_TYPE_LAYER_TAR, digest: d, size: layer.length };
  });
  const manifestBytes = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA_TYPE_MANIFEST,
    config: { mediaType: MEDIA_TYPE_CONFIG, digest: digestOf(config), size: config.length }, layers,
  } satisfies ImageManifest));
  return { manifest: manifestBytes, manifestDescriptor: { mediaType: MEDIA_TYPE_MANIFEST, digest: digestOf(manifestBytes), size: manifestBytes.length }, config, blobs };
}

/** An OCI layout tar or a docker-archive tar, whichever `source` is. */
export async function readImageArchive(source: string | Buffer): Promise<OciImage> {
  const bytes = typeof source === 'string' ? await readFile(source) : source;
  const files = new Map(readTar(bytes).filter((e) => e.type === 'file').map((e) => [e.name.replace(/^\.\//, ''), e.data!]));
  if (files.has('index.json')) return readLayoutTar(bytes);
  if (files.has('manifest.json')) return readDockerArchive(files);
  throw new Error('not an image archive: neither an OCI layout (index.json) nor a docker archive (manifest.json)');
}

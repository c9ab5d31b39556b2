/**
 * Pushes an OCI image to a Distribution registry through its HTTP API
 * (blob upload POST + PUT, then manifest PUT), with nothing but node:http.
 * Enough for putting locally built images where every node can pull them.
 */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readImageArchive, type OciImage } from '../agent/images/oci.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

function send(method: string, url: URL, headers: Record<string, string | number> = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : request)(url, { method, headers: { ...headers, ...(body ? { 'Content-Length': body.length } : {}) }, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.once('error', reject);
    req.once('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.end(body);
  });
}

function fail(what: string, r: Reply): never {
  let detail = r.body.toString().trim();
  try {
    const errors = (JSON.parse(detail) as { errors?: { code: string; message: string }[] }).errors;
    if (errors?.length) detail = errors.map((e) => `${e.code}: ${e.message}`).join('; ');
  } catch { /* not JSON */ }
  throw new Error(`${what}: HTTP ${r.status}${detail ? ` ${detail}` : ''}`);
}

const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Pushes `image` (an OciImage, or an OCI image layout archive as path or bytes)
 * as `<repository>:<tag>` to the registry at `registryUrl` (e.g.
 * `http://127.0.0.1:5000`). Blobs the registry already has are skipped.
 * Returns the manifest digest.
 */
export async function pushImage(registryUrl: string, repository: string, tag: string, image: OciImage | string | Buffer): Promise<string> {
  if (!REPO.test(repository)) throw new Error(`invalid repository name "${repository}"`);
  if (!TAG.test(tag)) throw new Error(`invalid tag "${tag}"`);
  const img = typeof image === 'string' || Buffer.isBuffer(image) ? await readImageArchive(image) : image;
  const base = new URL(registryUrl.replace(/\/+$/, '') + '/');

  for (const [digest, data] of img.blobs) {
    const head = await send('HEAD', new URL(`v2/${repository}/blobs/${digest}`, base));
    if (head.status === 200) continue;
    const start = await send('POST', new URL(`v2/${repository}/blobs/uploads/`, base));
    if (start.status !== 202) fail(`starting upload of ${digest}`, start);
    const location = start.headers.location;
    if (typeof location !== 'string') throw new Error(`registry gave no upload location for ${digest}`);
    const upload = new URL(location, base);
    upload.searchParams.set('digest', digest);
    const put = await send('PUT', upload, { 'Content-Type': 'application/octet-stream' }, data);
    if (put.status !== 201) fail(`uploading ${digest}`, put);
  }

  const mediaType = (JSON.parse(img.manifest.toString()) as { mediaType?: string }).mediaType ?? img.manifestDescriptor.mediaType;
  const put = await send('PUT', new URL(`v2/${repository}/manifests/${tag}`, base), { 'Content-Type': mediaType }, img.manifest);
  if (put.status !== 201) fail(`putting manifest ${repository}:${tag}`, put);
  const digest = put.headers['docker-content-digest'];
  return typeof digest === 'string' ? digest : img.manifestDescriptor.digest;
}

/** Tags of a repository, e.g. to check a push; [] when the repository does not exist. */
export async function listTags(registryUrl: string, repository: string): Promise<string[]> {
  const r = await send('GET', new URL(`v2/${repository}/tags/list`, registryUrl.replace(/\/+$/, '') + '/'));
  if (r.status === 404) return [];
  if (r.status !== 200) fail(`listing tags of ${repository}`, r);
  return (JSON.parse(r.body.toString()) as { tags?: string[] | null }).tags ?? [];
}

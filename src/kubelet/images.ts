import type { Container, Pod } from 'kubernetes-types/core/v1';
import type { AuthConfig } from './cri/types.js';
import type { CriClient } from './cri/client.js';
import type { ObjectCache } from './object-cache.js';

/** A failed image step: `reason` is what the container status shows (ErrImagePull, ErrImageNeverPull, InvalidImageName). */
export class ImageError extends Error {
  constructor(readonly reason: string, message: string) { super(message); this.name = 'ImageError'; }
}

/** The registry host of an image reference, as docker's reference parsing: no dot/colon/localhost in the first part means docker.io. */
export function registryHost(image: string): string {
  const first = image.split('/')[0];
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return first;
  return 'docker.io';
}

/** The default policy when the API server left it unset: Always for :latest or no tag, else IfNotPresent. */
export function pullPolicy(c: Container): string {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const ref = c.image ?? '';
  const lastPart = ref.split('/').pop() ?? '';
  return ref.includes('@') || (lastPart.includes(':') && !lastPart.endsWith(':latest')) ? 'IfNotPresent' : 'Always';
}

/** Credentials for `image` from the pod's imagePullSecrets (dockerconfigjson or dockercfg). */
export async function pullCredentials(pod: Pod, image: string, objects: ObjectCache): Promise<AuthConfig[]> {
  const host = registryHost(image);
  const out: AuthConfig[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    const secret = await objects.secret(pod.metadata?.namespace ?? 'default', ref.name);
    if (!secret?.data) continue;
    let auths: Record<string, { username?: string; password?: string; auth?: string; identitytoken?: string; registrytoken?: string }> = {};
    try {
      if (secret.data['.dockerconfigjson']) auths = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString()).auths ?? {};
      else if (secret.data['.dockercfg']) auths = JSON.parse(Buffer.from(secret.data['.dockercfg'], 'base64').toString());
    } catch { continue; }
    for (const [server, a] of Object.entries(auths)) {
      const serverHost = server.replace(/^https?:\/\//, '').split('/')[0];
      const matches = serverHost === host || (host === 'docker.io' && /(^|\.)docker\.io$/.test(serverHost));
      if (!matches) continue;
      let { username, password } = a;
      if ((!username || !password) && a.auth) {
        const decoded = Buffer.from(a.auth, 'base64').toString();
        const i = decoded.indexOf(':');
        if (i > 0) { username = decoded.slice(0, i); password = decoded.slice(i + 1); }
      }
      out.push({ username, password, serverAddress: serverHost, identityToken: a.identitytoken, registryToken: a.registrytoken });
    }
  }
  return out;
}

/**
 * Makes the container's image present as its pull policy says and returns
 * the runtime's image reference (ID). Pull errors come back as ImageErrors.
 */
export async function ensureImage(runtime: CriClient, pod: Pod, c: Container, objects: ObjectCache, onPull?: (image: string) => void): Promise<{ imageRef: string; pulled: boolean }> {
  const image = c.image ?? '';
  if (!image) throw new ImageError('InvalidImageName', `Failed to apply default image tag "": couldn't parse image name "": invalid reference format`);
  const policy = pullPolicy(c);
  if (policy !== 'Always') {
    const present = await runtime.imageStatus(image);
    if (present) return { imageRef: present.id, pulled: false };
    if (policy === 'Never') throw new ImageError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
  }
  onPull?.(image);
  const creds = await pullCredentials(pod, image, objects);
  let lastErr: unknown;
  for (const auth of creds.length ? creds : [undefined]) {
    try {
      return { imageRef: await runtime.pullImage(image, auth), pulled: true };
    } catch (err) { lastErr = err; }
  }
  const msg = lastErr instanceof Error ? lastErr.message.replace(/^CRI PullImage: \w+: /, '') : String(lastErr);
  throw new ImageError('ErrImagePull', `failed to pull and unpack image "${image}": ${msg}`);
}

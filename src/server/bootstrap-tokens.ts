import { randomInt, timingSafeEqual } from 'node:crypto';
import type { Secret } from 'kubernetes-types/core/v1';
import { BOOTSTRAPPERS_GROUP, type TokenSource, type UserInfo } from '../apiserver/authn.js';
import type { ResourceRegistry } from '../apiserver/registry.js';

/**
 * Bootstrap tokens as upstream keeps them: a Secret `bootstrap-token-<id>` of
 * type `bootstrap.kubernetes.io/token` in kube-system. The token is
 * `<id>.<secret>`; `bosun token create` hands it out as
 * `K10<ca hash>::<id>.<secret>` so the agent can check the server first.
 */
export const BOOTSTRAP_TOKEN_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_PREFIX = 'bootstrap-token-';
const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface BootstrapToken { id: string; secret: string }

/** `<id>.<secret>`, also when it follows a `K10<hash>::` prefix. */
export function parseBootstrapToken(text: string): BootstrapToken | undefined {
  const bare = text.trim().replace(/^K10[0-9a-f]{64}::/, '');
  const m = TOKEN_RE.exec(bare);
  return m ? { id: m[1], secret: m[2] } : undefined;
}

export function newBootstrapToken(): BootstrapToken {
  const pick = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return { id: pick(6), secret: pick(16) };
}

export interface BootstrapTokenSpec { description?: string; ttlSeconds?: number; groups?: string[] }

/** The Secret that stores a token (upstream's field names, so `kubeadm token list` would read it too). */
export function bootstrapTokenSecret(token: BootstrapToken, spec: BootstrapTokenSpec = {}, now = Date.now()): Secret {
  const data: Record<string, string> = {
    'token-id': token.id,
    'token-secret': token.secret,
    'usage-bootstrap-authentication': 'true',
  };
  if (spec.description) data.description = spec.description;
  if (spec.ttlSeconds) data.expiration = new Date(now + spec.ttlSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (spec.groups?.length) data['auth-extra-groups'] = spec.groups.join(',');
  return {
    apiVersion: 'v1', kind: 'Secret', type: BOOTSTRAP_TOKEN_TYPE,
    metadata: { name: `${BOOTSTRAP_TOKEN_PREFIX}${token.id}`, namespace: 'kube-system' },
    stringData: data,
  };
}

const decode = (secret: Secret, key: string): string | undefined => {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
};

/** A stored token's user, unless it is expired, not for authentication, or the secret does not match. */
export function bootstrapTokenUser(secret: Secret, presented: BootstrapToken, now = Date.now()): UserInfo | undefined {
  if (secret.type !== BOOTSTRAP_TOKEN_TYPE || secret.metadata?.deletionTimestamp) return undefined;
  if (decode(secret, 'usage-bootstrap-authentication') !== 'true') return undefined;
  const id = decode(secret, 'token-id'), stored = decode(secret, 'token-secret');
  if (id !== presented.id || stored === undefined) return undefined;
  const a = Buffer.from(stored), b = Buffer.from(presented.secret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
  const expiration = decode(secret, 'expiration');
  if (expiration && Date.parse(expiration) <= now) return undefined;
  const extra = (decode(secret, 'auth-extra-groups') ?? '').split(',').filter((g) => g.startsWith('system:bootstrappers:'));
  return { name: `system:bootstrap:${id}`, groups: [BOOTSTRAPPERS_GROUP, ...extra, 'system:authenticated'] };
}

/** Authenticates bootstrap tokens from the API server's own watch cache of Secrets: no store read per request. */
export function bootstrapTokenSource(secrets: ResourceRegistry): TokenSource {
  return (bearer) => {
    const token = parseBootstrapToken(bearer);
    if (!token) return undefined;
    const cached = secrets.cache.get(secrets.keyFor('kube-system', `${BOOTSTRAP_TOKEN_PREFIX}${token.id}`));
    return cached ? bootstrapTokenUser(cached.object as Secret, token) : undefined;
  };
}

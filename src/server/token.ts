import { randomBytes } from 'node:crypto';

/**
 * Join tokens in k3s' shape: `K10<sha256 of the cluster CA>::<user>:<secret>`.
 * The CA hash lets a joining agent check the server it talks to before it
 * sends the secret.
 */
/** `user` is empty for a bootstrap token (`<id>.<secret>`). */
export interface JoinToken { caHash?: string; user: string; secret: string }

export function formatToken(t: JoinToken): string {
  return `${t.caHash ? `K10${t.caHash}::` : ''}${t.user ? `${t.user}:` : ''}${t.secret}`;
}

export function parseToken(text: string): JoinToken {
  const s = text.trim();
  const full = /^K10([0-9a-f]{64})::([^:]+):(.+)$/.exec(s);
  if (full) return { caHash: full[1], user: full[2], secret: full[3] };
  // A bootstrap token (`bosun token create`): `K10<hash>::<id>.<secret>`, no user part.
  const bootstrap = /^K10([0-9a-f]{64})::([a-z0-9]{6}\.[a-z0-9]{16})$/.exec(s);
  if (bootstrap) return { caHash: bootstrap[1], user: '', secret: bootstrap[2] };
  const short = /^([^:]+):(.+)$/.exec(s);
  if (short) return { user: short[1], secret: short[2] };
  // A bare secret, as `--token` may be given.
  return { user: 'server', secret: s };
}

export const newSecret = (): string => randomBytes(16).toString('hex');

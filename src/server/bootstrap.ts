import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'node:https';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseToken } from './token.js';
import { installClusterCa } from './pki.js';
import { caHashOf } from './pki.js';

/** What a joining server receives from a member of the cluster: the means to issue its own certificates. */
export interface ServerBootstrap {
  /** The cluster CA, certificate and key (k3s ships the same inside its token-encrypted bootstrap data). */
  ca: { certPem: string; keyPem: string };
  /** Client URLs of the embedded etcd members, empty when the cluster uses an external datastore. */
  etcdClientURLs: string[];
}

export const CACERTS_PATH = '/cacerts';
export const SERVER_BOOTSTRAP_PATH = '/v1-bosun/server-bootstrap';

function sameSecret(given: string, wanted: string): boolean {
  const a = createHash('sha256').update(given).digest(), b = createHash('sha256').update(wanted).digest();
  return timingSafeEqual(a, b);
}

/**
 * Answers `GET /cacerts` (the CA certificate, public, as k3s serves it: a
 * joiner checks it against the hash in its token) and `GET
 * /v1-bosun/server-bootstrap`, only to a bearer of the server token.
 */
export function serverBootstrapHandler(opts: { caPem: string; caKeyPem: string; token: string; etcdClientURLs: () => Promise<string[]> }) {
  const wanted = parseToken(opts.token).secret;
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (url.pathname === CACERTS_PATH && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(opts.caPem);
      return true;
    }
    if (url.pathname !== SERVER_BOOTSTRAP_PATH) return false;
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const given = auth ? parseToken(auth[1]!) : undefined;
    if (!given || given.user !== 'server' || !sameSecret(given.secret, wanted)) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', message: 'a server token is required', code: 401 }));
      return true;
    }
    const body: ServerBootstrap = { ca: { certPem: opts.caPem, keyPem: opts.caKeyPem }, etcdClientURLs: await opts.etcdClientURLs() };
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
    return true;
  };
}

function get(url: string, opts: { ca?: string; insecure?: boolean; token?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ca: opts.ca, rejectUnauthorized: !opts.insecure, timeout: 15_000,
      headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Joins the k3s way: fetch the CA without trusting it, check its sha256
 * against the token's, and only then, over TLS verified with that CA, send
 * the token to fetch the bootstrap data.
 */
export async function fetchServerBootstrap(server: string, token: string): Promise<ServerBootstrap> {
  const parsed = parseToken(token);
  if (!parsed.caHash) throw new Error('joining a server needs the full token (K10<ca-hash>::server:<secret>), from <data-dir>/server/token on the first server');
  const base = server.replace(/\/$/, '');
  const cacerts = await get(`${base}${CACERTS_PATH}`, { insecure: true });
  if (cacerts.status !== 200) throw new Error(`${base}${CACERTS_PATH}: HTTP ${cacerts.status}`);
  const hash = caHashOf(cacerts.body);
  if (hash !== parsed.caHash) throw new Error(`the CA of ${base} (sha256 ${hash}) does not match the token's (${parsed.caHash}): refusing to join`);
  const res = await get(`${base}${SERVER_BOOTSTRAP_PATH}`, { ca: cacerts.body, token: token.trim() });
  if (res.status !== 200) throw new Error(`${base}${SERVER_BOOTSTRAP_PATH}: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  return JSON.parse(res.body) as ServerBootstrap;
}

/**
 * A server started with `--server URL --token T`: installs the cluster CA
 * from the bootstrap data and returns the etcd client URLs to join. A restart
 * whose data dir already has the CA and an etcd member needs nothing from the
 * other server (which may be down).
 */
export async function joinServer(server: string, token: string | undefined, tlsDir: string, alreadyMember: boolean, log: (m: string) => void): Promise<string[]> {
  if (!token) throw new Error('--server needs --token (the first server\'s <data-dir>/server/token)');
  if (alreadyMember && existsSync(join(tlsDir, 'server-ca.key'))) return [];
  const data = await fetchServerBootstrap(server, token);
  await installClusterCa(tlsDir, data.ca);
  log(`bosun: joined the cluster of ${server} (CA verified against the token)`);
  return data.etcdClientURLs;
}

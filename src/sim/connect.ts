import { connect, type DetailedPeerCertificate } from 'node:tls';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionConfig } from '../client/index.js';
import { parseToken } from '../server/token.js';

/** The PEM texts a CA certificate may have been hashed as (line endings and the final newline vary). */
function pemVariants(der: Buffer): string[] {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  const pem = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----`;
  const crlf = pem.replace(/\n/g, '\r\n');
  return [pem, `${pem}\n`, crlf, `${crlf}\r\n`];
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Every certificate the server sent, leaf first (the chain ends at a self-signed one). */
async function peerChain(server: URL, timeoutMs: number): Promise<Buffer[]> {
  const host = server.hostname.replace(/^\[|\]$/g, '');
  const port = Number(server.port || 443);
  const socket = connect({
    host, port,
    // Nothing is sent on this connection: it only fetches the certificates, which are checked against the token's hash below.
    rejectUnauthorized: false,
    servername: isIP(host) ? undefined : host,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${server.origin}: TLS handshake timed out`)), timeoutMs);
      socket.once('secureConnect', () => { clearTimeout(timer); resolve(); });
      socket.once('error', (err) => { clearTimeout(timer); reject(err); });
    });
    const chain: Buffer[] = [];
    const seen = new Set<string>();
    for (let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true); c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
      seen.add(c.fingerprint256);
      chain.push(c.raw);
    }
    return chain;
  } finally {
    socket.destroy();
  }
}

/**
 * What the CA hash in a `K10<sha256>::user:secret` token is for: fetch the
 * server's certificates without trusting them, keep the one whose PEM
 * hashes to the token's hash, and trust only that CA from then on. The
 * token itself is sent only over connections verified against it.
 */
export async function connectionFromToken(server: string, token: string, opts: { timeoutMs?: number } = {}): Promise<ConnectionConfig> {
  const url = new URL(server);
  if (url.protocol !== 'https:') throw new Error(`--server must be https:// (got ${server}): the token is a secret`);
  const parsed = parseToken(token);
  if (!parsed.caHash) throw new Error('the token carries no CA hash (want K10<sha256>::server:<secret>); give the full token from <data-dir>/server/token, or --kubeconfig');
  const want = Buffer.from(parsed.caHash, 'hex');
  const chain = await peerChain(url, opts.timeoutMs ?? 10_000);
  for (const der of chain) {
    for (const pem of pemVariants(der)) {
      if (timingSafeEqual(sha256(pem), want)) return { server: url.origin, ca: `${pem.trimEnd()}\n`, token: token.trim() };
    }
  }
  throw new Error(`${url.origin}: no certificate the server sent matches the CA hash in the token (${chain.length} sent); refusing to send the token`);
}

/**
 * Proxying of upgraded (SPDY/3.1 or WebSocket) connections, the way upstream's
 * UpgradeAwareHandler does it: replay the client's upgrade request on a
 * connection to the backend, then splice the two sockets byte for byte. The
 * backend's answer — `101 Switching Protocols` or an error response — reaches
 * the client unchanged, so stream protocol negotiation happens end to end.
 *
 * The API server uses this towards a kubelet (over TLS), and the kubelet
 * towards the container runtime's streaming server (plain TCP on loopback).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { Status } from 'kubernetes-types/meta/v1';

/** Hop-by-hop or credential headers that must not be replayed to the backend. */
const DROPPED = new Set(['host', 'authorization', 'proxy-authorization', 'content-length', 'transfer-encoding', 'impersonate-user', 'impersonate-group']);

/** The raw request head to send to the backend: same method and upgrade headers, the new path and host. */
export function upgradeRequestHead(req: IncomingMessage, path: string, host: string): string {
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${host}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (DROPPED.has(raw[i].toLowerCase())) continue;
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  // An upgrade request carries no body; say so, or a backend might wait for one.
  lines.push('Content-Length: 0');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Sends the upgrade request to `backend` and splices the connections. `head`
 * holds bytes the client sent after its request head (the start of the
 * upgraded stream). Either side closing closes the other.
 */
export function spliceUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, backend: Duplex, path: string, host: string): void {
  const closeBoth = () => { client.destroy(); backend.destroy(); };
  client.on('error', closeBoth);
  backend.on('error', closeBoth);
  client.on('close', closeBoth);
  backend.on('close', closeBoth);
  backend.write(upgradeRequestHead(req, path, host));
  if (head.length) backend.write(head);
  // Half-close passes through: a client ending its writes (stdin EOF over SPDY) is not a hang-up.
  backend.pipe(client);
  client.pipe(backend);
}

/** Writes an HTTP response on a raw (not yet upgraded) socket and closes it. */
export function writeRawResponse(socket: Duplex, code: number, body: string, contentType: string): void {
  if (socket.destroyed) return;
  const bytes = Buffer.from(body);
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\n`
    + `Content-Type: ${contentType}\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${body}`);
}

/** Writes a metav1.Status on a raw socket, as the API server answers a failed upgrade. */
export function writeRawStatus(socket: Duplex, status: Status): void {
  writeRawResponse(socket, status.code ?? 500, JSON.stringify(status), 'application/json');
}

/** True for a WebSocket upgrade (as opposed to SPDY/3.1). */
export const isWebSocketUpgrade = (req: IncomingMessage): boolean =>
  (req.headers.upgrade ?? '').toLowerCase().split(',').map((s) => s.trim()).includes('websocket');

/** The subprotocols a WebSocket client offers, in its order. */
export const offeredWebSocketProtocols = (req: IncomingMessage): string[] =>
  String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);

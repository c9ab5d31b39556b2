/**
 * The API server's connection to kubelets, and `nodes/proxy`
 * (`/api/v1/nodes/NAME/proxy/PATH` → `https://<node InternalIP>:<kubelet port>/PATH`).
 *
 * The kubelet is reached at the node's InternalIP (else ExternalIP, else
 * Hostname) and `status.daemonEndpoints.kubeletEndpoint.Port`, over TLS with
 * the API server's kubelet client certificate; the kubelet's serving
 * certificate must be signed by the cluster CA for that address.
 */
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node } from 'kubernetes-types/core/v1';
import { StatusError, badRequest, internalError, serviceUnavailable } from '../../api/status.js';
import type { RequestInfo } from '../request-info.js';
import { spliceUpgrade } from '../../kubelet/server/upgrade.js';

export interface KubeletClientConfig {
  /** The cluster CA, which signs kubelet serving certificates. */
  caPem: string;
  /** The API server's client certificate towards kubelets (`ClusterPki.kubeletClient`); without it nothing is proxied. */
  certPem?: string;
  keyPem?: string;
}

export interface KubeletLocation { host: string; port: number; nodeName: string }

export const DEFAULT_KUBELET_PORT = 10250;
/** How long a kubelet may take to accept a connection and answer with its response head (not the body: logs follow). */
const KUBELET_DIAL_TIMEOUT_MS = 30_000;

const ADDRESS_PREFERENCE = ['InternalIP', 'ExternalIP', 'Hostname'];

/** Where a node's kubelet listens. */
export function kubeletLocation(node: Node, portOverride?: number): KubeletLocation {
  const name = node.metadata?.name ?? '';
  const addresses = node.status?.addresses ?? [];
  const address = ADDRESS_PREFERENCE.map((t) => addresses.find((a) => a.type === t && a.address)).find(Boolean);
  if (!address) throw badRequest(`node "${name}" has no address`);
  const port = portOverride ?? (node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT);
  return { host: address.address, port, nodeName: name };
}

/** Response headers that describe the hop, not the content. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);
/** Request headers not passed to the kubelet: hop-by-hop ones and the user's credentials. */
const DROPPED_REQUEST_HEADERS = new Set([...HOP_HEADERS, 'host', 'authorization', 'proxy-authorization', 'impersonate-user', 'impersonate-group']);

export class KubeletConnector {
  constructor(private readonly config: KubeletClientConfig) {}

  private credentials() {
    const { certPem, keyPem, caPem } = this.config;
    if (!certPem || !keyPem) throw serviceUnavailable('the API server has no kubelet client certificate configured');
    return { ca: caPem, cert: certPem, key: keyPem };
  }

  private static unreachable(loc: KubeletLocation, path: string, err: unknown): StatusError {
    const why = err instanceof Error ? err.message : String(err);
    return internalError(`error dialing backend: ${why} (kubelet of node ${loc.nodeName} at https://${hostPort(loc)}${path.split('?')[0]})`);
  }

  /**
   * Sends a plain request to the kubelet; resolves with its response (any
   * status). `body` is piped to it when given.
   */
  async request(loc: KubeletLocation, method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: IncomingMessage, signal?: AbortSignal): Promise<IncomingMessage> {
    const req = httpsRequest({ host: loc.host, port: loc.port, method, path, headers, agent: false, signal, ...this.credentials() });
    const response = once(req, 'response') as Promise<[IncomingMessage]>;
    const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${KUBELET_DIAL_TIMEOUT_MS / 1000}s`)), KUBELET_DIAL_TIMEOUT_MS);
    if (body) body.pipe(req); else req.end();
    try {
      const [res] = await response;
      return res;
    } catch (err) {
      req.destroy();
      if (err instanceof StatusError) throw err;
      throw KubeletConnector.unreachable(loc, path, err);
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Opens a TLS connection to the kubelet (for an upgrade request). */
  async connect(loc: KubeletLocation, path: string): Promise<TLSSocket> {
    const socket = tlsConnect({ host: loc.host, port: loc.port, ...this.credentials(), ALPNProtocols: ['http/1.1'] });
    const deadline = setTimeout(() => socket.destroy(new Error(`no TLS connection within ${KUBELET_DIAL_TIMEOUT_MS / 1000}s`)), KUBELET_DIAL_TIMEOUT_MS);
    try {
      await once(socket, 'secureConnect');
      return socket;
    } catch (err) {
      socket.destroy();
      throw KubeletConnector.unreachable(loc, path, err);
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Proxies an upgrade request (SPDY or WebSocket) to the kubelet and splices the connections. */
  async proxyUpgrade(loc: KubeletLocation, req: IncomingMessage, client: Duplex, head: Buffer, path: string): Promise<void> {
    const backend = await this.connect(loc, path);
    spliceUpgrade(req, client, head, backend, path, hostPort(loc));
  }

  /** Proxies a plain request to the kubelet and streams its answer back. */
  async proxyRequest(loc: KubeletLocation, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!DROPPED_REQUEST_HEADERS.has(k) && v !== undefined) headers[k] = v;
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const upstream = await this.request(loc, req.method ?? 'GET', path, headers, hasBody ? req : undefined, abort.signal);
    pipeResponse(upstream, res);
  }
}

/** Streams a kubelet's response to our client: status, content headers, body (flushed as it comes, for follow). */
export function pipeResponse(upstream: IncomingMessage, res: ServerResponse, extraHeaders: OutgoingHttpHeaders = {}): void {
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(upstream.headers)) if (!HOP_HEADERS.has(k) && v !== undefined) headers[k] = v;
  res.writeHead(upstream.statusCode ?? 502, { ...headers, ...extraHeaders });
  res.flushHeaders();
  upstream.pipe(res);
  upstream.on('error', () => res.destroy());
  res.once('close', () => upstream.destroy());
}

const hostPort = (loc: KubeletLocation) => (loc.host.includes(':') ? `[${loc.host}]:${loc.port}` : `${loc.host}:${loc.port}`);

/**
 * `nodes/proxy`: the node name may carry a port (`NAME:PORT`) as upstream
 * allows; the rest of the path after `/proxy` goes to the kubelet unchanged.
 */
export function nodeProxyTarget(info: RequestInfo, url: URL): { nodeName: string; port?: number; path: string } {
  const raw = info.name ?? '';
  const m = /^(?:https:)?([^:]+)(?::(\d+))?$/.exec(raw);
  if (!m) throw badRequest(`invalid node name "${raw}"`);
  // The path after `/nodes/<name>/proxy`, kept encoded as the client sent it.
  const marker = `/nodes/${encodeURIComponent(raw).replace(/%3A/gi, ':')}/proxy`;
  let at = url.pathname.indexOf(marker);
  let rest = '';
  if (at >= 0) rest = url.pathname.slice(at + marker.length);
  else {
    at = url.pathname.indexOf('/proxy');
    rest = at >= 0 ? url.pathname.slice(at + '/proxy'.length) : '';
  }
  return { nodeName: m[1], port: m[2] ? Number(m[2]) : undefined, path: `${rest || '/'}${url.search}` };
}

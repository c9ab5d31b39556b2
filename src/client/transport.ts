import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionConfig } from './kubeconfig.js';

export interface RawRequest {
  method: string;
  /** Absolute API path, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  query?: URLSearchParams;
  body?: string;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

/** Errors that say the server could not be reached (or went away), not that it answered. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);
export const isConnectionError = (err: unknown): boolean => CONNECTION_ERRORS.has((err as NodeJS.ErrnoException)?.code ?? '');

/** A connection attempt that has not completed by then is given up (a machine gone without a RST). */
const CONNECT_TIMEOUT_MS = 5_000;
const DISCOVERY_INTERVAL_MS = 30_000;
const ENDPOINTS_PATH = '/api/v1/namespaces/default/endpoints/kubernetes';

interface EndpointsBody { subsets?: Array<{ addresses?: Array<{ ip?: string }>; ports?: Array<{ name?: string; port?: number }> }> }

/**
 * HTTP/1.1 to the API server over a keep-alive agent, so a controller's
 * thousand requests reuse a handful of TLS connections. Knows nothing of
 * Kubernetes beyond the auth header — and, for HA, the `kubernetes`
 * Endpoints: with several servers known, a request that cannot reach the
 * current one goes to the next (a client-side balancer, as k3s' agents have).
 */
export class Transport {
  private servers: URL[];
  private current = 0;
  private readonly agent: HttpsAgent | HttpAgent;
  private readonly secure: boolean;
  private readonly headers: OutgoingHttpHeaders;
  private readonly discover: boolean;
  private lastDiscovery = 0;
  private discovering = false;

  constructor(config: ConnectionConfig, userAgent: string) {
    const urls = [config.server, ...(config.servers ?? [])].map((s) => new URL(s));
    this.servers = dedupe(urls);
    const base = this.servers[0]!;
    this.secure = base.protocol === 'https:';
    if (!this.secure && base.protocol !== 'http:') throw new Error(`unsupported server URL ${config.server}`);
    if (this.servers.some((u) => u.protocol !== base.protocol)) throw new Error('all servers must use the same scheme');
    this.agent = this.secure
      ? new HttpsAgent({
        keepAlive: true,
        ca: config.ca, cert: config.cert, key: config.key,
        rejectUnauthorized: !config.insecureSkipTLSVerify,
        servername: config.tlsServerName,
      })
      : new HttpAgent({ keepAlive: true });
    this.headers = { 'User-Agent': userAgent };
    if (config.token) this.headers.Authorization = `Bearer ${config.token}`;
    this.discover = config.discoverServers ?? false;
    // The first successful request triggers the first discovery.
    this.lastDiscovery = -DISCOVERY_INTERVAL_MS;
  }

  /** The server requests go to now. */
  get server(): string { const u = this.servers[this.current]!; return u.origin + u.pathname.replace(/\/$/, ''); }

  /** Every server known, the current one first. */
  get knownServers(): string[] {
    return [...this.servers.slice(this.current), ...this.servers.slice(0, this.current)].map((u) => u.origin + u.pathname.replace(/\/$/, ''));
  }

  /**
   * Sends a request; resolves with the response as soon as its headers
   * arrive. A connection error moves to the next known server and retries
   * there, each server once; the last error is thrown when none answers.
   */
  async open(req: RawRequest): Promise<IncomingMessage> {
    let lastError: unknown;
    for (let tried = 0; tried < this.servers.length; tried++) {
      const index = (this.current + tried) % this.servers.length;
      try {
        const res = await this.openOn(this.servers[index]!, req);
        if (index !== this.current) this.current = index;
        this.maybeDiscover();
        return res;
      } catch (err) {
        if (!isConnectionError(err) || req.signal?.aborted) throw err;
        lastError = err;
      }
    }
    // Nobody answered: the list may be stale, refresh it on the next success.
    this.lastDiscovery = -DISCOVERY_INTERVAL_MS;
    throw lastError;
  }

  private openOn(base: URL, req: RawRequest): Promise<IncomingMessage> {
    const prefix = base.pathname.replace(/\/$/, '');
    const qs = req.query?.toString();
    const path = `${prefix}${req.path}${qs ? `?${qs}` : ''}`;
    const headers: OutgoingHttpHeaders = { ...this.headers, Accept: req.accept ?? 'application/json' };
    if (req.body !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(req.body);
    }
    const send = this.secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const r = send({
        protocol: base.protocol, hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port || undefined,
        method: req.method, path, headers, agent: this.agent, signal: req.signal,
      }, resolve);
      r.on('error', reject);
      r.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => {
          const err = Object.assign(new Error(`connect to ${base.host} timed out`), { code: 'ETIMEDOUT' });
          r.destroy(err);
        }, CONNECT_TIMEOUT_MS);
        timer.unref();
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      r.end(req.body);
    });
  }

  /** Refreshes the server list from the `kubernetes` Endpoints in the background, at most every 30 s. */
  private maybeDiscover(): void {
    if (!this.discover || this.discovering || Date.now() - this.lastDiscovery < DISCOVERY_INTERVAL_MS) return;
    this.discovering = true;
    this.lastDiscovery = Date.now();
    void this.refreshServers().catch(() => { /* keep the list we have */ }).finally(() => { this.discovering = false; });
  }

  /** Reads the `kubernetes` Endpoints and makes its addresses the known servers (the current one kept first). */
  async refreshServers(): Promise<string[]> {
    const res = await this.openOn(this.servers[this.current]!, { method: 'GET', path: ENDPOINTS_PATH, signal: AbortSignal.timeout(10_000) });
    const text = await readText(res);
    if (res.statusCode !== 200) return this.knownServers;
    const body = JSON.parse(text) as EndpointsBody;
    const found: URL[] = [];
    for (const subset of body.subsets ?? []) {
      const port = subset.ports?.find((p) => p.name === 'https')?.port ?? subset.ports?.[0]?.port;
      if (!port) continue;
      for (const a of subset.addresses ?? []) {
        if (a.ip) found.push(new URL(`${this.servers[0]!.protocol}//${a.ip.includes(':') ? `[${a.ip}]` : a.ip}:${port}`));
      }
    }
    if (found.length) {
      const current = this.servers[this.current]!;
      // The configured address (perhaps a name rather than an IP) stays as the first choice.
      this.servers = dedupe([current, ...found]);
      this.current = 0;
    }
    return this.knownServers;
  }

  close(): void { this.agent.destroy(); }
}

function dedupe(urls: URL[]): URL[] {
  const seen = new Set<string>();
  return urls.filter((u) => { const k = u.origin + u.pathname; if (seen.has(k)) return false; seen.add(k); return true; });
}

/** The whole body of a response as text; rejects if the signal aborts the read. */
export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

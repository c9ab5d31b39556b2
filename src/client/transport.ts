import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
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

/**
 * HTTP/1.1 to one API server over a keep-alive agent, so a controller's
 * thousand requests reuse a handful of TLS connections. Knows nothing of
 * Kubernetes beyond the auth header.
 */
export class Transport {
  private readonly base: URL;
  private readonly agent: HttpsAgent | HttpAgent;
  private readonly secure: boolean;
  private readonly headers: OutgoingHttpHeaders;

  constructor(config: ConnectionConfig, userAgent: string) {
    this.base = new URL(config.server);
    this.secure = this.base.protocol === 'https:';
    if (!this.secure && this.base.protocol !== 'http:') throw new Error(`unsupported server URL ${config.server}`);
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
  }

  get server(): string { return this.base.origin + this.base.pathname.replace(/\/$/, ''); }

  /** Sends a request; resolves with the response as soon as its headers arrive. */
  open(req: RawRequest): Promise<IncomingMessage> {
    const prefix = this.base.pathname.replace(/\/$/, '');
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
        protocol: this.base.protocol, hostname: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || undefined,
        method: req.method, path, headers, agent: this.agent, signal: req.signal,
      }, resolve);
      r.on('error', reject);
      r.end(req.body);
    });
  }

  close(): void { this.agent.destroy(); }
}

/** The whole body of a response as text; rejects if the signal aborts the read. */
export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The kubelet's API on :10250 (HTTPS): container logs, exec, attach and
 * port-forward (proxied to the container runtime's CRI streaming server), the
 * Summary API, /pods and /healthz — the endpoints the API server proxies
 * `pods/log`, `pods/exec`, `pods/attach`, `pods/portforward` and `nodes/proxy`
 * to. Only clients with a certificate from the cluster CA whose common name is
 * the API server's kubelet client (`kube-apiserver-kubelet-client`) may call it.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Status } from 'kubernetes-types/meta/v1';
import type { CriClient } from '../cri/client.js';
import { findContainer, findSandbox } from './containers.js';
import { spliceUpgrade, writeRawStatus } from './upgrade.js';
import { CriStatsProvider, type StatsProvider } from './stats.js';
import { containerLogInstances, podLogsDirectory } from '../logs/paths.js';
import { readContainerLogs } from '../logs/read.js';
import { LogOptionsError, parseLogOptions } from '../logs/options.js';
import { trackConnections } from '../../util/http-server.js';

export type KubeletServerRuntime = Pick<CriClient,
  'listPodSandbox' | 'listContainers' | 'exec' | 'attach' | 'portForward' | 'listContainerStats'>;

export interface KubeletServerOptions {
  runtime: KubeletServerRuntime;
  /** Root of the container logs, e.g. `<data-dir>/agent/pod-logs` (upstream: /var/log/pods). */
  podLogsDir: string;
  nodeName: string;
  /** Serving certificate (signed by the cluster CA for the node's IP and name) and the CA that signs client certificates. */
  tls: { certPem: string; keyPem: string; caPem: string };
  /** Listen address; `0.0.0.0` by default (upstream's `--address`). */
  address?: string;
  /** Listen port; 10250 by default, 0 for any free port. */
  port?: number;
  /** The pod as the kubelet knows it (from its informer), with its UID and containers. */
  getPod(namespace: string, name: string): Pod | undefined | Promise<Pod | undefined>;
  /** The pods bound to this node, for `/pods`. */
  listPods?(): Pod[] | Promise<Pod[]>;
  /** Source of `/stats/summary`; CRI + /proc by default. */
  stats?: StatsProvider;
  /** Client certificate common names allowed to call; the API server's kubelet client by default. */
  allowedClientNames?: string[];
  log?: (msg: string) => void;
}

export const DEFAULT_KUBELET_PORT = 10250;
export const KUBELET_CLIENT_NAME = 'kube-apiserver-kubelet-client';

/** A failure answered with a metav1.Status. */
class HttpError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) { super(message); }
  toStatus(): Status { return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code }; }
}
const badRequest = (m: string) => new HttpError(400, 'BadRequest', m);
const notFound = (m: string) => new HttpError(404, 'NotFound', m);

const truthy = (v: string | null) => v === '1' || v === 'true' || v === 'True';

export class KubeletServer {
  private server?: Server;
  private connections?: { close(): Promise<void> };
  private readonly stats: StatsProvider;
  private readonly allowed: Set<string>;
  private readonly log: (msg: string) => void;

  constructor(private readonly opts: KubeletServerOptions) {
    this.stats = opts.stats ?? new CriStatsProvider(opts.runtime, opts.nodeName);
    this.allowed = new Set(opts.allowedClientNames ?? [KUBELET_CLIENT_NAME]);
    this.log = opts.log ?? (() => {});
  }

  async start(): Promise<void> {
    const { tls } = this.opts;
    const server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => { void this.serve(req, res); });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { void this.serveUpgrade(req, socket, head); });
    this.connections = trackConnections(server);
    server.requestTimeout = 0; // `logs -f` streams for as long as the client wants
    server.headersTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? DEFAULT_KUBELET_PORT, this.opts.address ?? '0.0.0.0', () => { server.off('error', reject); resolve(); });
    });
    this.log(`kubelet: serving on ${this.opts.address ?? '0.0.0.0'}:${this.port}`);
  }

  get port(): number { return (this.server!.address() as AddressInfo).port; }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await this.connections?.close();
  }

  /** 401 without a certificate from the cluster CA, 403 for one not made out to an allowed client. */
  private authorize(req: IncomingMessage): void {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
    const cn = String(socket.getPeerCertificate()?.subject?.CN ?? '');
    if (!this.allowed.has(cn)) {
      throw new HttpError(403, 'Forbidden', `Forbidden (user=${cn}, verb=${(req.method ?? 'get').toLowerCase()}, resource=nodes, subresource=proxy)`);
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    try {
      if (url.pathname === '/healthz') { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); return; }
      this.authorize(req);
      if (req.method !== 'GET' && req.method !== 'HEAD' && !['exec', 'attach', 'portForward'].includes(parts[0])) {
        throw new HttpError(405, 'MethodNotAllowed', `method ${req.method} not allowed`);
      }
      switch (parts[0]) {
        case 'pods': return this.json(res, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: await this.opts.listPods?.() ?? [] });
        case 'stats':
          if (parts[1] === 'summary' && parts.length === 2) return this.json(res, await this.stats.summary());
          break;
        case 'containerLogs':
          if (parts.length === 4) return await this.containerLogs(req, res, url, parts[1], parts[2], parts[3]);
          break;
        case 'exec': case 'attach': case 'portForward':
          throw badRequest('Upgrade request required');
      }
      throw notFound('404 page not found');
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', err instanceof Error ? err.message : String(err));
      if (e.code === 500) this.log(`kubelet: ${req.method} ${req.url}: ${e.message}`);
      if (res.headersSent) { res.destroy(); return; }
      this.json(res, e.toStatus(), e.code);
    }
  }

  private json(res: ServerResponse, body: unknown, code = 200): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async pod(namespace: string, name: string): Promise<Pod> {
    const pod = await this.opts.getPod(namespace, name);
    if (!pod?.metadata?.uid) throw notFound(`pod "${namespace}/${name}" does not exist`);
    return pod;
  }

  // ---- logs -----------------------------------------------------------------

  private async containerLogs(req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, name: string, container: string): Promise<void> {
    const pod = await this.pod(namespace, name);
    const q = url.searchParams;
    let opts;
    try { opts = parseLogOptions(q); } catch (err) {
      if (err instanceof LogOptionsError) throw badRequest(err.message);
      throw err;
    }
    const dir = podLogsDirectory(this.opts.podLogsDir, namespace, name, pod.metadata!.uid!);
    const instances = await containerLogInstances(dir, container);
    const previous = truthy(q.get('previous'));
    const instance = previous ? instances[1] : instances[0];
    if (!instance) {
      if (previous) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
      const waiting = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
        .find((s) => s.name === container)?.state?.waiting?.reason;
      throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waiting ?? 'ContainerCreating'}`);
    }
    const follow = truthy(q.get('follow')) && !previous;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' });
    if (req.method === 'HEAD') { res.end(); return; }
    res.flushHeaders();
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    await readContainerLogs([...instance.rotated, instance.live], opts, res, follow ? {
      signal: abort.signal,
      // Running, and still the newest instance (a restart starts a new file and ends this stream, as upstream).
      stillRunning: async () => {
        const newest = (await containerLogInstances(dir, container))[0];
        if (newest?.restartCount !== instance.restartCount) return false;
        const c = await findContainer(this.opts.runtime, pod.metadata!.uid!, container).catch(() => undefined);
        return c?.state === 'CONTAINER_RUNNING';
      },
    } : undefined);
    res.end();
  }

  // ---- streaming ------------------------------------------------------------

  private async serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    try {
      this.authorize(req);
      const streamUrl = await this.streamingUrl(parts, url.searchParams);
      const backend = connect(Number(streamUrl.port), streamUrl.hostname);
      await Promise.race([once(backend, 'connect'), once(backend, 'error').then(([e]) => { throw e; })]);
      spliceUpgrade(req, socket, head, backend, `${streamUrl.pathname}${streamUrl.search}`, streamUrl.host);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', err instanceof Error ? err.message : String(err));
      if (e.code === 500) this.log(`kubelet: ${req.method} ${req.url}: ${e.message}`);
      writeRawStatus(socket, e.toStatus());
    }
  }

  /** Asks the runtime for a streaming session (CRI Exec, Attach or PortForward) and returns its URL. */
  private async streamingUrl(parts: string[], q: URLSearchParams): Promise<URL> {
    const [kind, namespace, name] = parts;
    // `/exec/{ns}/{pod}/{container}` or, as upstream also serves, `/exec/{ns}/{pod}/{uid}/{container}`.
    if (kind === 'portForward' && (parts.length === 3 || parts.length === 4)) {
      const pod = await this.pod(namespace, name);
      const sandbox = await findSandbox(this.opts.runtime, pod.metadata!.uid!);
      if (!sandbox || sandbox.state !== 'SANDBOX_READY') throw notFound(`pod "${namespace}/${name}" has no running sandbox`);
      const ports = q.getAll('port').map(Number).filter((p) => p > 0);
      return new URL(await this.opts.runtime.portForward(sandbox.id, ports));
    }
    if ((kind !== 'exec' && kind !== 'attach') || (parts.length !== 4 && parts.length !== 5)) throw notFound('404 page not found');
    const containerName = parts[parts.length - 1];
    const pod = await this.pod(namespace, name);
    const container = await findContainer(this.opts.runtime, pod.metadata!.uid!, containerName);
    if (!container) throw notFound(`container "${containerName}" not found in pod "${namespace}/${name}"`);
    if (container.state !== 'CONTAINER_RUNNING') throw badRequest(`container "${containerName}" in pod "${name}" is not running`);
    const tty = truthy(q.get('tty'));
    const stdin = truthy(q.get('stdin')), stdout = truthy(q.get('stdout')), stderr = truthy(q.get('stderr')) && !tty;
    if (!stdin && !stdout && !stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
    if (kind === 'attach') return new URL(await this.opts.runtime.attach({ containerId: container.id, stdin, stdout, stderr, tty }));
    const cmd = q.getAll('command');
    if (!cmd.length) throw badRequest('you must specify at least one command for the container');
    return new URL(await this.opts.runtime.exec({ containerId: container.id, cmd, stdin, stdout, stderr, tty }));
  }
}

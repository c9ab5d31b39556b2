import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Namespace } from 'kubernetes-types/core/v1';
import type { Store } from '../storage/store.js';
import { StatusError, badRequest, forbidden, internalError, notFound, pathNotFound, unauthorized } from '../api/status.js';
import { RESOURCES, findResource, type ResourceDefinition } from './resources.js';
import { parseRequestInfo } from './request-info.js';
import { ResourceRegistry, REGISTRY_ROOT, resourcePrefix } from './registry.js';
import { CacheSet } from './watch-cache.js';
import { strategyFor } from './strategies/index.js';
import { Discovery } from './discovery.js';
import { ResourceHandler } from './handlers/resource.js';
import { Authenticator, BOOTSTRAPPERS_GROUP, PUBLIC_PATHS, type UserInfo } from './authn.js';
import { ApiServerMetrics } from './metrics.js';
import { writeJson, writeStatusError } from './http.js';
import { servedOpenapiV2, servedOpenapiV3Document, servedOpenapiV3Index, type ServedDocument } from './openapi/documents.js';
import { BOSUN_VERSION, versionInfo } from '../version.js';
import { IpAllocator } from './allocation/ip-allocator.js';
import { PortAllocator } from './allocation/port-allocator.js';
import { ServiceAllocation } from './allocation/service-allocation.js';
import { ensureKubernetesService } from './allocation/kubernetes-service.js';
import { decodeStored } from './watch-cache.js';
import { defaultTolerationSeconds, DEFAULT_TOLERATION_SECONDS, type DefaultTolerationSecondsOptions } from './admission/default-toleration-seconds.js';
import { METRICS_GROUP, METRICS_RESOURCES, MetricsApi, Scraper } from '../metrics/index.js';
import { SELF_REVIEW_RESOURCES, serveSelfReview, servesSelfReview } from './handlers/self-review.js';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { Duplex } from 'node:stream';
import { PodStreamingHandler } from './handlers/pod-streaming.js';
import { KubeletConnector } from './handlers/node-proxy.js';
import { writeRawStatus } from '../kubelet/server/upgrade.js';

export interface ApiServerOptions {
  store: Store;
  bindAddress: string;
  port: number;
  tls: { certPem: string; keyPem: string; caPem: string };
  authenticator: Authenticator;
  /** Address advertised in discovery (`serverAddressByClientCIDRs`). */
  advertiseAddress?: string;
  /** DefaultTolerationSeconds admission for pods. */
  defaultTolerationSeconds?: DefaultTolerationSecondsOptions;
  /** Service CIDR, upstream's `--service-cluster-ip-range`; 10.43.0.0/16 by default (k3s' `--service-cidr`). */
  serviceClusterIpRange?: string;
  /** NodePort range, upstream's `--service-node-port-range`; 30000-32767 by default. */
  serviceNodePortRange?: string;
  /** Resource metrics (metrics.k8s.io, as metrics-server): scraped from kubelets with this client certificate. */
  metrics?: { kubeletClient: { certPem: string; keyPem: string }; resolutionMs?: number; insecureTLS?: boolean };
  /** The API server's client certificate towards kubelets (`ClusterPki.kubeletClient`), for pods/log, exec, attach, portforward and nodes/proxy; `metrics.kubeletClient` when absent. */
  kubeletClient?: { certPem: string; keyPem: string };
  /** Paths the server itself answers before authentication (`/cacerts`, server bootstrap); true when handled. */
  extraHandler?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;
  /** Paths answered after authentication, outside the REST API (node join); true when handled. */
  authenticatedHandler?: (req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo) => boolean | Promise<boolean>;
}

/** Upstream's repair controllers run every three minutes. */
const ALLOCATION_REPAIR_INTERVAL_MS = 3 * 60_000;

/** Namespaces that exist from the first start, as upstream's system namespaces controller makes them. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * The Kubernetes API server: HTTPS, authentication, discovery, OpenAPI and the
 * REST resources of `RESOURCES`, over one `Store` and one watch cache.
 */
export class ApiServer {
  readonly metrics = new ApiServerMetrics();
  readonly caches: CacheSet;
  private readonly registries = new Map<string, ResourceRegistry>();
  private readonly handler: ResourceHandler;
  private readonly discovery: Discovery;
  private server?: Server;
  private ready = false;
  private stopping = false;
  private readonly sockets = new Set<Socket>();
  readonly serviceAllocation: ServiceAllocation;
  private repairTimer?: NodeJS.Timeout;
  /** The metrics pipeline, when `options.metrics` is set. */
  readonly scraper?: Scraper;
  private readonly metricsApi?: MetricsApi;
  /** pods/log, exec, attach, portforward and nodes/proxy, through the kubelets. */
  private readonly streaming: PodStreamingHandler;

  constructor(private readonly options: ApiServerOptions) {
    this.caches = new CacheSet(options.store, REGISTRY_ROOT);
    this.serviceAllocation = new ServiceAllocation(
      new IpAllocator(options.store, options.serviceClusterIpRange),
      new PortAllocator(options.store, options.serviceNodePortRange),
      () => this.hostAddress(),
    );
    for (const def of RESOURCES) {
      const key = `${def.group}/${def.resource}`;
      if (this.registries.has(key)) continue;
      const storageDef = RESOURCES.find((d) => d.group === def.group && d.resource === def.resource && d.version === (def.storageVersion ?? def.version)) ?? def;
      const admission = def.group === '' && def.resource === 'pods' ? [defaultTolerationSeconds(options.defaultTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS)] : [];
      const hooks = def.group === '' && def.resource === 'services' ? this.serviceAllocation.hooks() : {};
      this.registries.set(key, new ResourceRegistry(storageDef, options.store, this.caches.cacheFor(resourcePrefix(def)), strategyFor(def.group, def.resource), (ns) => this.namespaceGate(ns), admission, hooks));
    }
    this.handler = new ResourceHandler((g, r) => this.registries.get(`${g}/${r}`), () => options.store.currentRevision());
    this.streaming = new PodStreamingHandler({
      getPod: async (ns, name) => await this.registry('', 'pods').get(ns, name) as unknown as Pod,
      getNode: async (name) => await this.registry('', 'nodes').get(undefined, name) as unknown as Node,
    }, new KubeletConnector({ caPem: options.tls.caPem, ...(options.kubeletClient ?? options.metrics?.kubeletClient) }));
    if (options.metrics) {
      const nodes = () => this.registry('', 'nodes').cache.list().map((o) => o.object as Node);
      const podCache = () => this.registry('', 'pods');
      this.scraper = new Scraper({
        listNodes: nodes, clientCertPem: options.metrics.kubeletClient.certPem, clientKeyPem: options.metrics.kubeletClient.keyPem,
        caPem: options.tls.caPem, resolutionMs: options.metrics.resolutionMs, insecureTLS: options.metrics.insecureTLS,
      });
      this.metricsApi = new MetricsApi({
        store: this.scraper.store, listNodes: nodes,
        listPods: (ns) => { const r = podCache(); return r.cache.list(ns ? r.keyFor(ns, '') : '').map((o) => o.object as Pod); },
      });
    }
    this.discovery = new Discovery(() => this.address(), [...SELF_REVIEW_RESOURCES, ...(this.metricsApi ? METRICS_RESOURCES : [])]);
  }

  registry(group: string, resource: string): ResourceRegistry {
    const r = this.registries.get(`${group}/${resource}`);
    if (!r) throw new Error(`no registry for ${resource}.${group}`);
    return r;
  }

  /** Creates are refused in a namespace that is missing (404) or being deleted (403), as upstream's admission does. */
  private async namespaceGate(namespace: string): Promise<void> {
    const namespaces = this.registry('', 'namespaces');
    const cached = namespaces.cache.get(namespaces.keyFor(undefined, namespace))?.object as Namespace | undefined;
    const ns = cached ?? await namespaces.get(undefined, namespace).catch(() => undefined) as Namespace | undefined;
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') {
      throw forbidden(`unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  async start(log: (msg: string) => void = () => {}): Promise<void> {
    await this.caches.start();
    await this.bootstrapNamespaces(log);
    await this.repairAllocations(log);
    const { tls } = this.options;
    this.server = createServer({
      cert: tls.certPem, key: tls.keyPem, ca: tls.caPem,
      requestCert: true, rejectUnauthorized: false,
      keepAliveTimeout: 120_000,
    }, (req, res) => { void this.serve(req, res); });
    // Track raw sockets: closeAllConnections() misses a connection whose TLS
    // handshake finishes after stop() began, and a watch on it would hold stop() forever.
    this.server.on('connection', (socket: Socket) => {
      if (this.stopping) { socket.destroy(); return; }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { void this.serveUpgrade(req, socket, head); });
    this.server.headersTimeout = 60_000;
    this.server.requestTimeout = 0; // watches are long-running
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port, this.options.bindAddress, () => resolve());
    });
    // The `kubernetes` Service targets the port we got, which a test server only knows now.
    await ensureKubernetesService(this.options.store, this.registry('', 'services'), this.registry('', 'endpoints'), this.serviceAllocation.ips.ipAt(0), this.hostAddress(), this.port, log);
    this.repairTimer = setInterval(() => { void this.repairAllocations(log).catch((err: unknown) => console.error('apiserver: allocation repair failed:', err)); }, ALLOCATION_REPAIR_INTERVAL_MS);
    this.repairTimer.unref();
    this.scraper?.start(log);
    this.ready = true;
  }

  address(): string {
    const addr = this.server?.address() as AddressInfo | null;
    return this.options.advertiseAddress ?? `${this.options.bindAddress}:${addr?.port ?? this.options.port}`;
  }

  get port(): number { return (this.server?.address() as AddressInfo).port; }

  get store(): Store { return this.options.store; }

  /** This server's own IP: what the `kubernetes` Endpoints and a LoadBalancer's ingress point at. */
  hostAddress(): string {
    const raw = this.options.advertiseAddress;
    // `address()` treats it as host:port; a bare IPv6 address has several colons and no port.
    const advertised = raw && (raw.startsWith('[') || raw.split(':').length === 2) ? raw.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') : raw;
    if (advertised) return advertised;
    const bind = this.options.bindAddress;
    return bind === '0.0.0.0' || bind === '::' || bind === '' ? '127.0.0.1' : bind;
  }

  private async repairAllocations(log: (msg: string) => void): Promise<void> {
    const services = this.registry('', 'services');
    const listed = await this.options.store.list(services.prefix);
    const stored = listed.items.map((kv) => decodeStored(kv.value, kv.modRevision));
    await this.serviceAllocation.repair(
      (ns, name) => services.get(ns, name).catch((err: unknown) => { if (err instanceof StatusError && err.code === 404) return undefined; throw err; }),
      stored, log,
    );
  }

  private async bootstrapNamespaces(log: (msg: string) => void): Promise<void> {
    const namespaces = this.registry('', 'namespaces');
    for (const name of SYSTEM_NAMESPACES) {
      if (await this.options.store.get(namespaces.keyFor(undefined, name))) continue;
      await namespaces.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { dryRun: false })
        .catch((err: unknown) => { if (!(err instanceof StatusError && err.code === 409)) throw err; });
      log(`created namespace ${name}`);
    }
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.stopping = true;
    clearInterval(this.repairTimer);
    await this.scraper?.stop();
    this.caches.close();
    if (this.server) {
      const server = this.server;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of this.sockets) socket.destroy();
      });
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'https://bosun');
    const info = parseRequestInfo(req.method ?? 'GET', url);
    const labels = { verb: info.verb || (req.method ?? '').toLowerCase(), group: info.group, resource: info.resource ?? '', subresource: info.subresource ?? '' };
    res.on('finish', () => {
      this.metrics.requests.inc({ ...labels, code: String(res.statusCode) });
      if (info.verb !== 'watch') this.metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    try {
      if (this.options.extraHandler && await this.options.extraHandler(req, res, url)) return;
      if (PUBLIC_PATHS.has(url.pathname) || url.pathname.startsWith('/livez') || url.pathname.startsWith('/readyz') || url.pathname.startsWith('/healthz')) {
        return this.serveHealth(res, url.pathname);
      }
      const user = this.options.authenticator.authenticate(req);
      if (!user) throw unauthorized();
      if (this.options.authenticatedHandler && await this.options.authenticatedHandler(req, res, url, user)) return;
      // A bootstrap token only lets a machine join (the handler above); it is not a cluster credential.
      if (user.groups.includes(BOOTSTRAPPERS_GROUP)) throw forbidden(`User "${user.name}" cannot ${info.verb || 'get'} path "${url.pathname}"`);
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
        res.end(await this.metrics.registry.metrics());
        return;
      }
      if (url.pathname.startsWith('/openapi/')) return this.serveOpenApi(req, res, url);
      if (!info.isResourceRequest) {
        if (this.discovery.serve(req, res, info.parts)) return;
        throw pathNotFound();
      }
      if (this.metricsApi && info.group === METRICS_GROUP) return this.metricsApi.serve(req, res, info, url);
      if (servesSelfReview(info)) return await serveSelfReview(req, res, info, user);
      const def = findResource(info.group, info.version, info.resource ?? '');
      if (!def) throw pathNotFound();
      if (PodStreamingHandler.handles(info)) return await this.streaming.serve(req, res, info, url);
      if (info.verb === 'watch') {
        const gauge = { verb: 'WATCH', group: def.group, resource: def.resource };
        this.metrics.watchers.inc(gauge);
        res.on('close', () => this.metrics.watchers.dec(gauge));
      }
      await this.handler.handle(req, res, info, def as ResourceDefinition, url);
    } catch (err) {
      if (err instanceof StatusError) return writeStatusError(res, err);
      console.error(`apiserver: ${req.method} ${req.url}:`, err);
      writeStatusError(res, internalError(err instanceof Error ? err.message : String(err)));
    }
  }

  /** Upgrade requests (SPDY/3.1, WebSocket): exec, attach, portforward and nodes/proxy, spliced through to a kubelet. */
  private async serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://bosun');
    const info = parseRequestInfo(req.method ?? 'GET', url);
    try {
      const user = this.options.authenticator.authenticate(req);
      if (!user) throw unauthorized();
      if (user.groups.includes(BOOTSTRAPPERS_GROUP)) throw forbidden(`User "${user.name}" cannot ${info.verb || 'get'} path "${url.pathname}"`);
      if (!PodStreamingHandler.handles(info)) throw badRequest(`upgrade requests are not supported on ${url.pathname}`);
      await this.streaming.serveUpgrade(req, socket, head, info, url);
    } catch (err) {
      const status = err instanceof StatusError ? err : internalError(err instanceof Error ? err.message : String(err));
      if (!(err instanceof StatusError)) console.error(`apiserver: upgrade ${req.method} ${req.url}:`, err);
      writeRawStatus(socket, status.toStatus());
    }
  }

  private serveHealth(res: ServerResponse, path: string): void {
    if (path === '/version') return writeJson(res, 200, versionInfo());
    const ok = this.ready || path.startsWith('/livez') || path.startsWith('/healthz');
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(ok ? 'ok' : `[-]bosun-ready failed: reason withheld\n${path} check failed`);
  }

  private serveOpenApi(req: IncomingMessage, res: ServerResponse, url: URL): void {
    let doc: ServedDocument | undefined;
    if (url.pathname === '/openapi/v2') doc = servedOpenapiV2();
    else if (url.pathname === '/openapi/v3') doc = servedOpenapiV3Index();
    else if (url.pathname.startsWith('/openapi/v3/')) doc = servedOpenapiV3Document(url.pathname.slice('/openapi/v3/'.length));
    if (!doc) throw pathNotFound();
    if (req.headers['if-none-match'] === doc.etag) { res.writeHead(304, { ETag: doc.etag }); res.end(); return; }
    res.setHeader('ETag', doc.etag);
    // A hash-addressed document never changes: clients may cache it for good.
    if (url.searchParams.has('hash')) res.setHeader('Cache-Control', 'public, immutable');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': doc.body.length });
    res.end(doc.body);
  }

}

export { BOSUN_VERSION };

/**
 * The subresources the API server answers by calling the pod's kubelet:
 * `pods/log` (a plain GET, streamed when following), `pods/exec`,
 * `pods/attach` and `pods/portforward` (upgrade requests, GET or POST, whose
 * upgraded stream is spliced through to the kubelet), and `nodes/proxy`.
 *
 * Streaming protocols. kubectl 1.32 first asks for a WebSocket with
 * `v5.channel.k8s.io` (exec/attach) or `SPDY/3.1+portforward.k8s.io`
 * (port-forward tunnelled in a WebSocket) and falls back to SPDY/3.1 when that
 * upgrade fails. containerd 1.6's streaming server speaks SPDY/3.1 and the v1–v4
 * WebSocket channel protocols only, so a WebSocket upgrade offering none of
 * those is refused here, before any runtime session is made, with a 400 that
 * makes kubectl fall back to SPDY at once. WebSocket clients speaking v4
 * (`@kubernetes/client-node`'s Exec, for one) are passed through unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node, Pod, Container } from 'kubernetes-types/core/v1';
import { StatusError, badRequest, methodNotAllowed } from '../../api/status.js';
import type { RequestInfo } from '../request-info.js';
import { isWebSocketUpgrade, offeredWebSocketProtocols } from '../../kubelet/server/upgrade.js';
import { LOG_QUERY_PARAMS, LogOptionsError, parseLogOptions } from '../../kubelet/logs/options.js';
import { KubeletConnector, kubeletLocation, nodeProxyTarget, pipeResponse, type KubeletLocation } from './node-proxy.js';

export interface StreamingLookup {
  /** The pod, or a 404 StatusError (`pods "x" not found`). */
  getPod(namespace: string, name: string): Promise<Pod>;
  /** The node, or a 404 StatusError. */
  getNode(name: string): Promise<Node>;
}

/** Subresources of pods served through the kubelet. */
const POD_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward']);

/** WebSocket subprotocols containerd 1.6's streaming server accepts (k8s.io/apiserver wsstream, v4 and older). */
const RUNTIME_CHANNEL_PROTOCOLS = new Set(['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io']);
const RUNTIME_PORTFORWARD_PROTOCOLS = new Set(['portforward.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io']);

const truthy = (v: string | null) => v === '1' || v === 'true' || v === 'True';

export class PodStreamingHandler {
  constructor(private readonly lookup: StreamingLookup, private readonly kubelets: KubeletConnector) {}

  /** True for the requests this handler serves. */
  static handles(info: RequestInfo): boolean {
    if (!info.isResourceRequest || info.group !== '' || info.version !== 'v1' || !info.name) return false;
    if (info.resource === 'pods') return !!info.namespace && POD_SUBRESOURCES.has(info.subresource ?? '');
    return info.resource === 'nodes' && info.subresource === 'proxy';
  }

  /** A plain (not upgrade) request. */
  async serve(req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL): Promise<void> {
    if (info.resource === 'nodes') {
      const { loc, path } = await this.nodeTarget(info, url);
      return this.kubelets.proxyRequest(loc, req, res, path);
    }
    if (info.subresource !== 'log') throw badRequest('Upgrade request required');
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
    return this.log(req, res, info, url);
  }

  /** An upgrade request (SPDY/3.1 or WebSocket). */
  async serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, info: RequestInfo, url: URL): Promise<void> {
    if (info.resource === 'nodes') {
      const { loc, path } = await this.nodeTarget(info, url);
      return this.kubelets.proxyUpgrade(loc, req, socket, head, path);
    }
    if (req.method !== 'GET' && req.method !== 'POST') throw methodNotAllowed();
    const sub = info.subresource;
    if (sub !== 'exec' && sub !== 'attach' && sub !== 'portforward') throw badRequest(`pods/${sub} does not accept upgrade requests`);
    refuseUnsupportedWebSocket(req, sub);
    const ns = info.namespace!, name = info.name!;
    const q = url.searchParams;
    const pod = await this.lookup.getPod(ns, name);
    const kubeletQuery = new URLSearchParams();
    let path: string;
    if (sub === 'portforward') {
      for (const p of q.getAll('ports')) kubeletQuery.append('port', p);
      path = `/portForward/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
    } else {
      const container = containerFor(pod, q.get('container'));
      const stdin = truthy(q.get('stdin')), stdout = truthy(q.get('stdout')), stderr = truthy(q.get('stderr')), tty = truthy(q.get('tty'));
      if (!stdin && !stdout && !stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
      if (sub === 'exec') {
        const command = q.getAll('command');
        if (!command.length) throw badRequest('you must specify at least one command for the container');
        for (const c of command) kubeletQuery.append('command', c);
      }
      // As upstream's API server asks the kubelet: booleans as "1".
      for (const [k, v] of [['stdin', stdin], ['stdout', stdout], ['stderr', stderr], ['tty', tty]] as const) if (v) kubeletQuery.set(k, '1');
      path = `/${sub}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
    }
    const loc = await this.podKubelet(pod);
    const query = kubeletQuery.toString();
    await this.kubelets.proxyUpgrade(loc, req, socket, head, query ? `${path}?${query}` : path);
  }

  private async log(req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL): Promise<void> {
    const q = url.searchParams;
    try { parseLogOptions(q); } catch (err) {
      if (err instanceof LogOptionsError) throw badRequest(err.message);
      throw err;
    }
    const pod = await this.lookup.getPod(info.namespace!, info.name!);
    const container = containerFor(pod, q.get('container'));
    const loc = await this.podKubelet(pod);
    const kubeletQuery = new URLSearchParams();
    for (const key of LOG_QUERY_PARAMS) {
      const v = q.get(key);
      if (v !== null && v !== '') kubeletQuery.set(key, v);
    }
    const query = kubeletQuery.toString();
    const path = `/containerLogs/${encodeURIComponent(info.namespace!)}/${encodeURIComponent(info.name!)}/${encodeURIComponent(container)}${query ? `?${query}` : ''}`;
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const upstream = await this.kubelets.request(loc, req.method ?? 'GET', path, {}, undefined, abort.signal);
    pipeResponse(upstream, res, upstream.statusCode === 200 ? { 'content-type': 'text/plain' } : {});
  }

  /** The kubelet of the node the pod is bound to. */
  private async podKubelet(pod: Pod): Promise<KubeletLocation> {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${pod.metadata?.name} does not have a host assigned`);
    return kubeletLocation(await this.lookup.getNode(nodeName));
  }

  private async nodeTarget(info: RequestInfo, url: URL): Promise<{ loc: KubeletLocation; path: string }> {
    const target = nodeProxyTarget(info, url);
    const node = await this.lookup.getNode(target.nodeName);
    return { loc: kubeletLocation(node, target.port), path: target.path };
  }
}

/**
 * The container a request means: the one named, or the only one. Upstream's
 * wording, which users search for.
 */
export function containerFor(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  const containers: Container[] = pod.spec?.containers ?? [];
  if (requested) {
    const all = [...containers, ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
    if (!all.some((c) => c.name === requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  if (containers.length === 1) return containers[0].name;
  if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
  let message = `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`;
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length) message += ` or one of the init containers: [${inits.map((c) => c.name).join(' ')}]`;
  const ephemeral = pod.spec?.ephemeralContainers ?? [];
  if (ephemeral.length) message += ` or one of the ephemeral containers: [${ephemeral.map((c) => c.name).join(' ')}]`;
  throw new StatusError(400, 'BadRequest', message);
}

/** See the module comment: a WebSocket the runtime cannot speak is refused so the client falls back to SPDY. */
function refuseUnsupportedWebSocket(req: IncomingMessage, sub: 'exec' | 'attach' | 'portforward'): void {
  if (!isWebSocketUpgrade(req)) return;
  const offered = offeredWebSocketProtocols(req);
  if (!offered.length) return; // the runtime's default channel protocol
  const supported = sub === 'portforward' ? RUNTIME_PORTFORWARD_PROTOCOLS : RUNTIME_CHANNEL_PROTOCOLS;
  if (offered.some((p) => supported.has(p))) return;
  throw badRequest(`websocket subprotocols [${offered.join(' ')}] are not supported by the node's container runtime; `
    + `supported: [${[...supported].join(' ')}] or SPDY/3.1`);
}

import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1';
import { Client, InformerFactory, nodes } from '../client/index.js';
import { parseTaints } from '../api/taints.js';
import { Kubelet } from '../kubelet/kubelet.js';
import { CriClient } from '../kubelet/cri/client.js';
import { KubeletServer, DEFAULT_KUBELET_PORT } from '../kubelet/server/server.js';
import { ContainerLogManager } from '../kubelet/logs/rotation.js';
import { Proxier } from '../proxy/index.js';
import { ClusterDnsServer } from '../dns/index.js';
import { startContainerd, type RunningContainerd } from './containerd.js';
import { ensureImages, PAUSE_IMAGE } from './images/index.js';
import { gatewayOf, writeCniConfig } from './cni.js';
import { routeClusterCidrs } from './routes.js';
import { NodeRoutes } from './node-routes.js';
import { ensurePodMasquerade } from './pod-masquerade.js';
import { joinCluster } from './join.js';
import { agentPreflight } from './preflight.js';
import type { AgentOptions } from './options.js';

export type { AgentOptions } from './options.js';

/** Where an agent keeps what it owns, under `<data-dir>/agent`. */
export function agentPaths(dataDir: string) {
  const dir = join(dataDir, 'agent');
  return {
    dir,
    containerd: join(dir, 'containerd'),
    cniConfDir: join(dir, 'etc', 'cni', 'net.d'),
    kubelet: join(dir, 'kubelet'),
    podLogs: join(dir, 'pod-logs'),
  };
}

/**
 * `bosun agent`: joins the cluster, runs containerd, the kubelet and its API,
 * the Service proxy and the node-local cluster DNS — k3s' agent in one process.
 * Stopping it leaves the pods running; a restarted agent adopts them.
 */
export class Agent {
  private readonly abort = new AbortController();
  private readonly log: (m: string) => void;
  private containerd?: RunningContainerd;
  private runtime?: CriClient;
  private client?: Client;
  private kubeletServer?: KubeletServer;
  private dns?: ClusterDnsServer;
  private logRotation?: ContainerLogManager;
  private readonly running: Array<Promise<unknown>> = [];
  kubelet?: Kubelet;
  /** The node's pod range, once node IPAM gave it one. */
  podCIDR?: string;

  constructor(readonly opts: AgentOptions) {
    this.log = opts.log ?? ((m) => console.log(`bosun-agent: ${m}`));
  }

  async start(): Promise<void> {
    const o = this.opts;
    const signal = this.abort.signal;
    // Every informer, worker and timer of the node listens on this one signal.
    setMaxListeners(0, signal);
    agentPreflight({ containerRuntimeEndpoint: o.containerRuntimeEndpoint });
    const paths = agentPaths(o.dataDir);
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });

    const joined = await joinCluster({ server: o.server, token: o.token, nodeName: o.nodeName, addresses: [o.nodeIP], dir: paths.dir });
    this.log(`joined ${o.server} as node ${o.nodeName}`);
    // discoverServers: with several servers the agent follows the `kubernetes` Endpoints and fails over (k3s' client-side balancer).
    const client = this.client = new Client({ ...joined.connection, qps: 0, userAgent: `bosun-agent/${o.nodeName}`, discoverServers: true });

    let endpoint = o.containerRuntimeEndpoint;
    if (!endpoint) {
      this.containerd = await startContainerd({
        stateDir: paths.containerd, cniConfDir: paths.cniConfDir, sandboxImage: PAUSE_IMAGE,
        plainHttpRegistries: o.plainHttpRegistries, log: this.log,
      });
      await ensureImages(this.containerd);
      endpoint = this.containerd.endpoint;
      this.log(`containerd running at ${endpoint}`);
    }
    const runtime = this.runtime = new CriClient({ endpoint });

    const kubelet = this.kubelet = new Kubelet({
      client, nodeName: o.nodeName, nodeIP: o.nodeIP, runtime,
      rootDir: paths.kubelet, podLogsDir: paths.podLogs,
      clusterDNS: [o.clusterDns ?? '10.43.0.10'], clusterDomain: o.clusterDomain ?? 'cluster.local',
      nodeLabels: o.nodeLabels, nodeTaints: (o.nodeTaints ?? []).flatMap((t) => parseTaints(t)),
      kubeletPort: o.kubeletPort ?? DEFAULT_KUBELET_PORT, log: (m) => this.log(`kubelet: ${m}`),
    });
    this.running.push(kubelet.run(signal).catch((err: unknown) => this.log(`kubelet stopped: ${String(err)}`)));

    this.kubeletServer = new KubeletServer({
      runtime, podLogsDir: paths.podLogs, nodeName: o.nodeName,
      tls: { certPem: joined.credentials.serving.certPem, keyPem: joined.credentials.serving.keyPem, caPem: joined.credentials.caPem },
      address: o.kubeletAddress ?? o.nodeIP, port: o.kubeletPort ?? DEFAULT_KUBELET_PORT,
      getPod: (ns, name) => kubelet.pod(ns, name),
      listPods: () => kubelet.pods(),
      log: (m) => this.log(`kubelet api: ${m}`),
    });
    await this.kubeletServer.start();
    // Container logs are rotated at 10 MiB, 5 kept (upstream's --container-log-max-size/-files).
    this.logRotation = new ContainerLogManager({ runtime, log: (m) => this.log(`logs: ${m}`) });
    this.logRotation.start();

    // Pods need the node's range before they can get addresses: node IPAM sets it once the kubelet registered the Node.
    const podCIDR = this.podCIDR = await this.waitForPodCidr(client, signal);
    const bridge = o.bridge ?? 'bosun0';
    await routeClusterCidrs({ bridge, clusterCidr: o.clusterCidr, serviceCidr: o.serviceCidr, podCIDR });
    // Pods keep their own address towards every pod of the cluster, here or on another node; the rest leaves NATed.
    await ensurePodMasquerade({ bridge, podCIDR, clusterCidr: o.clusterCidr ?? '10.42.0.0/16' });
    await writeCniConfig(paths.cniConfDir, { podCIDR, bridge, ipMasq: false });
    this.log(`pod network: ${podCIDR} on bridge ${bridge}`);

    const informers = new InformerFactory(client, { log: (m) => this.log(`informer: ${m}`) });
    if (!o.disableProxy) {
      const loopbackNode = o.nodeIP.startsWith('127.');
      const proxier = new Proxier({
        client, informers, nodeName: o.nodeName, nodeIPs: [o.nodeIP], clusterCIDR: o.clusterCidr ?? '10.42.0.0/16',
        localhostNodePorts: loopbackNode, chainPrefix: o.proxyChainPrefix, log: (m) => this.log(`proxy: ${m}`),
      });
      this.running.push(proxier.run(signal).catch((err: unknown) => this.log(`proxy stopped: ${String(err)}`)));
    }
    // Pods of other nodes: their ranges routed to their node addresses (host-gw).
    const nodeRoutes = new NodeRoutes({ informers, nodeName: o.nodeName, clusterCidr: o.clusterCidr ?? '10.42.0.0/16', log: (m) => this.log(`node routes: ${m}`) });
    this.running.push(nodeRoutes.run(signal).catch((err: unknown) => this.log(`node routes stopped: ${String(err)}`)));
    if (!o.disableDns) {
      this.dns = new ClusterDnsServer({
        client, informers, clusterDomain: o.clusterDomain, clusterDnsIP: o.clusterDns, upstreams: o.dnsUpstreams,
        log: (m) => this.log(`dns: ${m}`),
      });
    }
    informers.start(signal);
    if (this.dns) {
      const gateway = gatewayOf(podCIDR).ip;
      await this.dns.listen({ address: gateway, port: 53 });
      await this.dns.serveMetrics({ address: gateway, port: 9153 });
      await this.dns.registerEndpoint(o.nodeName, gateway);
      this.log(`cluster DNS on ${gateway}:53`);
    }
    this.log('ready');
  }

  private async waitForPodCidr(client: Client, signal: AbortSignal): Promise<string> {
    for (let delay = 200; !signal.aborted; delay = Math.min(delay * 2, 2000)) {
      let node: Node | undefined;
      try { node = await client.get(nodes, undefined, this.opts.nodeName); } catch { /* not registered yet */ }
      if (node?.spec?.podCIDR) return node.spec.podCIDR;
      await new Promise((r) => setTimeout(r, delay));
    }
    throw new Error('stopped before the node got a pod CIDR');
  }

  /** Stops the agent's processes and watches; pods and their network stay (a restarted agent adopts them). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.dns?.stop().catch(() => {});
    await this.logRotation?.stop();
    await this.kubeletServer?.stop().catch(() => {});
    await Promise.all(this.running);
    this.runtime?.close();
    await this.containerd?.stop();
    this.client?.close();
  }
}

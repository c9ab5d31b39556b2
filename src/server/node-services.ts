import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Client } from '../client/index.js';
import { ensureKubeDnsService } from '../dns/kube-dns-service.js';
import { startRegistry, type RunningRegistry } from '../registry/index.js';
import { AgentPreflightError } from '../agent/preflight.js';
import type { Agent } from '../agent/agent.js';
import { addressInCidr } from '../api/cidr.js';

/** The server-side flags of what makes the control plane a working one-machine cluster. */
export interface NodeServicesConfig {
  dataDir: string;
  disableAgent: boolean;
  /** --disable-registry: no image registry on 127.0.0.1:5000. */
  disableRegistry?: boolean;
  registryPort?: number;
  /** --node-name, --node-ip, --node-label, --node-taint of the embedded agent. */
  nodeName?: string;
  nodeIp?: string;
  nodeLabels?: Record<string, string>;
  nodeTaints?: string[];
  clusterCidr?: string;
  serviceCidr?: string;
  /** --cluster-dns: the kube-dns Service address (the service CIDR's 10th address). */
  clusterDns?: string;
  clusterDomain?: string;
  /** Resolvers the cluster DNS forwards to (default: the host's). */
  dnsUpstreams?: string[];
}

/** The kube-dns address for a service CIDR: its 10th address (10.43.0.10), as k3s picks. */
export function defaultClusterDns(serviceCidr = '10.43.0.0/16'): string {
  return addressInCidr(serviceCidr, 10);
}

/**
 * What `bosun server` adds to the control plane, as k3s' server does: the
 * image registry, the cluster DNS add-on's Service, and the node agent in
 * the same process. None of them may take the API down: each failure is
 * logged with what to do, and the control plane keeps running.
 */
export class NodeServices {
  private registry?: RunningRegistry;
  agent?: Agent;
  private agentStarting?: Promise<void>;
  private client?: Client;

  constructor(private readonly config: NodeServicesConfig, private readonly log: (m: string) => void) {}

  async start(opts: { client: Client; serverUrl: string; token: string; bindAddress: string }): Promise<void> {
    const { config, log } = this;
    this.client = opts.client;
    const clusterDns = config.clusterDns ?? defaultClusterDns(config.serviceCidr);
    await ensureKubeDnsService(opts.client, { clusterIP: clusterDns, log })
      .catch((err: unknown) => log(`kube-dns Service: ${err instanceof Error ? err.message : String(err)}`));
    if (!config.disableRegistry) {
      try {
        // Like every listener of a server, on --bind-address: three servers on 127.0.0.1/.2/.3 each have their own.
        this.registry = await startRegistry({ dataDir: join(config.dataDir, 'server', 'registry'), address: opts.bindAddress, port: config.registryPort ?? 5000, log });
        log(`image registry at ${this.registry.url} (push images as ${this.registry.host}/NAME:TAG)`);
      } catch (err) {
        log(`image registry not started: ${err instanceof Error ? err.message : String(err)} (install docker-registry, or pass --disable-registry)`);
      }
    }
    if (config.disableAgent) return;
    const { Agent } = await import('../agent/agent.js');
    const agent = this.agent = new Agent({
      server: opts.serverUrl, token: opts.token, dataDir: config.dataDir,
      nodeName: (config.nodeName ?? hostname()).toLowerCase(),
      nodeIP: config.nodeIp ?? (opts.bindAddress === '0.0.0.0' ? '127.0.0.1' : opts.bindAddress),
      nodeLabels: { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/master': 'true', ...config.nodeLabels },
      nodeTaints: config.nodeTaints,
      clusterCidr: config.clusterCidr, serviceCidr: config.serviceCidr, clusterDns, clusterDomain: config.clusterDomain,
      dnsUpstreams: config.dnsUpstreams,
      plainHttpRegistries: [...new Set(['127.0.0.1:5000', ...(this.registry ? [this.registry.host] : [])])],
      log: (m) => log(`agent: ${m}`),
    });
    // The API is up already; the node comes up beside it (it waits for node IPAM, which needs the controller-manager).
    this.agentStarting = agent.start().catch((err: unknown) => {
      if (err instanceof AgentPreflightError) log(`${err.message}\nbosun: running the control plane only (pass --disable-agent to silence this)`);
      else log(`the node agent failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}; running the control plane only`);
      this.agent = undefined;
    });
  }

  /** Resolves when the embedded agent is ready (or gave up). */
  async agentReady(): Promise<Agent | undefined> {
    await this.agentStarting;
    return this.agent;
  }

  async stop(): Promise<void> {
    await this.agentStarting;
    await this.agent?.stop().catch((err: unknown) => this.log(`agent stop: ${String(err)}`));
    await this.registry?.stop();
    this.client?.close();
  }
}

/**
 * A one-node cluster for e2e tests (root): an in-process server with the
 * scheduler and controllers, and an in-process `bosun agent` joined to it —
 * containerd, kubelet and its API, proxy, DNS. Addresses come from ranges of
 * the test's own (a /24 of pods, a /24 of services, its own bridge and
 * iptables chain prefix), so it never meets the default 10.42/10.43 cluster
 * of a running `bosun server` nor another test run in parallel. Everything is
 * removed when the test ends, failed or not.
 *
 * ```ts
 * const c = await startAgentCluster(t, 'svc');
 * await c.nodeReady();
 * await c.kubectl(['apply', '-f', '-'], manifest);
 * ```
 */
import type { TestContext } from 'node:test';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1';
import { Client, nodes } from '../../src/client/index.js';
import { Agent, type AgentOptions } from '../../src/agent/agent.js';
import { killAll } from '../../src/agent/uninstall.js';
import { ensureKubeDnsService } from '../../src/dns/index.js';
import { defaultControlLoops } from '../../src/server/control-loops.js';
import { freePort, startTestServer, type TestServer } from './server.js';
import { sh } from './netns.js';
import { eventually } from '../controllers/env.js';

export interface AgentCluster {
  server: TestServer;
  admin: Client;
  /** The running agent (replaced by `restartAgent`). */
  agent: Agent;
  agentOptions: AgentOptions & Required<Pick<AgentOptions, 'bridge' | 'clusterCidr' | 'serviceCidr' | 'clusterDns' | 'proxyChainPrefix'>>;
  /** Third octet of the test's ranges: pods 10.42.o.0/24, services 10.43.o.0/24. */
  octet: number;
  nodeName: string;
  dataDir: string;
  /** The agent's log lines (printed at the end with BOSUN_TEST_LOGS=1). */
  logs: string[];
  kubectl: TestServer['kubectl'];
  /** The Node once Ready. */
  nodeReady(timeoutMs?: number): Promise<Node>;
  /** Stops the agent and starts a new one with the same options (pods keep running). */
  restartAgent(): Promise<void>;
  /** Stops the agent and removes its pods, rules, routes and bridge (`bosun killall`); idempotent. */
  killAll(): Promise<void>;
}

/** A third octet in [from, from+50) whose 10.42.o and 10.43.o appear nowhere in the host's addresses or routes. */
export async function freeOctet(from: number): Promise<number> {
  const used = await sh(['ip', '-4', 'addr']) + await sh(['ip', '-4', 'route', 'show', 'table', 'all']);
  for (let i = 0; i < 50; i++) {
    const o = from + ((process.pid + i * 7) % 50);
    if (!used.includes(`10.42.${o}.`) && !used.includes(`10.43.${o}.`)) return o;
  }
  throw new Error(`no free 10.42.o.0/24 with o in ${from}–${from + 49}`);
}

/**
 * Starts the server and the agent; registers their removal with `t.after`.
 * `area` (two letters are used) tells apart the bridges and chains of tests running at once.
 */
export async function startAgentCluster(t: TestContext, area: string, opts: { octetFrom?: number } = {}): Promise<AgentCluster> {
  const octet = await freeOctet(opts.octetFrom ?? 50);
  const clusterCidr = `10.42.${octet}.0/24`, serviceCidr = `10.43.${octet}.0/24`, clusterDns = `10.43.${octet}.10`;
  const server = await startTestServer({
    controlLoops: defaultControlLoops({ disableScheduler: false, disableControllerManager: false, controllerManager: { nodeIpam: { clusterCidr } } }),
    config: { serviceCidr },
  });
  const dataDir = await mkdtemp(join(tmpdir(), `bosun-${area}-`));
  const tag = area.slice(0, 2);
  const bridge = `b${tag}${process.pid % 100000}`, proxyChainPrefix = `${tag.toUpperCase()}${process.pid % 10000}`;
  const nodeName = `e2e-${area}-${process.pid}`;
  const logs: string[] = [];
  let agent: Agent | undefined;
  let admin: Client | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await agent?.stop().catch(() => {});
    await killAll({ dataDir, bridge, clusterCidr, serviceCidr, proxyChainPrefix });
  };
  t.after(async () => {
    await cleanup();
    await killAll({ dataDir, bridge, clusterCidr, serviceCidr, proxyChainPrefix, removeData: true });
    admin?.close();
    await server.stop();
    if (process.env.BOSUN_TEST_LOGS) console.error(logs.join('\n'));
  });

  const token = (await readFile(join(server.dataDir, 'server/token'), 'utf8')).trim();
  admin = await Client.fromKubeconfig(server.kubeconfig, { qps: 0 });
  await ensureKubeDnsService(admin, { clusterIP: clusterDns });
  const agentOptions = {
    server: server.url, token, dataDir, nodeName, nodeIP: '127.0.0.1', kubeletPort: await freePort(), bridge, clusterCidr, serviceCidr, clusterDns,
    proxyChainPrefix, dnsUpstreams: ['127.0.0.1:1'], log: (m: string) => logs.push(m),
  };
  agent = new Agent(agentOptions);
  await agent.start();

  const cluster: AgentCluster = {
    server, admin, agent, agentOptions, octet, nodeName, dataDir, logs,
    kubectl: server.kubectl,
    nodeReady: (timeoutMs = 60_000) => eventually('node Ready', async () => {
      const n: Node = await admin!.get(nodes, undefined, nodeName);
      return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : undefined;
    }, timeoutMs),
    async restartAgent() {
      await agent!.stop();
      agent = cluster.agent = new Agent(agentOptions);
      await agent.start();
    },
    killAll: cleanup,
  };
  return cluster;
}

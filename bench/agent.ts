/**
 * The whole node agent's footprint, as `bosun agent` runs on a machine:
 *   npm run bench -- agent [--pods 50]
 * A server (child process) and `bosun agent` (child process, the compiled
 * build) with its own containerd, bridge and chains; RSS of the agent process
 * (kubelet + kubelet API + proxy + DNS) and of its containerd, idle and with
 * N running pods. Cleans up with `bosun uninstall`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Node } from 'kubernetes-types/core/v1';
import { Client, deployments, nodes, pods } from '../src/client/index.js';
import { BUSYBOX_IMAGE } from '../src/agent/images/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmRSS of a process in MiB. */
function rssMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pods: { type: 'string' } } });
  const count = Number(values.pods ?? 50);
  const { freePort, spawnServer, stopProcess } = await import('../test/helpers/server.js');
  const { eventually } = await import('../test/controllers/env.js');
  const root = join(import.meta.dirname, '..');
  const compiled = existsSync(join(root, 'dist/src/cli/main.js'));
  const cli = compiled ? [join(root, 'dist/src/cli/main.js')] : ['--import', 'tsx', join(root, 'src/cli/main.ts')];
  // As bin/bosun runs the agent.
  const agentFlags = ['--max-semi-space-size=2'];
  const dir = await mkdtemp(join(tmpdir(), 'bosun-bench-agent-'));
  const bridge = `bsb${process.pid % 100000}`;
  const octet = 40 + (process.pid % 10);
  const clusterCidr = `10.42.${octet}.0/24`, serviceCidr = `10.43.${octet}.0/24`;
  const server = await spawnServer(join(dir, 'server'), await freePort(), ['--cluster-cidr', clusterCidr, '--service-cidr', serviceCidr], { compiled });
  const client = await Client.fromKubeconfig(server.kubeconfig, { qps: 0 });
  const token = (await readFile(join(dir, 'server', 'server', 'token'), 'utf8')).trim();
  const nodeName = `bench-agent-${process.pid}`;
  const agentDir = join(dir, 'agent-data');
  let agent: ChildProcess | undefined;
  try {
    agent = spawn(process.execPath, [...agentFlags, ...cli, 'agent', '--server', `https://127.0.0.1:${server.port}`, '--token', token,
      '--data-dir', agentDir, '--node-name', nodeName, '--bridge', bridge, '--kubelet-port', String(await freePort()),
      '--cluster-cidr', clusterCidr, '--service-cidr', serviceCidr, '--cluster-dns', `10.43.${octet}.10`], { stdio: ['ignore', 'ignore', 'inherit'] });
    await eventually('node Ready', async () => {
      const n: Node = await client.get(nodes, undefined, nodeName);
      return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : undefined;
    }, 120_000, 250);
    await sleep(10_000);
    const containerdPid = Number(await readFile(join(agentDir, 'agent', 'containerd', 'containerd.pid'), 'utf8'));
    const idle = { agent: rssMiB(agent.pid), containerd: rssMiB(containerdPid) };

    const started = Date.now();
    const dep: Deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sleepers', namespace: 'default' },
      spec: {
        replicas: count, selector: { matchLabels: { app: 'sleepers' } },
        template: {
          metadata: { labels: { app: 'sleepers' } },
          spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'sleep', image: BUSYBOX_IMAGE, command: ['sleep', '3600'] }] },
        },
      },
    };
    await client.create(deployments, dep);
    await eventually(`${count} pods Running`, async () => {
      const list = (await client.list(pods, { namespace: 'default', labelSelector: 'app=sleepers' })).items;
      return list.filter((p) => p.status?.phase === 'Running').length === count ? true : undefined;
    }, 600_000, 250);
    const allRunningMs = Date.now() - started;
    await sleep(10_000);
    const loaded = { agent: rssMiB(agent.pid), containerd: rssMiB(containerdPid) };
    console.log(JSON.stringify({
      bench: 'agent', pods: count, allRunningMs,
      rssMiB: { idle, [`with${count}Pods`]: loaded },
      conditions: {
        agent: `bosun agent child process (${compiled ? 'compiled dist/' : 'tsx'}, ${agentFlags.join(' ')} as bin/bosun): kubelet, kubelet API, proxy, DNS, log rotation; containerd its own child`,
        server: 'bosun server child process (SQLite, scheduler, controllers)', image: BUSYBOX_IMAGE, cpus: cpus().length, loadAverage1m: loadavg()[0],
      },
    }));
    await client.delete(deployments, 'default', 'sleepers').catch(() => {});
  } finally {
    if (agent) await stopProcess(agent);
    client.close();
    await stopProcess(server.child);
    await new Promise<void>((resolve) => {
      spawn(process.execPath, [...cli, 'uninstall', '--data-dir', agentDir, '--bridge', bridge, '--cluster-cidr', clusterCidr, '--service-cidr', serviceCidr], { stdio: 'ignore' })
        .on('exit', () => resolve());
    });
    await rm(dir, { recursive: true, force: true });
  }
}

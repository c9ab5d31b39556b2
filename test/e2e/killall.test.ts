import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { Client, nodes, pods } from '../../src/client/index.js';
import { ownRulesLeft } from '../../src/proxy/index.js';
import { linkExists } from '../../src/agent/routes.js';
import { BUSYBOX_IMAGE } from '../../src/agent/images/index.js';
import { pidFileOf } from '../../src/server/data-dir.js';
import { defaultControlLoops } from '../../src/server/control-loops.js';
import { freePort, startTestServer } from '../helpers/server.js';
import { freeOctet } from '../helpers/agent-cluster.js';
import { eventually } from '../controllers/env.js';

const root = join(import.meta.dirname, '../..');
const cli = ['--import', 'tsx', join(root, 'src/cli/main.ts')];

/** Processes (containerd, shims, the agent) whose command line names `dir`. */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(dir)) found.push(`${pid} ${cmd}`);
    } catch { /* exited meanwhile */ }
  }
  return found;
}

/**
 * k3s users run `k3s-killall.sh` with k3s still running; `bosun killall` must
 * do the same job: stop the running `bosun agent` first (or its kubelet would
 * start the pods again), then every container, the bridge and the rules.
 */
test('bosun killall stops a running agent, then its pods, bridge and proxy rules', { timeout: 180_000 }, async (t) => {
  const octet = await freeOctet(150);
  const clusterCidr = `10.42.${octet}.0/24`, serviceCidr = `10.43.${octet}.0/24`;
  const server = await startTestServer({
    controlLoops: defaultControlLoops({ disableScheduler: false, disableControllerManager: false, controllerManager: { nodeIpam: { clusterCidr } } }),
    config: { serviceCidr },
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'bosun-killall-'));
  const bridge = `bka${process.pid % 100000}`, prefix = `KA${process.pid % 10000}`;
  const nodeName = `e2e-killall-${process.pid}`;
  const netFlags = ['--bridge', bridge, '--cluster-cidr', clusterCidr, '--service-cidr', serviceCidr, '--proxy-chain-prefix', prefix];
  const admin = await Client.fromKubeconfig(server.kubeconfig, { qps: 0 });
  let agent: ChildProcess | undefined;
  let output = '';
  t.after(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) { agent.kill('SIGKILL'); await once(agent, 'exit'); }
    const un = spawn(process.execPath, [...cli, 'uninstall', '--data-dir', dataDir, ...netFlags], { stdio: 'ignore' });
    await once(un, 'exit');
    await rm(dataDir, { recursive: true, force: true });
    admin.close();
    await server.stop();
  });

  const token = (await readFile(join(server.dataDir, 'server/token'), 'utf8')).trim();
  agent = spawn(process.execPath, [...cli, 'agent', '--server', server.url, '--token', token, '--data-dir', dataDir,
    '--node-name', nodeName, '--kubelet-port', String(await freePort()), '--cluster-dns', `10.43.${octet}.10`, '--disable-dns', ...netFlags],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  agent.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = once(agent, 'exit');

  await eventually('node Ready', async () => {
    const n: Node = await admin.get(nodes, undefined, nodeName).catch(() => ({}));
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : undefined;
  }, 120_000, 250).catch((err: Error) => { throw new Error(`${err.message}\n${output}`); });
  assert.equal(readFileSync(pidFileOf(dataDir, 'agent'), 'utf8').trim(), String(agent.pid), 'the agent records its pid');

  await admin.create(pods, {
    metadata: { name: 'sleeper', namespace: 'default' },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'sleep', image: BUSYBOX_IMAGE, command: ['sleep', '3600'] }] },
  });
  await eventually('pod Running', async () => {
    const p: Pod = await admin.get(pods, 'default', 'sleeper');
    return p.status?.phase === 'Running' ? p : undefined;
  }, 60_000, 250);
  assert.ok(processesUsing(dataDir).some((p) => p.includes('containerd-shim')), 'the pod runs under a shim of the agent\'s containerd');
  assert.equal(await linkExists(bridge), true);

  const killall = spawn(process.execPath, [...cli, 'killall', '--data-dir', dataDir, ...netFlags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  killall.stdout!.on('data', (d: Buffer) => { said += d.toString(); });
  killall.stderr!.on('data', (d: Buffer) => { said += d.toString(); });
  const [code] = await once(killall, 'exit') as [number];
  assert.equal(code, 0, said);
  assert.match(said, new RegExp(`stopping bosun agent \\(pid ${agent.pid}\\)`));
  await exited;
  assert.match(output, /SIGTERM: stopping/, 'the agent shut down on its own signal handler');

  assert.deepEqual(processesUsing(dataDir), [], 'no agent, containerd or shim is left');
  assert.equal(existsSync(pidFileOf(dataDir, 'agent')), false, 'the pid file went with the agent');
  assert.equal(await linkExists(bridge), false, 'the bridge is gone');
  assert.deepEqual(await ownRulesLeft(prefix), [], 'no iptables chain of the agent is left');
});

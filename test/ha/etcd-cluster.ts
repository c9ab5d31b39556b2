/**
 * A throwaway three-member etcd cluster (Debian's /usr/bin/etcd) on
 * 127.0.0.1/.2/.3, plain HTTP, for benchmarks that compare one member with
 * three: every write is committed by two members' fsyncs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/server.js';

export interface EtcdCluster { endpoints: string[]; stop(): Promise<void> }

export async function startEtcdCluster(): Promise<EtcdCluster> {
  const root = await mkdtemp(join(tmpdir(), 'bosun-etcd3-'));
  const clientPort = await freePort(), peerPort = await freePort();
  const ips = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  const initial = ips.map((ip, i) => `m${i}=http://${ip}:${peerPort}`).join(',');
  const children: ChildProcess[] = ips.map((ip, i) => spawn('/usr/bin/etcd', [
    '--name', `m${i}`, '--data-dir', join(root, `m${i}`),
    '--listen-client-urls', `http://${ip}:${clientPort}`, '--advertise-client-urls', `http://${ip}:${clientPort}`,
    '--listen-peer-urls', `http://${ip}:${peerPort}`, '--initial-advertise-peer-urls', `http://${ip}:${peerPort}`,
    '--initial-cluster', initial, '--initial-cluster-state', 'new',
    '--heartbeat-interval', '200', '--election-timeout', '2000', '--logger', 'zap', '--log-level', 'error',
  ], { stdio: 'ignore' }));
  const endpoints = ips.map((ip) => `http://${ip}:${clientPort}`);
  const stop = async () => {
    await Promise.all(children.map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) return r();
      c.once('exit', () => r());
      c.kill('SIGKILL');
    })));
    await rm(root, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await Promise.all(endpoints.map((e) => fetch(`${e}/health`, { signal: AbortSignal.timeout(1000) })
      .then(async (r) => ((await r.json()) as { health?: string }).health === 'true', () => false)));
    if (ok.every(Boolean)) break;
    if (Date.now() > deadline) { await stop(); throw new Error('three-member etcd did not become healthy'); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { endpoints, stop };
}

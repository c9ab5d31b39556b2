/**
 * Three `bosun server` processes on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (all
 * loopback on Linux), each with its own data dir and embedded etcd member:
 * the first with `--cluster-init`, the others joining it with `--server` and
 * the token. One port number for each listener, the same on all three
 * addresses, as three machines would have.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../helpers/server.js';

const run = promisify(execFile);

export interface HaServer {
  ip: string;
  dataDir: string;
  url: string;
  proc?: ServerProcess;
  /** The flags it was started with, to restart it the same way. */
  args: string[];
}

export interface HaCluster {
  root: string;
  port: number;
  etcdClientPort: number;
  servers: HaServer[];
  token: string;
  start(s: HaServer): Promise<void>;
  /** kill -9 of the server process (its etcd member dies with it: parent-death signal). */
  kill(s: HaServer): Promise<void>;
  /** etcdctl against one member with that server's client certificate. */
  etcdctl(s: HaServer, args: string[]): Promise<string>;
  /** Pid of a server's etcd child. */
  etcdPid(s: HaServer): Promise<number | undefined>;
  stop(): Promise<void>;
}

export const IPS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

export async function startHaCluster(opts: { extraArgs?: string[]; compiled?: boolean } = {}): Promise<HaCluster> {
  const root = await mkdtemp(join(tmpdir(), 'bosun-ha-'));
  const port = await freePort(), etcdClientPort = await freePort(), etcdPeerPort = await freePort();
  const common = ['--etcd-client-port', String(etcdClientPort), '--etcd-peer-port', String(etcdPeerPort), '--etcd-disable-snapshots', ...(opts.extraArgs ?? [])];
  const servers: HaServer[] = IPS.map((ip, i) => ({ ip, dataDir: join(root, `server-${i + 1}`), url: `https://${ip}:${port}`, args: ['--bind-address', ip, ...common] }));
  const cluster: HaCluster = {
    root, port, etcdClientPort, servers, token: '',
    async start(s) {
      s.proc = await spawnServer(s.dataDir, port, s.args, { compiled: opts.compiled });
    },
    async kill(s) {
      if (s.proc) await stopProcess(s.proc.child, 'SIGKILL');
      // The member's etcd exits on its parent's death; wait for it so its ports are free.
      for (let i = 0; i < 100 && await cluster.etcdPid(s) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
    },
    async etcdctl(s, args) {
      const tls = join(s.dataDir, 'server', 'tls', 'etcd');
      const { stdout } = await run('etcdctl', ['--endpoints', `https://${s.ip}:${etcdClientPort}`, '--cacert', join(tls, 'server-ca.crt'),
        '--cert', join(tls, 'client.crt'), '--key', join(tls, 'client.key'), '--command-timeout', '10s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
      return stdout;
    },
    async etcdPid(s) {
      const { stdout } = await run('pgrep', ['-f', '--', `--data-dir ${join(s.dataDir, 'server', 'db', 'etcd')} `]).catch(() => ({ stdout: '' }));
      const pid = Number(stdout.trim().split('\n')[0]);
      return pid > 0 ? pid : undefined;
    },
    async stop() {
      await Promise.all(servers.map(async (s) => { if (s.proc) await stopProcess(s.proc.child, 'SIGKILL').catch(() => {}); }));
      for (const s of servers) {
        const pid = await cluster.etcdPid(s);
        if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    servers[0]!.args.push('--cluster-init');
    await cluster.start(servers[0]!);
    cluster.token = (await readFile(join(servers[0]!.dataDir, 'server', 'token'), 'utf8')).trim();
    for (const s of servers.slice(1)) {
      s.args.push('--server', servers[0]!.url, '--token', cluster.token);
      await cluster.start(s);
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

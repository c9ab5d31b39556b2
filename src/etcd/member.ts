import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { arch } from 'node:os';
import { join } from 'node:path';
import type { EtcdTlsFiles } from './pki.js';
import { terminateChild } from '../util/child-process.js';

/** How one embedded etcd member runs. */
export interface EtcdMemberConfig {
  name: string;
  /** `<data-dir>/server/db/etcd`. */
  dataDir: string;
  /** Address every listener binds to and advertises. */
  address: string;
  clientPort: number;
  peerPort: number;
  tls: EtcdTlsFiles;
  /** `name=https://peer,...`; ignored by etcd once the data dir holds a member. */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  /** More flags for the next launch (`--force-new-cluster` for a reset). */
  extraArgs?: string[];
  binary?: string;
}

const bracket = (host: string) => (host.includes(':') ? `[${host}]` : host);
export const clientUrl = (address: string, port: number): string => `https://${bracket(address)}:${port}`;
export const peerUrl = (address: string, port: number): string => `https://${bracket(address)}:${port}`;

/** Whether `dir` already holds an etcd member's data (a restart, not a first start). */
export const hasMemberData = (dir: string): boolean => existsSync(join(dir, 'member', 'wal'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One etcd member as a supervised child process (Debian's `/usr/bin/etcd`).
 * It is started under `setpriv --pdeathsig KILL` so that it dies with the
 * server, as k3s' in-process etcd does, and restarted if it exits on its own.
 */
export class EtcdMember {
  private child?: ChildProcess;
  private stopping = false;
  private log?: WriteStream;
  private restarts = 0;

  constructor(readonly config: EtcdMemberConfig, private readonly say: (m: string) => void) {}

  get clientURL(): string { return clientUrl(this.config.address, this.config.clientPort); }
  get peerURL(): string { return peerUrl(this.config.address, this.config.peerPort); }
  get pid(): number | undefined { return this.child?.pid; }

  private args(): string[] {
    const c = this.config, t = c.tls;
    return [
      '--name', c.name,
      '--data-dir', c.dataDir,
      '--listen-client-urls', this.clientURL,
      '--advertise-client-urls', this.clientURL,
      '--listen-peer-urls', this.peerURL,
      '--initial-advertise-peer-urls', this.peerURL,
      '--initial-cluster', c.initialCluster,
      '--initial-cluster-state', c.initialClusterState,
      '--trusted-ca-file', t.caFile, '--cert-file', t.serverCertFile, '--key-file', t.serverKeyFile, '--client-cert-auth',
      '--peer-trusted-ca-file', t.caFile, '--peer-cert-file', t.peerCertFile, '--peer-key-file', t.peerKeyFile, '--peer-client-cert-auth',
      // Between etcd's defaults (100/1000 ms) and k3s' (500/5000 ms): a busy machine causes
      // no needless elections, and losing the leader's member costs 2-4 s of writes, not 5-10 s.
      '--heartbeat-interval', '200', '--election-timeout', '2000',
      '--snapshot-count', '10000',
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'warn',
      ...(c.extraArgs ?? []),
    ];
  }

  /** Starts the member and waits until it answers /health (it has a leader). */
  async start(timeoutMs = 60_000): Promise<void> {
    this.stopping = false;
    this.log ??= createWriteStream(join(this.config.dataDir, '..', 'etcd.log'), { flags: 'a' });
    this.launch();
    await this.waitHealthy(timeoutMs);
  }

  private launch(): void {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (arch() !== 'x64') env.ETCD_UNSUPPORTED_ARCH = arch() === 'arm64' ? 'arm64' : arch();
    const binary = this.config.binary ?? process.env.ETCD_BIN ?? '/usr/bin/etcd';
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', binary, ...this.args()], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.pipe(this.log!, { end: false });
    child.stderr!.pipe(this.log!, { end: false });
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.restarts++;
      const delay = Math.min(10_000, 500 * this.restarts);
      this.say(`etcd member ${this.config.name} exited (${code ?? signal}); restarting in ${delay} ms`);
      setTimeout(() => { if (!this.stopping && this.child === child) this.launch(); }, delay).unref();
    });
  }

  /** etcd's /health over mutual TLS: true when the member serves with a leader. */
  async healthy(): Promise<boolean> {
    const t = this.config.tls;
    const [ca, cert, key] = await Promise.all([readFile(t.caFile), readFile(t.clientCertFile), readFile(t.clientKeyFile)]);
    return new Promise((resolve) => {
      const req = request(`${this.clientURL}/health`, { ca, cert, key, timeout: 2000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => { try { resolve(res.statusCode === 200 && (JSON.parse(body) as { health?: string }).health === 'true'); } catch { resolve(false); } });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.healthy()) return;
      await sleep(200);
    }
    throw new Error(`etcd member ${this.config.name} did not become healthy at ${this.clientURL} (see ${join(this.config.dataDir, '..', 'etcd.log')})`);
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    await terminateChild(this.child, 10_000);
    this.log?.end();
    this.log = undefined;
  }
}

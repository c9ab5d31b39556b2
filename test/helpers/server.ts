import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { BosunServer, type ServerConfig } from '../../src/server/server.js';
import type { ControlLoop } from '../../src/server/control-plane.js';

export interface TestServer {
  server: BosunServer;
  dataDir: string;
  url: string;
  kubeconfig: string;
  /** Runs the real kubectl against this server with a fresh discovery cache. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  stop(): Promise<void>;
}

export interface KubectlResult { code: number; stdout: string; stderr: string }

export interface StartOptions {
  /** etcd endpoints; SQLite in a temp data dir when absent. */
  datastoreEndpoint?: string;
  dataDir?: string;
  /** Keep the data dir on stop (a restart test removes it itself). */
  keepDataDir?: boolean;
  /** Leader-elected loops to run in the server; none by default, so API tests see only their own writes. */
  controlLoops?: ControlLoop[];
  /** More `bosun server` settings (e.g. `metricResolutionMs`). */
  config?: Partial<ServerConfig>;
}

/** An in-process `bosun server` on a free loopback port and a temp data dir. */
export async function startTestServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 'bosun-test-'));
  const server = new BosunServer({
    dataDir,
    bindAddress: '127.0.0.1',
    httpsListenPort: 0,
    tlsSans: [],
    datastoreEndpoint: opts.datastoreEndpoint ?? '',
    disableAgent: true,
    controlLoops: opts.controlLoops ?? [],
    ...opts.config,
  }, () => {});
  try {
    await server.start();
  } catch (err) {
    await server.stop().catch(() => {});
    if (!opts.dataDir && !opts.keepDataDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  // Where the server listens (a test network's address for agents in namespaces), loopback for 0.0.0.0.
  const bind = opts.config?.bindAddress ?? '127.0.0.1';
  const url = `https://${bind === '0.0.0.0' ? '127.0.0.1' : bind}:${server.apiserver!.port}`;
  const cacheDir = join(dataDir, 'kubectl-cache');
  return {
    server, dataDir, url, kubeconfig: server.kubeconfigPath,
    kubectl: (args, input) => runKubectl(['--kubeconfig', server.kubeconfigPath, '--cache-dir', cacheDir, ...args], input),
    async stop() {
      await server.stop();
      if (!opts.keepDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function runKubectl(args: string[], input?: string, timeoutMs = 60_000): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** A `bosun server` as a child process (for kill -9 and restart tests). */
export interface ServerProcess { child: ChildProcess; port: number; dataDir: string; kubeconfig: string; output: () => string }

/** Starts `bosun server` as a child process; `compiled` runs the tsc build in dist/ (what `bin/bosun` runs) instead of the sources through tsx. */
export async function spawnServer(dataDir: string, port: number, extraArgs: string[] = [], opts: { compiled?: boolean } = {}): Promise<ServerProcess> {
  const root = join(import.meta.dirname, '../..');
  const entry = opts.compiled ? [join(root, 'dist/src/cli/main.js')] : ['--import', 'tsx', join(root, 'src/cli/main.ts')];
  const child = spawn(process.execPath, [...entry, 'server',
    '--data-dir', dataDir, '--https-listen-port', String(port), '--disable-agent', '--disable-registry', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const deadline = Date.now() + 60_000;
  while (!output.includes('bosun: ready')) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`server did not start: ${output}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, dataDir, kubeconfig: join(dataDir, 'kubeconfig.yaml'), output: () => output };
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, 'exit');
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

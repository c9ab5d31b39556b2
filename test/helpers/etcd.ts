/**
 * Starts a throwaway single-member etcd (Debian's /usr/bin/etcd) for tests and
 * benchmarks: fresh temp data dir, free loopback ports, default durability
 * (fsync on), and a stop() that kills it and removes everything it made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdOptions {
  /** Path of the etcd binary; default `/usr/bin/etcd` (or $ETCD_BIN). */
  binary?: string;
  /** Extra command-line flags, e.g. `['--quota-backend-bytes', '8589934592']`. */
  extraArgs?: string[];
  /** How long to wait for /health; default 20 s. */
  startTimeoutMs?: number;
}

export interface EtcdInstance {
  /** Client URL, e.g. `http://127.0.0.1:40123`, usable as `--datastore-endpoint`. */
  endpoint: string;
  dataDir: string;
  /** Pid of the running etcd (changes on restart). */
  pid: number;
  /** Kills etcd (SIGTERM, then SIGKILL after 5 s) and removes its data dir. Idempotent. */
  stop(): Promise<void>;
  /** Kills etcd (SIGKILL by default: a crash) and starts it again on the same
   *  data dir and ports; resolves once it is healthy. */
  restart(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
}

/** Port 0 makes the kernel pick a free port; we release it and hand it to
 *  etcd. Another process may grab it in between, so startEtcd retries. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Children still running; if the test process exits without stop() (a
 *  crash, a failed assertion in a hook), they must not outlive it. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function isHealthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: unknown };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitExit(child, 5000))) {
    child.kill('SIGKILL');
    await waitExit(child, 5000);
  }
}

interface Launched {
  child: ChildProcess;
  /** Resolves true once /health answers, false if etcd exits or times out. */
  healthy: Promise<boolean>;
  stderr(): string;
  spawnError(): Error | undefined;
}

function launch(binary: string, args: string[], endpoint: string, timeoutMs: number): Launched {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // etcd 3.4 refuses to start on other architectures unless told it may.
  if (arch() !== 'x64') env.ETCD_UNSUPPORTED_ARCH = arch() === 'arm64' ? 'arm64' : arch();
  const child = spawn(binary, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  track(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    // Keep only the tail: enough to explain a failed start.
    stderr = (stderr + chunk).slice(-8000);
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const healthy = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) return false;
      if (await isHealthy(endpoint)) return true;
      await sleep(50);
    }
    return false;
  })();
  return { child, healthy, stderr: () => stderr, spawnError: () => spawnError };
}

const failure = (l: Launched, endpoint: string): Error =>
  l.spawnError() ??
  new Error(
    `etcd did not become healthy at ${endpoint} (exit ${String(l.child.exitCode ?? l.child.signalCode)}): ${l.stderr()}`,
  );

export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdInstance> {
  const binary = options.binary ?? process.env.ETCD_BIN ?? '/usr/bin/etcd';
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  let lastError: Error | undefined;
  // Retries cover the window in which a port we picked is taken by someone else.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'bosun-etcd-'));
    const clientPort = await freeLoopbackPort();
    let peerPort = await freeLoopbackPort();
    while (peerPort === clientPort) peerPort = await freeLoopbackPort();
    const endpoint = `http://127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const name = 'bosun-test';
    const args = [
      '--name', name,
      '--data-dir', join(dataDir, 'data'),
      '--listen-client-urls', endpoint,
      '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `${name}=${peer}`,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-level', 'error',
      ...(options.extraArgs ?? []),
    ];
    let current = launch(binary, args, endpoint, timeoutMs);
    if (await current.healthy) {
      let stopped: Promise<void> | undefined;
      const instance: EtcdInstance = {
        endpoint,
        dataDir,
        pid: current.child.pid ?? -1,
        stop: () => {
          stopped ??= (async () => {
            await kill(current.child);
            await rm(dataDir, { recursive: true, force: true });
          })();
          return stopped;
        },
        restart: async (signal = 'SIGKILL') => {
          if (stopped !== undefined) throw new Error('etcd was stopped');
          if (signal === 'SIGKILL') {
            current.child.kill('SIGKILL');
            await waitExit(current.child, 5000);
          } else {
            await kill(current.child);
          }
          current = launch(binary, args, endpoint, timeoutMs);
          if (!(await current.healthy)) {
            await kill(current.child);
            throw failure(current, endpoint);
          }
          instance.pid = current.child.pid ?? -1;
        },
      };
      return instance;
    }
    await kill(current.child);
    await rm(dataDir, { recursive: true, force: true });
    lastError = failure(current, endpoint);
    if (current.spawnError() !== undefined) break;
  }
  throw lastError ?? new Error('etcd did not start');
}

/**
 * The cluster's image registry: Debian's Docker Distribution
 * (`/usr/bin/docker-registry`) with filesystem storage under our data dir,
 * run as a supervised child on loopback. Nodes pull from it over plain HTTP
 * (the agent's containerd has a hosts.toml for it).
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { ChildSupervisor } from '../util/child-process.js';
import { livePidFrom, stopPid } from '../util/pid-file.js';

export interface RegistryOptions {
  /** Config, pid file and image storage (`<dataDir>/storage`) live here. */
  dataDir: string;
  /** Listen address; default 127.0.0.1. */
  address?: string;
  /** Default 5000. */
  port?: number;
  /** Default /usr/bin/docker-registry. */
  binary?: string;
  log?: (m: string) => void;
}

export interface RunningRegistry {
  /** e.g. `http://127.0.0.1:5000`. */
  url: string;
  /** What image names start with, e.g. `127.0.0.1:5000`. */
  host: string;
  pid(): number | undefined;
  /** Stops the registry and its supervision; stored images stay. Idempotent. */
  stop(): Promise<void>;
}

function renderConfig(storage: string, address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `# Written by bosun; regenerated on every start.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(storage)}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: ${JSON.stringify(`${host}:${port}`)}
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function apiAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/v2/`, { method: 'GET', timeout: 2_000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.once('error', () => resolve(false));
    req.once('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

/** A registry left by a crashed earlier run on the same dataDir holds the port: end it. */
async function stopLeftover(pidFile: string, configPath: string, log: (m: string) => void): Promise<void> {
  const pid = livePidFrom(pidFile, (argv) => argv.includes(configPath));
  if (pid === undefined) return;
  log(`registry: stopping registry (pid ${pid}) left from an earlier run`);
  await stopPid(pid, 5_000);
}

export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  const log = opts.log ?? (() => {});
  const address = opts.address ?? '127.0.0.1';
  const port = opts.port ?? 5000;
  const host = `${address.includes(':') ? `[${address}]` : address}:${port}`;
  const url = `http://${host}`;
  const configPath = join(opts.dataDir, 'config.yml');
  const pidFile = join(opts.dataDir, 'registry.pid');
  await mkdir(join(opts.dataDir, 'storage'), { recursive: true });
  await stopLeftover(pidFile, configPath, log);
  await writeFile(configPath, renderConfig(join(opts.dataDir, 'storage'), address, port));

  // The last lines the running registry printed, for the log when it dies.
  let tail = '';
  const supervisor = new ChildSupervisor({
    name: 'registry', pidFile, log,
    spawn() {
      const c = spawn(opts.binary ?? '/usr/bin/docker-registry', ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      tail = '';
      const keep = (d: Buffer) => { tail = (tail + d.toString()).slice(-4000); };
      c.stdout!.on('data', keep);
      c.stderr!.on('data', keep);
      return c;
    },
    describeExit: () => `; output: ${tail.trim().split('\n').slice(-3).join(' | ')}`,
  });

  const first = await supervisor.launch();
  const deadline = Date.now() + 20_000;
  while (!(await apiAnswers(url))) {
    if (first.exitCode !== null || first.signalCode !== null || Date.now() > deadline) {
      supervisor.abandon();
      throw new Error(`registry did not start on ${host}: ${tail.trim().split('\n').slice(-5).join('\n')}`);
    }
    await sleep(50);
  }
  log(`registry: serving ${url} (pid ${first.pid})`);

  return {
    url,
    host,
    pid: () => supervisor.current?.pid,
    async stop() {
      if (await supervisor.stop(5_000)) log('registry: stopped');
    },
  };
}

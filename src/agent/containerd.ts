/**
 * Supervises the node's own containerd (Debian's 1.6): writes its config under
 * the agent's state dir, starts it, restarts it when it dies, and stops it
 * without touching running containers (their shims are separate processes, so
 * restarting the agent never kills pods).
 *
 * The config follows what works on these machines (see MACHINE-NOTES): own
 * root/state/socket, CRI with restrict_oom_score_adj (negative oom_score_adj is
 * forbidden here), runc v2 shim with cgroupfs, CNI from /usr/lib/cni, and a
 * registry hosts dir that lets the local registry be pulled over plain HTTP.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { execConfList, readCniConfig } from './cni.js';
import { ChildSupervisor } from '../util/child-process.js';
import { livePidFrom, stopPid } from '../util/pid-file.js';

export interface ContainerdOptions {
  /** Directory holding config, root, state, socket and log, e.g. `<data-dir>/agent/containerd`. */
  stateDir: string;
  /** Where the CRI plugin reads the CNI network config (see writeCniConfig). */
  cniConfDir: string;
  /** CNI plugin binaries; Debian installs them in /usr/lib/cni. */
  cniBinDir?: string;
  /** The pod sandbox image; must already be imported under exactly this name (see ensureImages). */
  sandboxImage: string;
  /** Registries pulled over plain HTTP; default `['127.0.0.1:5000']`. */
  plainHttpRegistries?: string[];
  /** containerd binary; default `containerd` on PATH. */
  binary?: string;
  log?: (m: string) => void;
}

export interface RunningContainerd {
  /** CRI endpoint, `unix:///…/containerd.sock`. */
  endpoint: string;
  socketPath: string;
  /** The namespace the CRI plugin keeps its containers and images in. */
  namespace: 'k8s.io';
  stateDir: string;
  cniConfDir: string;
  cniBinDir: string;
  /** Pid of the containerd process now running (changes when supervision restarts it). */
  pid(): number | undefined;
  /** SIGTERMs containerd and stops supervising it; containers keep running. Idempotent. */
  stop(): Promise<void>;
}

export const DEFAULT_CNI_BIN_DIR = '/usr/lib/cni';

/** Runs `ctr` against our containerd; resolves stdout, rejects with stderr in the message. */
export function ctr(run: Pick<RunningContainerd, 'socketPath'>, args: string[], opts: { namespace?: string; timeoutMs?: number } = {}): Promise<string> {
  const full = ['--address', run.socketPath, ...(opts.namespace === '' ? [] : ['-n', opts.namespace ?? 'k8s.io']), ...args];
  return new Promise((resolve, reject) => {
    execFile('ctr', full, { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ctr ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/** Paths of everything containerd keeps under stateDir. */
export function containerdPaths(stateDir: string) {
  return {
    config: join(stateDir, 'config.toml'),
    root: join(stateDir, 'root'),
    state: join(stateDir, 'state'),
    socket: join(stateDir, 'containerd.sock'),
    certsDir: join(stateDir, 'certs.d'),
    pidFile: join(stateDir, 'containerd.pid'),
    logFile: join(stateDir, 'containerd.log'),
  };
}

const tomlString = (s: string) => JSON.stringify(s);

export function renderConfig(opts: ContainerdOptions): string {
  const p = containerdPaths(opts.stateDir);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by bosun; regenerated on every agent start.
version = 2
root = ${tomlString(p.root)}
state = ${tomlString(p.state)}
# Plugins a node never uses here: skipping them saves start time and log noise.
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = ${tomlString(p.socket)}

[ttrpc]
  address = ${tomlString(p.socket + '.ttrpc')}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${tomlString(join(opts.stateDir, 'opt'))}

[${cri}]
  sandbox_image = ${tomlString(opts.sandboxImage)}
  # This machine forbids a negative oom_score_adj even to root.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false

  [${cri}.cni]
    bin_dir = ${tomlString(opts.cniBinDir ?? DEFAULT_CNI_BIN_DIR)}
    conf_dir = ${tomlString(opts.cniConfDir)}
    max_conf_num = 1

  [${cri}.registry]
    config_path = ${tomlString(p.certsDir)}
`;
}

/** One hosts.toml per plain-HTTP registry: containerd then pulls it over http. */
async function writeRegistryHosts(certsDir: string, registries: string[]): Promise<void> {
  await rm(certsDir, { recursive: true, force: true });
  for (const host of registries) await writeHostsToml(certsDir, host);
}

async function writeHostsToml(certsDir: string, host: string): Promise<void> {
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host)) throw new Error(`invalid registry host "${host}"`);
  const dir = join(certsDir, host);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'hosts.toml'),
    `server = "http://${host}"\n\n[host."http://${host}"]\n  capabilities = ["pull", "resolve", "push"]\n  skip_verify = true\n`);
}

/** Lets containerd pull `host` (e.g. `127.0.0.1:40123`) over plain HTTP from now on;
 *  containerd reads the hosts dir at every pull, so no restart is needed. */
export async function addPlainHttpRegistry(run: Pick<RunningContainerd, 'stateDir'>, host: string): Promise<void> {
  await writeHostsToml(containerdPaths(run.stateDir).certsDir, host);
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A containerd left by an earlier agent run on the same stateDir is replaced:
 *  we want it as our child, so that we see it exit. Its containers survive. */
async function replaceLeftover(configPath: string, pidFile: string, log: (m: string) => void): Promise<void> {
  const pid = livePidFrom(pidFile, (argv) => argv.some((a) => a.endsWith('containerd')) && argv.includes(configPath));
  if (pid === undefined) return;
  log(`containerd: replacing containerd (pid ${pid}) left from an earlier run`);
  await stopPid(pid, 10_000);
}

export async function startContainerd(opts: ContainerdOptions): Promise<RunningContainerd> {
  const log = opts.log ?? (() => {});
  const p = containerdPaths(opts.stateDir);
  await mkdir(opts.stateDir, { recursive: true, mode: 0o711 });
  await mkdir(opts.cniConfDir, { recursive: true });
  await replaceLeftover(p.config, p.pidFile, log);
  await writeFile(p.config, renderConfig(opts));
  await writeRegistryHosts(p.certsDir, opts.plainHttpRegistries ?? ['127.0.0.1:5000']);

  const supervisor = new ChildSupervisor({
    name: 'containerd', pidFile: p.pidFile, log,
    async spawn() {
      await rm(p.socket, { force: true });
      // Output goes to a file, not a pipe: containerd must outlive a crashed agent
      // without dying of SIGPIPE, and it runs in its own process group so a
      // Ctrl-C to the agent does not reach it.
      const fd = openSync(p.logFile, 'a');
      const c = spawn(opts.binary ?? 'containerd', ['--config', p.config], { stdio: ['ignore', fd, fd], detached: true });
      closeSync(fd);
      return c;
    },
    describeExit: () => ` (log: ${p.logFile})`,
    afterRestart: async (c) => { await waitReady(c); log(`containerd: restarted (pid ${c.pid})`); },
  });

  const waitReady = async (c: ChildProcess, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (c.exitCode !== null || c.signalCode !== null) break;
      if (existsSync(p.socket) && (await socketAnswers(p.socket))) {
        // The socket accepts before every service is registered; ask it for real.
        try { await ctr({ socketPath: p.socket }, ['version'], { namespace: '', timeoutMs: 5_000 }); return; } catch { /* not yet */ }
      }
      await sleep(50);
    }
    const tail = (() => { try { return readFileSync(p.logFile, 'utf8').split('\n').slice(-15).join('\n'); } catch { return ''; } })();
    throw new Error(`containerd did not become ready within ${timeoutMs} ms; log tail:\n${tail}`);
  };

  const first = await supervisor.launch();
  try {
    await waitReady(first);
  } catch (e) {
    supervisor.abandon();
    throw e;
  }
  log(`containerd: ready at ${p.socket} (pid ${first.pid})`);

  return {
    endpoint: `unix://${p.socket}`,
    socketPath: p.socket,
    namespace: 'k8s.io',
    stateDir: opts.stateDir,
    cniConfDir: opts.cniConfDir,
    cniBinDir: opts.cniBinDir ?? DEFAULT_CNI_BIN_DIR,
    pid: () => supervisor.current?.pid,
    async stop() {
      if (await supervisor.stop(10_000)) log('containerd: stopped');
    },
  };
}

// ---------------------------------------------------------------------------
// Cleanup for tests and uninstall: remove every container of every namespace,
// tearing down CRI sandbox networking ourselves (no CRI client needed).

interface ContainerInfo {
  ID: string;
  Labels?: Record<string, string>;
  Spec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
}

/** CNI DEL for one sandbox, as CRI's StopPodSandbox would do it. */
async function cniDel(run: RunningContainerd, id: string, netnsPath: string): Promise<void> {
  const conflist = await readCniConfig(run.cniConfDir).catch(() => undefined);
  if (!conflist) return;
  // portmap skips DEL without port mappings; any mapping makes it delete its
  // chains for this container id (CRI would pass the sandbox's real ones).
  const runtimeConfig = { portMappings: [{ hostPort: 1, containerPort: 1, protocol: 'tcp' }] };
  await execConfList(conflist, { command: 'DEL', containerId: id, netns: netnsPath, binDir: run.cniBinDir, runtimeConfig, keepGoing: true }).catch(() => {});
}

/** libcni's result cache entries of one sandbox (CRI's loopback network too). */
async function removeCniResults(id: string): Promise<void> {
  const dir = '/var/lib/cni/results';
  let files: string[] = [];
  try { files = readdirSync(dir); } catch { return; }
  for (const f of files) if (f.includes(`-${id}-`)) await rm(join(dir, f), { force: true });
}

async function unmountUnder(dir: string): Promise<void> {
  let mounts: string[] = [];
  try {
    mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' ') ?? '')
      .filter((m) => m === dir || m.startsWith(dir + '/'));
  } catch { return; }
  // Deepest first.
  for (const m of mounts.sort((a, b) => b.length - a.length)) {
    await new Promise<void>((r) => execFile('umount', ['-l', m], () => r()));
  }
}

/** Kills shims serving our socket that survived their tasks. */
async function killShims(socketPath: string): Promise<void> {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!args[0]?.includes('containerd-shim')) continue;
      const i = args.indexOf('-address');
      if (i >= 0 && args[i + 1] === socketPath) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone */ }
  }
}

/**
 * Removes every container and task in every namespace of this containerd, CRI
 * sandboxes included (their CNI attachments, netns and shm mounts too), then
 * kills leftover shims. For tests and uninstall; containerd keeps running.
 */
export async function removeAllContainers(run: RunningContainerd): Promise<void> {
  const namespaces = (await ctr(run, ['namespaces', 'ls', '-q'], { namespace: '' }).catch(() => '')).split('\n').filter(Boolean);
  for (const ns of namespaces) {
    const ids = (await ctr(run, ['containers', 'ls', '-q'], { namespace: ns }).catch(() => '')).split('\n').filter(Boolean);
    const infos: ContainerInfo[] = [];
    for (const id of ids) {
      try { infos.push(JSON.parse(await ctr(run, ['containers', 'info', id], { namespace: ns })) as ContainerInfo); } catch { infos.push({ ID: id }); }
    }
    // Workload containers first, sandboxes last (they hold the network).
    const isSandbox = (c: ContainerInfo) => c.Labels?.['io.cri-containerd.kind'] === 'sandbox';
    infos.sort((a, b) => Number(isSandbox(a)) - Number(isSandbox(b)));
    for (const c of infos) {
      await ctr(run, ['tasks', 'kill', '-s', 'SIGKILL', c.ID], { namespace: ns }).catch(() => {});
      for (let i = 0; i < 40; i++) {
        try { await ctr(run, ['tasks', 'delete', '-f', c.ID], { namespace: ns }); break; } catch (e) {
          if (/not found/.test((e as Error).message)) break;
          await sleep(100);
        }
      }
      if (isSandbox(c)) {
        const netns = c.Spec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
        if (netns) {
          await cniDel(run, c.ID, netns);
          await new Promise<void>((r) => execFile('umount', [netns], () => r()));
          await rm(netns, { force: true });
        }
        await removeCniResults(c.ID);
      }
      await ctr(run, ['containers', 'delete', c.ID], { namespace: ns }).catch(() => {});
    }
  }
  await killShims(run.socketPath);
  await unmountUnder(containerdPaths(run.stateDir).state);
}

/**
 * Full teardown of a node runtime directory: remove containers, stop
 * containerd, unmount anything left under stateDir and delete it.
 */
export async function destroyContainerd(run: RunningContainerd): Promise<void> {
  await removeAllContainers(run).catch(() => {});
  await run.stop();
  await killShims(run.socketPath);
  await unmountUnder(run.stateDir);
  await rm(run.stateDir, { recursive: true, force: true });
}


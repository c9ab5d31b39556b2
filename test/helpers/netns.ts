/**
 * Test networks made of network namespaces (root only): a bridge on the
 * host with an address, and "pods" as namespaces with a veth into it, each
 * with its own address and a default route through the bridge. Processes
 * run inside with `ip netns exec`. Everything made through one NetLab is
 * removed by `lab.cleanup()` (idempotent; call it from `t.after`), even when
 * a test failed half-way.
 *
 * ```ts
 * const lab = new NetLab('proxy');                        // names carry the area and the pid
 * t.after(() => lab.cleanup());
 * const br = await lab.bridge('10.42.231.1/24');
 * const web = await lab.netns('web-1', br, '10.42.231.11');
 * await web.serveHttp('web-1');                           // busybox httpd answering its name
 * const out = await client.exec(['busybox', 'wget', '-qO-', 'http://10.42.231.11/']);
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExecResult { code: number; stdout: string; stderr: string }

/** Runs a command, never throwing for a non-zero exit; `timeoutMs` kills it (code 124). */
export function run(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs) : undefined;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => { clearTimeout(timer); resolve({ code: 127, stdout, stderr: String(err) }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: timedOut ? 124 : code ?? 1, stdout, stderr }); });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Like `run`, but throws with the command's stderr on a non-zero exit. */
export async function sh(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * A third octet `o` such that neither `10.42.o.0/24` (pods) nor `10.43.o.0/24`
 * (services) appears in the host's addresses or routes: test networks of
 * parallel runs stay apart. Starts from a pid-derived guess in 200–249.
 */
export async function freeTestOctet(): Promise<number> {
  const used = await sh(['ip', '-4', 'addr']) + await sh(['ip', '-4', 'route']);
  for (let i = 0; i < 50; i++) {
    const o = 200 + ((process.pid + i * 7) % 50);
    if (!used.includes(`10.42.${o}.`) && !used.includes(`10.43.${o}.`)) return o;
  }
  throw new Error('no free 10.42.2xx.0/24 for a test network');
}

export interface TestBridge {
  name: string;
  /** The host's address on the bridge (the namespaces' gateway). */
  address: string;
  prefixLength: number;
}

export interface TestNetns {
  /** The namespace's name for `ip netns`. */
  name: string;
  ip: string;
  /** The host end of the veth (a port of the bridge). */
  hostVeth: string;
  /** Runs a command inside the namespace and waits for it. */
  exec(argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /**
   * Starts a long-running command inside the namespace; it is killed by
   * cleanup. Its output is discarded unless `output` (then read
   * `child.stdout`/`child.stderr` yourself).
   */
  spawn(argv: string[], opts?: { output?: boolean }): ChildProcess;
  /** busybox httpd on `port` answering every GET of `/` with `body`; resolves when it accepts connections. */
  serveHttp(body: string, port?: number): Promise<ChildProcess>;
  /** `busybox wget -qO- URL` from inside; the body, or throws. */
  fetch(url: string, timeoutMs?: number): Promise<string>;
}

/** One test's network namespaces, veths, bridges, routes and processes, all removed by `cleanup`. */
export class NetLab {
  /** Short, unique per process and lab: interface names have 15 characters at most. */
  readonly tag: string;
  private readonly bridges: string[] = [];
  private readonly namespaces: string[] = [];
  private readonly veths: string[] = [];
  private readonly dirs: string[] = [];
  private readonly procs = new Set<ChildProcess>();
  private readonly routes: string[][] = [];
  private seq = 0;
  private static labs = 0;

  /** `area` names the owner in every name made (e.g. `proxy` → netns `proxy-1234-web`). */
  constructor(readonly area: string) {
    this.tag = `${area.slice(0, 2)}${(process.pid % 100_000).toString(36)}${(NetLab.labs++).toString(36)}`;
  }

  /** A bridge with the host's address `cidr` (e.g. `10.42.231.1/24`); the host forwards what arrives on it. */
  async bridge(cidr: string, opts: { forwarding?: boolean } = {}): Promise<TestBridge> {
    const [address, len] = cidr.split('/');
    const name = `b${this.tag}${this.seq++}`;
    if (name.length > 15) throw new Error(`bridge name ${name} too long`);
    this.bridges.push(name);
    await sh(['ip', 'link', 'add', name, 'type', 'bridge']);
    await sh(['ip', 'addr', 'add', cidr, 'dev', name]);
    await sh(['ip', 'link', 'set', name, 'up']);
    // Forwarding for packets arriving on this bridge only: the host's global ip_forward is not ours to change.
    if (opts.forwarding !== false) await writeFile(`/proc/sys/net/ipv4/conf/${name}/forwarding`, '1');
    return { name, address: address!, prefixLength: Number(len ?? 24) };
  }

  /** A route on the host, removed by cleanup (gone anyway with its device). */
  async route(args: string[]): Promise<void> {
    await sh(['ip', 'route', 'add', ...args]);
    this.routes.push(args);
  }

  /** A namespace named `<area>-<tag>-<name>` with `eth0` (address `ip`) into `bridge`, default route via the bridge. */
  async netns(name: string, bridge: TestBridge, ip: string, opts: { hairpin?: boolean } = {}): Promise<TestNetns> {
    const ns = `${this.area}-${this.tag}-${name}`;
    const veth = `v${this.tag}${this.seq++}`;
    if (veth.length > 15) throw new Error(`veth name ${veth} too long`);
    this.namespaces.push(ns);
    await sh(['ip', 'netns', 'add', ns]);
    this.veths.push(veth);
    await sh(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await sh(['ip', 'link', 'set', veth, 'master', bridge.name]);
    if (opts.hairpin) await sh(['ip', 'link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on']);
    await sh(['ip', 'link', 'set', veth, 'up']);
    const inside = (argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);
    await inside(['ip', 'link', 'set', 'lo', 'up']);
    await inside(['ip', 'addr', 'add', `${ip}/${bridge.prefixLength}`, 'dev', 'eth0']);
    await inside(['ip', 'link', 'set', 'eth0', 'up']);
    await inside(['ip', 'route', 'add', 'default', 'via', bridge.address]);

    const lab = this;
    const handle: TestNetns = {
      name: ns, ip, hostVeth: veth,
      exec: (argv, o) => run(['ip', 'netns', 'exec', ns, ...argv], o),
      spawn(argv, o = {}) {
        const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', o.output ? 'pipe' : 'ignore', o.output ? 'pipe' : 'ignore'] });
        lab.procs.add(child);
        child.on('exit', () => lab.procs.delete(child));
        return child;
      },
      async serveHttp(body, port = 80) {
        const dir = await mkdtemp(join(tmpdir(), `${lab.area}-http-`));
        lab.dirs.push(dir);
        await writeFile(join(dir, 'index.html'), body);
        const child = handle.spawn(['busybox', 'httpd', '-f', '-p', String(port), '-h', dir]);
        const deadline = Date.now() + 5000;
        for (;;) {
          const r = await handle.exec(['busybox', 'wget', '-qO-', `http://127.0.0.1:${port}/`], { timeoutMs: 2000 });
          if (r.code === 0) return child;
          if (child.exitCode !== null || Date.now() > deadline) throw new Error(`httpd in ${ns} did not start (exit ${child.exitCode}): wget exit ${r.code} ${r.stderr}`);
          await new Promise((res) => setTimeout(res, 50));
        }
      },
      async fetch(url, timeoutMs = 5000) {
        // Not `wget -T`: Debian's busybox-static 1.35 wget crashes (SIGSEGV) with it; the kill is the timeout.
        const r = await handle.exec(['busybox', 'wget', '-qO-', url], { timeoutMs });
        if (r.code !== 0) throw new Error(`wget ${url} from ${ns}: exit ${r.code}: ${r.stderr.trim()}`);
        return r.stdout;
      },
    };
    return handle;
  }

  /** Removes everything made, in reverse order; never throws (errors are collected and reported once). */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    for (const child of this.procs) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((res) => child.once('exit', res));
      }
    }
    this.procs.clear();
    for (const args of this.routes.splice(0).reverse()) await run(['ip', 'route', 'del', ...args]);
    for (const ns of this.namespaces.splice(0).reverse()) {
      // Anything still running inside (a grandchild of `ip netns exec`) dies with the namespace's processes.
      const pids = (await run(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter(Boolean);
      for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
      const r = await run(['ip', 'netns', 'del', ns]);
      if (r.code !== 0 && !/No such file/.test(r.stderr)) errors.push(`netns ${ns}: ${r.stderr.trim()}`);
    }
    for (const veth of this.veths.splice(0)) await run(['ip', 'link', 'del', veth]); // usually gone with its namespace
    for (const br of this.bridges.splice(0).reverse()) {
      const r = await run(['ip', 'link', 'del', br]);
      if (r.code !== 0 && !/Cannot find device/.test(r.stderr)) errors.push(`bridge ${br}: ${r.stderr.trim()}`);
    }
    for (const dir of this.dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    if (errors.length > 0) throw new Error(`NetLab ${this.tag} clean-up: ${errors.join('; ')}`);
  }
}

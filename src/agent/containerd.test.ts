/**
 * Our own containerd, for real (root): it starts and answers, has the built-in
 * images, runs a busybox container, comes back when killed, and — what the
 * agent depends on — its containers outlive both the agent and containerd.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ctr, containerdPaths, destroyContainerd, renderConfig, startContainerd } from './containerd.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, listImages } from './images/index.js';
import { startTestContainerd } from '../../test/helpers/containerd.js';

const root = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Running, and not a zombie waiting for init to reap it. */
const alive = (pid: number) => {
  try { return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
};

async function eventually<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try { const v = await fn(); if (v !== undefined && v !== false) return v; } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`timed out${last ? `: ${(last as Error).message}` : ''}`);
}

test('config: own root/state/socket, oom_score_adj restricted, runc with cgroupfs, CNI dirs, registry hosts', () => {
  const toml = renderConfig({ stateDir: '/var/lib/bosun/agent/containerd', cniConfDir: '/var/lib/bosun/agent/cni', sandboxImage: PAUSE_IMAGE });
  for (const line of [
    'version = 2',
    'root = "/var/lib/bosun/agent/containerd/root"',
    'state = "/var/lib/bosun/agent/containerd/state"',
    'address = "/var/lib/bosun/agent/containerd/containerd.sock"',
    `sandbox_image = "${PAUSE_IMAGE}"`,
    'restrict_oom_score_adj = true',
    'runtime_type = "io.containerd.runc.v2"',
    'SystemdCgroup = false',
    'snapshotter = "overlayfs"',
    'bin_dir = "/usr/lib/cni"',
    'conf_dir = "/var/lib/bosun/agent/cni"',
    'config_path = "/var/lib/bosun/agent/containerd/certs.d"',
  ]) assert.ok(toml.includes(line), `config lacks ${line}`);
});

test('containerd starts, answers, has the built-in images and runs a busybox container', { skip: !root && 'needs root' }, async (t) => {
  const rt = await startTestContainerd(t);
  assert.match(rt.endpoint, /^unix:\/\/\/.*containerd\.sock$/);
  assert.match(await ctr(rt, ['version'], { namespace: '' }), /Server:\s+Version:\s+1\.6/);
  const images = await listImages(rt);
  assert.ok(images.includes(PAUSE_IMAGE) && images.includes(BUSYBOX_IMAGE), images.join(', '));
  const hosts = await readFile(join(containerdPaths(rt.stateDir).certsDir, '127.0.0.1:5000', 'hosts.toml'), 'utf8');
  assert.match(hosts, /server = "http:\/\/127\.0\.0\.1:5000"/);

  const out = await ctr(rt, ['run', '--rm', BUSYBOX_IMAGE, `rt-test-${process.pid}`, 'sh', '-c', 'echo hello from $(hostname); id -un; test -d /tmp && test -d /var/www && echo dirs ok']);
  assert.match(out, /hello from/);
  assert.match(out, /^root$/m);
  assert.match(out, /dirs ok/);
});

test('a killed containerd is restarted by its supervisor', { skip: !root && 'needs root' }, async (t) => {
  const logs: string[] = [];
  const rt = await startTestContainerd(t, { log: (m) => logs.push(m) });
  const first = rt.pid()!;
  process.kill(first, 'SIGKILL');
  const second = await eventually(() => { const p = rt.pid(); return p && p !== first ? p : undefined; });
  await eventually(() => ctr(rt, ['version'], { namespace: '' }));
  assert.ok(alive(second));
  assert.ok(logs.some((l) => /exited unexpectedly/.test(l)), logs.join('\n'));
  assert.equal((await readFile(containerdPaths(rt.stateDir).pidFile, 'utf8')).trim(), String(second));
});

test('containers outlive a crashed agent and a restarted containerd', { skip: !root && 'needs root' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bosun-rt-survive-'));
  const stateDir = join(dir, 'containerd');
  const cniConfDir = join(dir, 'cni');
  const id = `rt-survive-${process.pid}`;
  let last: Awaited<ReturnType<typeof startContainerd>> | undefined;
  t.after(async () => {
    // Whatever state the test died in: start on the same dir (replacing any
    // leftover containerd) and tear it all down.
    last = await startContainerd({ stateDir, cniConfDir, sandboxImage: PAUSE_IMAGE }).catch(() => last);
    if (last) await destroyContainerd(last);
    await rm(dir, { recursive: true, force: true });
  });

  // An "agent" in its own process: starts containerd, runs a container, then is SIGKILLed.
  const here = fileURLToPath(new URL('.', import.meta.url));
  const script = join(dir, 'agent.mts');
  await writeFile(script, `
    import { startContainerd, ctr } from ${JSON.stringify(join(here, 'containerd.ts'))};
    import { ensureImages, BUSYBOX_IMAGE, PAUSE_IMAGE } from ${JSON.stringify(join(here, 'images', 'index.ts'))};
    const run = await startContainerd({ stateDir: ${JSON.stringify(stateDir)}, cniConfDir: ${JSON.stringify(cniConfDir)}, sandboxImage: PAUSE_IMAGE });
    await ensureImages(run);
    await ctr(run, ['run', '-d', BUSYBOX_IMAGE, ${JSON.stringify(id)}, 'sleep', '600']);
    console.log('ready ' + run.pid());
    setInterval(() => {}, 1000);
  `);
  const agent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: join(here, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  const firstPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    agent.stdout!.on('data', (d) => { out += d; const m = /ready (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    agent.once('exit', (code) => reject(new Error(`agent exited ${code}: ${out}`)));
  });
  agent.kill('SIGKILL');
  await new Promise((r) => agent.once('exit', r));

  const paths = containerdPaths(stateDir);
  assert.ok(alive(firstPid), 'containerd died with its agent');
  const taskPid = async () => {
    const rows = (await ctr({ socketPath: paths.socket }, ['tasks', 'ls'])).split('\n').filter((l) => l.startsWith(id + ' '));
    const [, pid, status] = rows[0]?.split(/\s+/) ?? [];
    return status === 'RUNNING' ? Number(pid) : undefined;
  };
  const sleeper = await eventually(taskPid);

  // The next agent replaces the leftover containerd; the container keeps running.
  const next = await startContainerd({ stateDir, cniConfDir, sandboxImage: PAUSE_IMAGE });
  last = next;
  assert.ok(!alive(firstPid), 'leftover containerd still running');
  assert.notEqual(next.pid(), firstPid);
  assert.equal(await eventually(taskPid), sleeper);

  // A clean stop leaves containers running too.
  await next.stop();
  assert.ok(alive(sleeper), 'container died with containerd');
});

/**
 * Our own containerd, for real (root): it starts and answers, has the built-in
 * images, runs a busybox container, comes back when killed, and — what the
 * agent depends on — its containers outlive both the agent and containerd.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ctr, containerdPaths, destroyContainerd, renderConfig, startContainerd } from './containerd.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, listImages } from './images/index.js';
import { startTestContainerd } from '../../test/helpers/containerd.js';
import { processRunning } from '../util/pid-file.js';

const root = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = processRunning;

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

// The CRI path the kubelet takes, with the upstream CRI proto that the kubelet's
// client loads (skipped if that file is not there).
const criProto = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'kubelet', 'cri', 'api.proto');

test('CRI: a pod sandbox on the CNI bridge, a busybox container, a pull from the registry; cleanup leaves nothing', { skip: (!root && 'needs root') || (!existsSync(criProto) && 'no CRI proto') }, async (t) => {
  const grpc = await import('@grpc/grpc-js');
  const loader = await import('@grpc/proto-loader');
  const { startRegistry } = await import('../registry/registry.js');
  const { pushImage } = await import('../registry/push.js');
  const { buildBusyboxImage } = await import('./images/index.js');
  const { addPlainHttpRegistry } = await import('./containerd.js');
  const { freeLoopbackPort } = await import('../../test/helpers/etcd.js');

  const rt = await startTestContainerd(t);
  const regDir = await mkdtemp(join(tmpdir(), 'bosun-rt-registry-'));
  const reg = await startRegistry({ dataDir: regDir, port: await freeLoopbackPort() });
  t.after(async () => { await reg.stop(); await rm(regDir, { recursive: true, force: true }); });

  type Callback = (err: Error | null, res: Record<string, any>) => void;
  type Service = Record<string, (req: unknown, cb: Callback) => void> & { close(): void };
  const pkg = grpc.loadPackageDefinition(loader.loadSync(criProto, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true })) as any;
  const runtime: Service = new pkg.runtime.v1.RuntimeService(rt.endpoint, grpc.credentials.createInsecure());
  const images: Service = new pkg.runtime.v1.ImageService(rt.endpoint, grpc.credentials.createInsecure());
  t.after(() => { runtime.close(); images.close(); });
  const call = (svc: Service, method: string, req: unknown) => new Promise<Record<string, any>>((resolve, reject) => svc[method]!(req, (e, r) => (e ? reject(e) : resolve(r))));

  const config = { metadata: { name: 'web', namespace: 'default', uid: `uid-${process.pid}`, attempt: 0 }, hostname: 'web', log_directory: join(rt.dir, 'pods', 'web'), linux: {} };
  const { pod_sandbox_id: sandbox } = await call(runtime, 'RunPodSandbox', { config });
  const status = await call(runtime, 'PodSandboxStatus', { pod_sandbox_id: sandbox });
  const podIP: string = status.status.network.ip;
  assert.equal(podIP.split('.').slice(0, 3).join('.'), rt.gateway.split('.').slice(0, 3).join('.'));

  const { container_id: container } = await call(runtime, 'CreateContainer', {
    pod_sandbox_id: sandbox, sandbox_config: config,
    config: { metadata: { name: 'main' }, image: { image: rt.busyboxImage }, command: ['sh', '-c', 'echo started; sleep 600'], log_path: 'main.log' },
  });
  await call(runtime, 'StartContainer', { container_id: container });
  const exec = await call(runtime, 'ExecSync', { container_id: container, cmd: ['sh', '-c', 'ip -o -4 addr show eth0'], timeout: 10 });
  assert.match(exec.stdout.toString(), new RegExp(`inet ${podIP.replace(/\./g, '\\.')}/`));

  await pushImage(reg.url, 'busybox', '1', await buildBusyboxImage());
  await addPlainHttpRegistry(rt, reg.host);
  const pulled = await call(images, 'PullImage', { image: { image: `${reg.host}/busybox:1` } });
  assert.match(pulled.image_ref, /^sha256:/);

  // Leave the pod running: the helper's cleanup must remove it, network included.
  const netns: string = JSON.parse(await ctr(rt, ['containers', 'info', sandbox])).Spec.linux.namespaces.find((n: { type: string }) => n.type === 'network').path;
  assert.ok(existsSync(netns));
  await rt.cleanup();
  assert.ok(!existsSync(netns), 'sandbox netns left');
  assert.ok(!existsSync(rt.dir), 'temp dir left');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(rt.dir), 'mounts left');
  const nat = await new Promise<string>((resolve) => execFile('iptables', ['-t', 'nat', '-S'], (_e, out) => resolve(out)));
  assert.ok(!nat.includes(sandbox), 'iptables rules left');
  const links = await new Promise<string>((resolve) => execFile('ip', ['-o', 'link'], (_e, out) => resolve(out)));
  assert.ok(!links.includes(rt.bridge), 'bridge left');
  assert.ok(!readdirSync('/var/lib/cni/results').some((f) => f.includes(sandbox)), 'CNI result cache left');
});

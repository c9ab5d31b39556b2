/**
 * Pod start latency on a real node, and the kubelet's memory.
 *
 *   npm run bench -- podstartup [--batch 50] [--sequential 20]
 *
 * A containerd of its own (test/helpers/containerd.ts: built-in busybox and
 * pause images, a CNI bridge and /24 of its own), a `bosun server` child
 * process (SQLite), and bosun's Kubelet in a child process of its own so its
 * RSS is the kubelet's alone. Pods are created already bound (spec.nodeName),
 * one busybox container each; latency is create-request-sent → phase Running
 * with the container ready, seen through a watch. The same sandbox + container
 * are then started straight through containerd's CRI (our CriClient, no
 * bosun) — as many at once, and one by one — for the ratio. Everything is
 * removed at the end. Prints one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1';
import { Client, nodes, pods } from '../src/client/index.js';
import { CriClient } from '../src/kubelet/cri/client.js';
import type { ContainerConfig, PodSandboxConfig } from '../src/kubelet/cri/types.js';

const percentile = (sorted: number[], p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
const round = (n: number) => Math.round(n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number | undefined): number => {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
};
const stats = (lat: number[], totalMs: number) => {
  const s = [...lat].sort((a, b) => a - b);
  return { pods: s.length, p50Ms: round(percentile(s, 50)), p99Ms: round(percentile(s, 99)), allRunningMs: round(totalMs) };
};

// ---- the kubelet child: `node --import tsx bench/podstartup.ts --kubelet-child <json>`

async function kubeletChild(json: string): Promise<void> {
  const o = JSON.parse(json) as { kubeconfig: string; endpoint: string; nodeName: string; nodeIP: string; dir: string };
  const { Kubelet } = await import('../src/kubelet/kubelet.js');
  // The kubelet's API budget upstream (kubeAPIQPS 50, kubeAPIBurst 100), not client-go's default 5.
  const client = await Client.fromKubeconfig(o.kubeconfig, { qps: 50, burst: 100 });
  const runtime = new CriClient({ endpoint: o.endpoint });
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  // The parent asks for the V8 heap figures with SIGUSR2 (RSS it reads from /proc).
  process.on('SIGUSR2', () => { const m = process.memoryUsage(); process.stdout.write(`${JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal })}\n`); });
  await new Kubelet({
    client, nodeName: o.nodeName, nodeIP: o.nodeIP, runtime,
    rootDir: join(o.dir, 'kubelet'), podLogsDir: join(o.dir, 'pod-logs'),
    // Its log goes to a file the parent summarises: sync errors would explain slow starts.
    log: (m) => appendFileSync(join(o.dir, 'kubelet.log'), `${new Date().toISOString()} ${m}\n`),
  }).run(abort.signal);
  runtime.close();
  client.close();
  process.exit(0);
}

/**
 * The kubelet child runs as plain JavaScript, as an installed agent would,
 * not under tsx (whose loader alone adds ~35 MiB of RSS): this file bundled
 * by esbuild (tsx's own dependency) into node_modules/.cache, the CRI proto
 * beside it. Undefined when esbuild is not there (then tsx it is).
 */
async function bundleKubelet(_dir: string): Promise<string | undefined> {
  try {
    const esbuild = await import('esbuild');
    const outDir = join(import.meta.dirname, '..', 'node_modules', '.cache', 'bosun-podstartup');
    const outfile = join(outDir, 'kubelet-child.mjs');
    await esbuild.build({
      entryPoints: [import.meta.filename], bundle: true, platform: 'node', format: 'esm', target: 'node20',
      outfile, packages: 'external', logLevel: 'silent',
      // Only the kubelet goes in: the test helpers (and the server they start) stay out of the child.
      external: ['../test/helpers/*'],
    });
    await copyFile(join(import.meta.dirname, '..', 'src', 'kubelet', 'cri', 'api.proto'), join(outDir, 'api.proto'));
    return outfile;
  } catch {
    return undefined;
  }
}

// ---- the benchmark

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { batch: { type: 'string', default: '50' }, sequential: { type: 'string', default: '20' } } });
  const batch = Number(values.batch);
  const sequential = Number(values.sequential);
  if (process.getuid?.() !== 0) throw new Error('podstartup needs root (it runs containerd and containers)');
  const { startTestContainerd } = await import('../test/helpers/containerd.js');
  const { freePort, spawnServer, stopProcess } = await import('../test/helpers/server.js');

  const cleanups: Array<() => unknown> = [];
  const undo = async () => { for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {}); cleanups.length = 0; };
  process.once('SIGINT', () => void undo().then(() => process.exit(130)));
  try {
    const rt = await startTestContainerd({ after: (fn) => { cleanups.push(fn); } });
    const dir = await mkdtemp(join(tmpdir(), 'bosun-podstartup-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const server = await spawnServer(join(dir, 'server'), await freePort(), ['--disable-scheduler']);
    cleanups.push(() => stopProcess(server.child));
    const client = await Client.fromKubeconfig(server.kubeconfig, { qps: 0 });
    cleanups.push(() => client.close());
    const cri = new CriClient({ endpoint: rt.endpoint });
    cleanups.push(() => cri.close());

    const nodeName = `bench-${process.pid}`;
    const childArgs = ['--kubelet-child', JSON.stringify({ kubeconfig: server.kubeconfig, endpoint: rt.endpoint, nodeName, nodeIP: rt.gateway, dir })];
    const compiled = await bundleKubelet(dir);
    const child: ChildProcess = spawn(process.execPath, compiled ? [compiled, ...childArgs] : ['--import', 'tsx', import.meta.filename, ...childArgs],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let childOut = '';
    child.stdout!.on('data', (d: Buffer) => { childOut += d.toString(); });
    const heapMiB = async (): Promise<number> => {
      const before = childOut.length;
      child.kill('SIGUSR2');
      for (let i = 0; i < 50 && !childOut.slice(before).includes('\n'); i++) await sleep(20);
      const line = childOut.slice(before).split('\n')[0];
      try { return Math.round((JSON.parse(line) as { heapUsed: number }).heapUsed / 104857.6) / 10; } catch { return NaN; }
    };
    cleanups.push(async () => {
      // Pods first (the kubelet removes their sandboxes), then the kubelet.
      await client.deleteCollection(pods, { namespace: 'default', gracePeriodSeconds: 0 }).catch(() => {});
      await stopProcess(child);
    });
    for (const deadline = Date.now() + 60_000; ;) {
      const node = await client.get(nodes, undefined, nodeName).catch(() => undefined);
      if (node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True') break;
      if (Date.now() > deadline) throw new Error('the kubelet did not register a Ready node within 60 s');
      await sleep(200);
    }
    await sleep(5_000);
    // CPU while idle: user+system ticks over 10 s (relists, heartbeats, resyncs).
    const ticks = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
    const ticks0 = ticks();
    await sleep(10_000);
    const idleCpuPercent = Math.round(((ticks() - ticks0) / 100 / 10) * 1000) / 10;
    const rssIdle = rssMiB(child.pid);
    const heapIdle = await heapMiB();

    // Running times as a watch sees them.
    const runningAt = new Map<string, number>();
    const watchAbort = new AbortController();
    const watching = client.watch(pods, { namespace: 'default', signal: watchAbort.signal }, (e) => {
      const p = e.object as Pod;
      if (p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready) && !runningAt.has(p.metadata!.name!)) {
        runningAt.set(p.metadata!.name!, performance.now());
      }
    }).catch(() => {});
    cleanups.push(() => { watchAbort.abort(); return watching; });
    await sleep(300);

    const makePod = (name: string): Pod => ({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { nodeName, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: rt.busyboxImage, command: ['sleep', '3600'] }] },
    });
    const waitRunning = async (names: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (names.some((n) => !runningAt.has(n))) {
        if (Date.now() > deadline) throw new Error(`${names.filter((n) => !runningAt.has(n)).length} pods not Running after ${timeoutMs} ms`);
        await sleep(20);
      }
    };
    const clearPods = async () => {
      await client.deleteCollection(pods, { namespace: 'default', gracePeriodSeconds: 0 });
      for (const deadline = Date.now() + 120_000; ;) {
        const left = (await cri.listPodSandbox()).length + (await client.list(pods, { namespace: 'default' })).items.length;
        if (left === 0) break;
        if (Date.now() > deadline) throw new Error('pods were not cleaned up within 120 s');
        await sleep(250);
      }
    };

    // 1. `batch` pods at once through bosun.
    const names = Array.from({ length: batch }, (_, i) => `batch-${i}`);
    const sentAt = new Map<string, number>();
    const t0 = performance.now();
    await Promise.all(names.map(async (n) => { sentAt.set(n, performance.now()); await client.create(pods, makePod(n)); }));
    await waitRunning(names, 180_000);
    const bosunBatch = stats(names.map((n) => runningAt.get(n)! - sentAt.get(n)!), Math.max(...names.map((n) => runningAt.get(n)!)) - t0);
    await sleep(3_000);
    const rssLoaded = rssMiB(child.pid);
    const heapLoaded = await heapMiB();
    const containerdRss = rssMiB(rt.pid());
    await clearPods();

    // The same sandbox + container straight through CRI (namespace cri-bench, invisible to the kubelet).
    const criStart = async (name: string): Promise<void> => {
      const config: PodSandboxConfig = {
        metadata: { name, namespace: 'cri-bench', uid: `cri-bench-${name}-${process.pid}`, attempt: 0 },
        hostname: name, logDirectory: join(dir, 'cri-logs', name), dnsConfig: { servers: ['10.43.0.10'] },
        linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
      };
      const sandboxId = await cri.runPodSandbox(config);
      const c: ContainerConfig = { metadata: { name: 'c', attempt: 0 }, image: { image: rt.busyboxImage }, command: ['sleep', '3600'], logPath: 'c/0.log' };
      const id = await cri.createContainer(sandboxId, c, config);
      await cri.startContainer(id);
    };
    const criClear = async () => {
      for (const s of await cri.listPodSandbox()) {
        if (s.metadata.namespace !== 'cri-bench') continue;
        await cri.stopPodSandbox(s.id);
        await cri.removePodSandbox(s.id);
      }
    };

    // 2. `sequential` pods one by one, each followed by the same through CRI alone, so both see the same load.
    const seqLat: number[] = [];
    const criSeqLat: number[] = [];
    for (let i = 0; i < sequential; i++) {
      const n = `seq-${i}`;
      // Each start gets a quiet machine: the previous one's follow-up work (status, relist) is done.
      await sleep(400);
      const at = performance.now();
      await client.create(pods, makePod(n));
      await waitRunning([n], 60_000);
      seqLat.push(runningAt.get(n)! - at);
      await sleep(400);
      const a = performance.now();
      await criStart(`seq-${i}`);
      criSeqLat.push(performance.now() - a);
    }
    const bosunSeq = stats(seqLat, seqLat.reduce((x, y) => x + y, 0));
    const criSeq = stats(criSeqLat, criSeqLat.reduce((x, y) => x + y, 0));
    await criClear();
    await clearPods();

    // 3. `batch` at once through CRI alone.
    const c0 = performance.now();
    const criBatchLat = await Promise.all(names.map(async (n) => { const a = performance.now(); await criStart(n); return performance.now() - a; }));
    const criBatch = stats(criBatchLat, performance.now() - c0);
    await criClear();

    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const kubeletLog = (() => { try { return readFileSync(join(dir, 'kubelet.log'), 'utf8').split('\n').filter(Boolean); } catch { return []; } })();
    // Failed syncs and heartbeats; pods deleted between phases are expected to be killed and are not counted.
    const problems = kubeletLog.filter((l) => /sync |failed|heartbeat|error/i.test(l) && !/is gone from the API/.test(l));
    console.log(JSON.stringify({
      bench: 'podstartup',
      bosun: { [`batch${batch}`]: bosunBatch, [`sequential${sequential}`]: bosunSeq },
      criOnly: { [`batch${batch}`]: criBatch, [`sequential${sequential}`]: criSeq },
      ratioP99: { batch: ratio(bosunBatch.p99Ms, criBatch.p99Ms), sequential: ratio(bosunSeq.p99Ms, criSeq.p99Ms) },
      ratioP50: { batch: ratio(bosunBatch.p50Ms, criBatch.p50Ms), sequential: ratio(bosunSeq.p50Ms, criSeq.p50Ms) },
      kubeletRssMiB: { idle: rssIdle, [`with${batch}Pods`]: rssLoaded },
      kubeletHeapUsedMiB: { idle: heapIdle, [`with${batch}Pods`]: heapLoaded },
      kubeletIdleCpuPercent: idleCpuPercent,
      kubeletLogProblems: { count: problems.length, first: problems.slice(0, 3) },
      containerdRssMiB: containerdRss,
      conditions: {
        cpus: cpus().length, store: 'sqlite', apiServer: 'child process', kubelet: compiled ? 'child process, plain node (esbuild bundle of the sources)' : 'child process under tsx (adds ~35 MiB)',
        image: rt.busyboxImage, network: 'CNI bridge + host-local + portmap', podWorkers: 16,
        loadAverage1m: Math.round(loadavg()[0] * 10) / 10,
      },
    }));
  } finally {
    await undo();
  }
}

if (process.argv[2] === '--kubelet-child') void kubeletChild(process.argv[3]);


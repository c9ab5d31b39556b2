/**
 * Controller-manager throughput, one JSON line.
 *
 *   npm run bench -- controllers [--deployments 100] [--replicas 100] [--kubelet hollow|fake] [--nodes 150]
 *
 * Three processes, so each figure is its own: the API server (`dist/`, built
 * by `npm run build`) as a child; the kubelets as another child, so their
 * informers and status writes do not count in the controller-manager's RSS or
 * CPU; and the controller-manager in this process. Kubelets: `hollow` (default)
 * is `bosun sim` with N hollow nodes, and the server's own scheduler places
 * the pods on them, as in a real cluster; `fake` is test/helpers/fake-kubelet.ts,
 * which marks pods Ready without nodes or scheduling (controllers alone). Measures the time from
 * creating D deployments × R replicas until all are fully available, the
 * time for all of them to roll to a new template, the ReplicaSet
 * controller's pod creation rate, and peak RSS. Loopback only; everything
 * stops by itself.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Deployment } from 'kubernetes-types/apps/v1';
import { Client, deployments, loadKubeconfig, pods, type CreateOptions, type KubeObject, type ResourceDescriptor } from '../src/client/index.js';
import { ControllerManager } from '../src/controllers/index.js';
import { FakeKubelet } from '../test/helpers/fake-kubelet.js';
import { freePort, spawnServer, stopProcess } from '../test/helpers/server.js';

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
}

/** Counts the pods the controllers create, and when the first and last went out. */
class CountingClient extends Client {
  podCreates = 0;
  first = 0;
  last = 0;
  override async create<T extends KubeObject>(res: ResourceDescriptor<T>, obj: T, opts?: CreateOptions): Promise<T> {
    const out = await super.create(res, obj, opts);
    if (res === (pods as unknown)) {
      const now = performance.now();
      if (this.podCreates++ === 0) this.first = now;
      this.last = now;
    }
    return out;
  }
}

const deployment = (i: number, replicas: number): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: `bench-${i}`, namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: `bench-${i}` } },
    template: { metadata: { labels: { app: `bench-${i}` } }, spec: { containers: [{ name: 'main', image: '127.0.0.1:5000/busybox:1' }] } },
  },
});

/** The fake kubelet's own process: `--as-fake-kubelet KUBECONFIG`. */
async function fakeKubeletChild(kubeconfig: string, workers: number): Promise<void> {
  const client = await Client.fromKubeconfig(kubeconfig, { qps: 0 });
  const kubelet = new FakeKubelet(client, { workers });
  await kubelet.start();
  console.log('fake-kubelet: ready');
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await kubelet.stop();
  client.close();
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      deployments: { type: 'string', default: '100' },
      replicas: { type: 'string', default: '100' },
      'fake-kubelet-workers': { type: 'string', default: '32' },
      kubelet: { type: 'string', default: 'hollow' },
      nodes: { type: 'string', default: '150' },
      'as-fake-kubelet': { type: 'string' },
      'timeout-seconds': { type: 'string', default: '600' },
    },
  });
  const workers = Number(values['fake-kubelet-workers']);
  if (values['as-fake-kubelet']) { await fakeKubeletChild(values['as-fake-kubelet'], workers); return; }
  const D = Number(values.deployments);
  const R = Number(values.replicas);
  const timeoutMs = Number(values['timeout-seconds']) * 1000;
  const root = join(import.meta.dirname, '..');
  if (!existsSync(join(root, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench does)');

  const dataDir = await mkdtemp(join(tmpdir(), 'bosun-bench-controllers-'));
  const hollow = values.kubelet !== 'fake';
  const nodes = Number(values.nodes);
  // Hollow nodes need the scheduler (the server's own); the fake kubelet does not place pods at all.
  const server = await spawnServer(dataDir, await freePort(), hollow ? ['--disable-controller-manager'] : ['--disable-scheduler', '--disable-controller-manager'], { compiled: true });
  const kubeletProc = hollow
    ? spawn(process.execPath, [join(root, 'dist/src/cli/main.js'), 'sim', '--kubeconfig', server.kubeconfig, '--nodes', String(nodes), '--pod-start-delay', '0ms', '--max-deletion-grace', '0s'], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/run.ts'), 'controllers', '--as-fake-kubelet', server.kubeconfig, '--fake-kubelet-workers', String(workers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const kubeletReady = hollow ? 'sim: running' : 'fake-kubelet: ready';
  const abort = new AbortController();
  let managerRun: Promise<void> | undefined;
  let client: CountingClient | undefined;
  const config = await Client.fromKubeconfig(server.kubeconfig, { qps: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      kubeletProc.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes(kubeletReady)) resolve(); });
      kubeletProc.once('exit', (code) => reject(new Error(`kubelets exited with ${code}: ${out}`)));
    });
    client = new CountingClient({ ...(await loadKubeconfig(server.kubeconfig, {})), qps: 0, userAgent: 'bosun-controller-manager' });
    const manager = new ControllerManager(client, { controllers: ['replicaset', 'deployment', 'garbagecollector'], log: () => {} });
    managerRun = manager.run(abort.signal);

    let peakRss = 0;
    let peakServerRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss / 2 ** 20);
      void rssMiB(server.child.pid!).then((r) => { peakServerRss = Math.max(peakServerRss, r); }).catch(() => {});
    }, 250);

    const allDone = async (check: (d: Deployment) => boolean, label: string) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const list = (await config.list(deployments, { namespace: 'default' })).items;
        if (list.length === D && list.every(check)) return;
        if (Date.now() > deadline) throw new Error(`${label}: timed out`);
        await sleep(100);
      }
    };
    const settled = (d: Deployment) => {
      const s = d.status;
      return (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && s?.replicas === R && s.updatedReplicas === R && s.availableReplicas === R;
    };

    const loadAtStart = loadavg()[0];
    const t0 = performance.now();
    for (let i = 0; i < D; i += 20) await Promise.all(Array.from({ length: Math.min(20, D - i) }, (_, j) => config.create(deployments, deployment(i + j, R))));
    await allDone(settled, 'available');
    const availableMs = performance.now() - t0;
    const createRate = client.podCreates / Math.max(0.001, (client.last - client.first) / 1000);
    const createdFirstWave = client.podCreates;

    const t1 = performance.now();
    for (let i = 0; i < D; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, D - i) }, (_, j) => config.patch(deployments, 'default', `bench-${i + j}`,
        { spec: { template: { metadata: { annotations: { 'bench/rollout': '2' } } } } }, 'strategic-merge-patch')));
    }
    await allDone((d) => settled(d) && (d.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2'), 'rolled');
    const rolledMs = performance.now() - t1;
    clearInterval(sampler);

    console.log(JSON.stringify({
      bench: 'controllers',
      deployments: D, replicasPerDeployment: R, pods: D * R,
      availableSeconds: round(availableMs / 1000, 2),
      rolledSeconds: round(rolledMs / 1000, 2),
      rsControllerPodsPerSecond: round(createRate),
      podCreates: client.podCreates, podCreatesFirstWave: createdFirstWave,
      controllerManagerPeakRssMiB: round(peakRss),
      apiServerPeakRssMiB: round(peakServerRss),
      conditions: {
        store: 'sqlite', cpus: cpus().length, node: process.version, loadAverage1mAtStart: round(loadAtStart, 2),
        apiserver: hollow ? 'child process (dist/), with its scheduler' : 'child process (dist/)',
        kubelets: hollow ? `bosun sim child process, ${nodes} hollow nodes × 110 pods, pods placed by the scheduler` : `fake kubelet child process, ${workers} workers (marks pods Ready; no scheduler, no nodes)`,
        controllerManager: 'this process: replicaset, deployment, garbagecollector; client unthrottled',
        strategy: 'RollingUpdate 25%/25%',
      },
    }));
  } finally {
    abort.abort();
    await managerRun?.catch(() => {});
    client?.close();
    config.close();
    kubeletProc.kill('SIGTERM');
    await stopProcess(server.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

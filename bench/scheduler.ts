/**
 * Scheduler throughput and latency, one JSON line per workload.
 *
 *   npm run bench -- scheduler [--nodes 5000] [--placed 1000] [--pods 10000] [--workloads basic,node-affinity,pod-anti-affinity,topology-spread] [--scheduled-events false]
 *
 * Per workload: a fresh `bosun server` child process (compiled dist/, SQLite,
 * no agent) gets N Node objects straight through the API (no heartbeats),
 * `placed` pods already bound, then `pods` pending pods created by this
 * process with 64 concurrent requests. The scheduler runs in this process
 * (`new Scheduler(...)`, unthrottled client) and binds them; a watch records
 * when each pod is seen bound. Throughput is pods / (last bound − first
 * create); latency is bound-seen − create-sent per pod. `algorithmOnlyPodsPerSec`
 * is the same workload scheduled against the in-memory cache alone (no API).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { Pod } from 'kubernetes-types/core/v1';
import { Client } from '../src/client/client.js';
import { nodes, pods } from '../src/client/resources.js';
import { CycleState, Scheduler } from '../src/scheduler/index.js';
import { freePort, spawnServer, stopProcess } from '../test/helpers/server.js';
import { makeNode } from '../test/scheduler/nodes.js';

const ZONES = 10;
const percentile = (sorted: number[], p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

type Workload = 'basic' | 'node-affinity' | 'pod-anti-affinity' | 'topology-spread';

function pendingPod(workload: Workload, i: number): Pod {
  const base: Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `p-${i}`, namespace: 'default', labels: { app: 'bench', group: `g${i % 100}` } },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
  const spec = base.spec!;
  if (workload === 'node-affinity') {
    spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [
      { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-0', 'zone-1', 'zone-2', 'zone-3', 'zone-4'] },
    ] }] } } };
  } else if (workload === 'pod-anti-affinity') {
    spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: { group: `g${i % 100}` } }, topologyKey: 'kubernetes.io/hostname' },
    ] } };
  } else if (workload === 'topology-spread') {
    spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'bench' } } }];
  }
  return base;
}

async function pool<T>(items: T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) { const x = items[next++]; await fn(x); }
  }));
}

/**
 * The scheduling algorithm alone, in this process: the same nodes, placed
 * pods and workload in a Scheduler's cache, each pod filtered, scored and
 * assumed with no API server in the loop — what the scheduler could do if
 * creating and binding pods cost nothing.
 */
function algorithmOnly(workload: Workload, o: { nodes: number; placed: number; pods: number }): number {
  const s = new Scheduler({ client: new Client({ server: 'https://127.0.0.1:1' }), log: () => {} });
  for (let i = 0; i < o.nodes; i++) {
    s.cache.addNode(makeNode(`node-${i}`, { cpu: '32', memory: '256Gi', pods: '110', labels: { 'topology.kubernetes.io/zone': `zone-${i % ZONES}` } }));
  }
  for (let i = 0; i < o.placed; i++) {
    const p = pendingPod('basic', 1_000_000 + i);
    p.metadata!.name = `placed-${i}`;
    p.metadata = { ...p.metadata, uid: `placed-${i}` };
    p.spec!.nodeName = `node-${i % o.nodes}`;
    s.cache.addPod(p);
  }
  const fwk = s.profiles.get('default-scheduler')!;
  const start = performance.now();
  for (let i = 0; i < o.pods; i++) {
    const p = pendingPod(workload, i);
    p.metadata = { ...p.metadata, uid: `uid-${i}` };
    const host = s.schedulePod(fwk, new CycleState(), p);
    s.cache.assumePod({ ...p, spec: { ...p.spec!, nodeName: host } }, host);
  }
  return round(o.pods / ((performance.now() - start) / 1000));
}

async function runWorkload(workload: Workload, o: { nodes: number; placed: number; pods: number; events: boolean }): Promise<Record<string, unknown>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bosun-bench-sched-'));
  const server = await spawnServer(dataDir, await freePort(), ['--disable-scheduler', '--disable-controller-manager'], { compiled: true });
  const client = await Client.fromKubeconfig(server.kubeconfig, { qps: 0 });
  const ac = new AbortController();
  try {
    const names = Array.from({ length: o.nodes }, (_, i) => `node-${i}`);
    await pool(names, 32, async (name) => {
      const i = Number(name.slice(5));
      await client.create(nodes, makeNode(name, { cpu: '32', memory: '256Gi', pods: '110', labels: { 'topology.kubernetes.io/zone': `zone-${i % ZONES}` } }));
    });
    const placed = Array.from({ length: o.placed }, (_, i) => i);
    await pool(placed, 32, async (i) => {
      const p = pendingPod('basic', 1_000_000 + i);
      p.metadata!.name = `placed-${i}`;
      p.spec!.nodeName = names[i % names.length];
      await client.create(pods, p);
    });

    const scheduler = new Scheduler({ client, recordScheduledEvents: o.events, log: (m) => process.stderr.write(`scheduler: ${m}\n`) });
    const running = scheduler.run(ac.signal);
    // Wait until the scheduler's cache holds every node and placed pod.
    while (scheduler.cache.nodeCount < o.nodes || scheduler.cache.podCount() < o.placed) await new Promise((r) => setTimeout(r, 50));

    const list = await client.list(pods, { namespace: 'default', limit: 1 });
    const sent = new Map<string, number>();
    const bound = new Map<string, number>();
    let resolveAll!: () => void;
    const allBound = new Promise<void>((r) => { resolveAll = r; });
    const watching = client.watch(pods, { namespace: 'default', resourceVersion: list.metadata.resourceVersion, signal: ac.signal }, (e) => {
      const name = e.object.metadata?.name ?? '';
      if (e.type === 'MODIFIED' && e.object.spec?.nodeName && name.startsWith('p-') && !bound.has(name)) {
        bound.set(name, performance.now());
        if (bound.size === o.pods) resolveAll();
      }
    }).catch(() => {});

    const start = performance.now();
    const idx = Array.from({ length: o.pods }, (_, i) => i);
    await pool(idx, 64, async (i) => {
      const p = pendingPod(workload, i);
      sent.set(p.metadata!.name!, performance.now());
      await client.create(pods, p);
    });
    const created = performance.now();
    const timeout = setTimeout(resolveAll, 600_000);
    await allBound;
    clearTimeout(timeout);
    const end = Math.max(...bound.values());
    const lat = [...bound].map(([n, t]) => t - (sent.get(n) ?? t)).sort((a, b) => a - b);
    ac.abort();
    await running;
    await watching;
    return {
      bench: 'scheduler', workload,
      nodes: o.nodes, placedPods: o.placed, pods: o.pods, bound: bound.size,
      throughputPodsPerSec: round(bound.size / ((end - start) / 1000)),
      createRatePodsPerSec: round(o.pods / ((created - start) / 1000)),
      latencyMsP50: round(percentile(lat, 50)), latencyMsP99: round(percentile(lat, 99)),
      algorithmOnlyPodsPerSec: algorithmOnly(workload, o),
      durationSec: round((end - start) / 1000, 2),
      conditions: {
        store: 'sqlite', apiserver: 'bosun server child process (dist/, --disable-agent)', scheduler: 'in the bench process, unthrottled client',
        podCreators: 64, zones: ZONES, nodeAllocatable: { cpu: '32', memory: '256Gi', pods: 110 }, cpus: cpus().length, node: process.version,
        scheduledEvents: o.events,
      },
    };
  } finally {
    ac.abort();
    client.close();
    await stopProcess(server.child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: {
    nodes: { type: 'string', default: '5000' },
    placed: { type: 'string', default: '1000' },
    pods: { type: 'string', default: '10000' },
    workloads: { type: 'string', default: 'basic,node-affinity,pod-anti-affinity,topology-spread' },
    'scheduled-events': { type: 'string', default: 'true' },
  } });
  const o = { nodes: Number(values.nodes), placed: Number(values.placed), pods: Number(values.pods), events: values['scheduled-events'] !== 'false' };
  for (const w of values.workloads!.split(',') as Workload[]) {
    console.log(JSON.stringify(await runWorkload(w, o)));
  }
}

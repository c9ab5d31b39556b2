/**
 * The kubelet's Summary API (`GET /stats/summary`, upstream's
 * k8s.io/kubelet/pkg/apis/stats/v1alpha1): node CPU and memory from /proc,
 * pods and containers from the runtime's CRI stats. metrics-server and
 * `kubectl get --raw /api/v1/nodes/NODE/proxy/stats/summary` read it.
 */
import { readFile } from 'node:fs/promises';
import type { CriClient, ContainerStats as CriContainerStats } from '../cri/client.js';

export interface CPUStats { time: string; usageNanoCores?: number; usageCoreNanoSeconds?: number }
export interface MemoryStats {
  time: string; availableBytes?: number; usageBytes?: number; workingSetBytes?: number;
  rssBytes?: number; pageFaults?: number; majorPageFaults?: number;
}
export interface ContainerStats { name: string; startTime: string; cpu?: CPUStats; memory?: MemoryStats }
export interface PodReference { name: string; namespace: string; uid: string }
export interface PodStats { podRef: PodReference; startTime: string; containers: ContainerStats[]; cpu?: CPUStats; memory?: MemoryStats }
export interface NodeStats { nodeName: string; startTime: string; cpu?: CPUStats; memory?: MemoryStats }
export interface Summary { node: NodeStats; pods: PodStats[] }

export interface StatsProvider { summary(): Promise<Summary> }

export type StatsRuntime = Pick<CriClient, 'listContainerStats' | 'listContainers' | 'listPodSandbox'>;

const USER_HZ_NS = 10_000_000; // /proc/stat counts in 1/100 s

interface CpuSample { atNs: bigint; usageNs: number }

/** usageNanoCores from two cumulative samples, as cAdvisor derives it. */
function rate(prev: CpuSample | undefined, cur: CpuSample): number | undefined {
  if (!prev || cur.atNs <= prev.atNs || cur.usageNs < prev.usageNs) return undefined;
  return Math.round((cur.usageNs - prev.usageNs) / Number(cur.atNs - prev.atNs) * 1e9);
}

const num = (v: { value: string } | null | undefined): number | undefined => (v ? Number(v.value) : undefined);
const isoOfNs = (ns: string | number | undefined): string =>
  new Date(ns && ns !== '0' ? Number(BigInt(ns) / 1_000_000n) : Date.now()).toISOString().replace(/\.\d+Z$/, 'Z');
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** Node CPU (all CPUs, busy time) and memory from /proc, with the node's boot time as its start time. */
export async function readNodeStats(nodeName: string, previous?: CpuSample): Promise<{ stats: NodeStats; sample: CpuSample }> {
  const [stat, meminfo] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
  const cpuLine = stat.split('\n').find((l) => l.startsWith('cpu '))!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = cpuLine;
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  const sample: CpuSample = { atNs: nowNs(), usageNs: busy * USER_HZ_NS };
  const btime = Number(/^btime (\d+)/m.exec(stat)?.[1] ?? 0);
  const kb = (key: string) => Number(new RegExp(`^${key.replace(/[()]/g, '\\$&')}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  const total = kb('MemTotal');
  const usage = total - kb('MemFree');
  // cAdvisor's working set: usage less inactive file cache (what could be reclaimed at once).
  const workingSet = Math.max(0, usage - kb('Inactive(file)'));
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    sample,
    stats: {
      nodeName,
      startTime: new Date(btime * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
      cpu: { time, usageCoreNanoSeconds: sample.usageNs, usageNanoCores: rate(previous, sample) },
      memory: { time, usageBytes: usage, workingSetBytes: workingSet, availableBytes: Math.max(0, total - workingSet), rssBytes: Math.max(0, usage - kb('Cached') - kb('Buffers')) },
    },
  };
}

/**
 * The default stats provider: /proc for the node, CRI ListContainerStats for
 * containers, summed per pod sandbox. Where the runtime leaves
 * usageNanoCores out, it is derived from the previous call.
 */
export class CriStatsProvider implements StatsProvider {
  private nodeSample?: CpuSample;
  private readonly containerSamples = new Map<string, CpuSample>();

  constructor(private readonly runtime: StatsRuntime, private readonly nodeName: string) {}

  async summary(): Promise<Summary> {
    if (!this.nodeSample) {
      // First call: a short baseline so the node's usageNanoCores is there at once.
      this.nodeSample = (await readNodeStats(this.nodeName)).sample;
      await new Promise((r) => setTimeout(r, 100));
    }
    const node = await readNodeStats(this.nodeName, this.nodeSample);
    this.nodeSample = node.sample;

    const [stats, containers, sandboxes] = await Promise.all([
      this.runtime.listContainerStats({}), this.runtime.listContainers({}), this.runtime.listPodSandbox({}),
    ]);
    const containerById = new Map(containers.map((c) => [c.id, c]));
    const pods = new Map<string, PodStats>();
    const seen = new Set<string>();
    for (const sandbox of sandboxes) {
      if (sandbox.state !== 'SANDBOX_READY') continue;
      pods.set(sandbox.id, {
        podRef: { name: sandbox.metadata.name, namespace: sandbox.metadata.namespace, uid: sandbox.metadata.uid },
        startTime: isoOfNs(sandbox.createdAt),
        containers: [],
      });
    }
    for (const s of stats) {
      const c = containerById.get(s.attributes.id);
      const pod = c && pods.get(c.podSandboxId);
      if (!c || !pod || c.state !== 'CONTAINER_RUNNING') continue;
      seen.add(c.id);
      pod.containers.push({ name: s.attributes.metadata.name, startTime: isoOfNs(c.createdAt), ...this.usage(s) });
    }
    for (const id of this.containerSamples.keys()) if (!seen.has(id)) this.containerSamples.delete(id);
    for (const pod of pods.values()) {
      pod.containers.sort((a, b) => a.name.localeCompare(b.name));
      pod.cpu = sumCpu(pod.containers, node.stats.cpu!.time);
      pod.memory = sumMemory(pod.containers, node.stats.memory!.time);
    }
    return { node: node.stats, pods: [...pods.values()] };
  }

  private usage(s: CriContainerStats): Pick<ContainerStats, 'cpu' | 'memory'> {
    const out: Pick<ContainerStats, 'cpu' | 'memory'> = {};
    if (s.cpu) {
      const total = num(s.cpu.usageCoreNanoSeconds);
      let nanoCores = num(s.cpu.usageNanoCores);
      if (total !== undefined) {
        const sample = { atNs: BigInt(s.cpu.timestamp || '0') || nowNs(), usageNs: total };
        // containerd reports 0 until it has two samples of its own: ours may already have one.
        if (!nanoCores) nanoCores = rate(this.containerSamples.get(s.attributes.id), sample) ?? nanoCores;
        this.containerSamples.set(s.attributes.id, sample);
      }
      out.cpu = { time: isoOfNs(s.cpu.timestamp), usageCoreNanoSeconds: total, usageNanoCores: nanoCores ?? 0 };
    }
    if (s.memory) {
      out.memory = {
        time: isoOfNs(s.memory.timestamp),
        usageBytes: num(s.memory.usageBytes), workingSetBytes: num(s.memory.workingSetBytes), rssBytes: num(s.memory.rssBytes),
        pageFaults: num(s.memory.pageFaults), majorPageFaults: num(s.memory.majorPageFaults),
        ...(num(s.memory.availableBytes) ? { availableBytes: num(s.memory.availableBytes) } : {}),
      };
    }
    return out;
  }
}

function sumCpu(containers: ContainerStats[], time: string): CPUStats {
  return {
    time,
    usageNanoCores: containers.reduce((n, c) => n + (c.cpu?.usageNanoCores ?? 0), 0),
    usageCoreNanoSeconds: containers.reduce((n, c) => n + (c.cpu?.usageCoreNanoSeconds ?? 0), 0),
  };
}

function sumMemory(containers: ContainerStats[], time: string): MemoryStats {
  const sum = (k: 'usageBytes' | 'workingSetBytes' | 'rssBytes' | 'pageFaults' | 'majorPageFaults') => containers.reduce((n, c) => n + (c.memory?.[k] ?? 0), 0);
  return { time, usageBytes: sum('usageBytes'), workingSetBytes: sum('workingSetBytes'), rssBytes: sum('rssBytes'), pageFaults: sum('pageFaults'), majorPageFaults: sum('majorPageFaults') };
}

import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { Node, NodeCondition, NodeStatus, Taint } from 'kubernetes-types/core/v1';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { Client, isAlreadyExists, isNotFound, leases, microTime, nodes } from '../client/index.js';
import { timestamp } from '../sim/node-spec.js';
import type { CriClient } from './cri/client.js';


export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const KUBELET_VERSION = 'v1.32.0-bosun';
export const LEASE_DURATION_SECONDS = 40;

export interface NodeIdentity {
  nodeName: string;
  nodeIP: string;
  labels: Record<string, string>;
  taints: Taint[];
  kubeletPort: number;
  rootDir: string;
}

/** Go's GOARCH names for Node labels and nodeInfo. */
export function goArch(arch = os.arch()): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1];
  } catch { /* fall through */ }
  return `${os.type()} ${os.release()}`;
}

const readId = (path: string): string => { try { return readFileSync(path, 'utf8').trim(); } catch { return ''; } };

/** Capacity as the kubelet measures it: cores, MemTotal, the root dir's filesystem, 110 pods. */
export async function nodeCapacity(rootDir: string): Promise<Record<string, string>> {
  let storage = 0;
  try { const s = await statfs(rootDir); storage = s.blocks * s.bsize; } catch { /* unknown */ }
  return {
    cpu: String(os.cpus().length),
    memory: `${Math.floor(os.totalmem() / 1024)}Ki`,
    'ephemeral-storage': `${Math.floor(storage / 1024)}Ki`,
    pods: '110',
  };
}

export interface Pressure { memory: boolean; disk: boolean; pid: boolean }

/** Eviction-threshold-like checks (upstream's hard defaults): memory.available < 100Mi, nodefs.available < 10%. */
export async function nodePressure(rootDir: string): Promise<Pressure> {
  let disk = false;
  try { const s = await statfs(rootDir); disk = s.bavail / s.blocks < 0.1; } catch { /* unknown: no pressure */ }
  let pid = false;
  try {
    const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    const used = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[1]);
    pid = used / max > 0.9;
  } catch { /* unknown */ }
  return { memory: os.freemem() < 100 * 1024 * 1024 && availableMemory() < 100 * 1024 * 1024, disk, pid };
}

function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* fall through */ }
  return os.freemem();
}

export function conditions(now: string, p: Pressure, runtimeReady: { ok: boolean; message: string }, previous?: NodeCondition[]): NodeCondition[] {
  const want: Array<[string, boolean, string, string, string, string]> = [
    ['MemoryPressure', p.memory, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ['DiskPressure', p.disk, 'KubeletHasDiskPressure', 'kubelet has disk pressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ['PIDPressure', p.pid, 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    ['Ready', runtimeReady.ok, 'KubeletReady', 'kubelet is posting ready status', 'KubeletNotReady', runtimeReady.message],
  ];
  return want.map(([type, on, reasonOn, msgOn, reasonOff, msgOff]) => {
    const status = on ? 'True' : 'False';
    const old = previous?.find((c) => c.type === type);
    const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return { type, status, reason: on ? reasonOn : reasonOff, message: on ? msgOn : msgOff, lastHeartbeatTime: now, lastTransitionTime };
  });
}

/** RuntimeReady and NetworkReady from CRI Status; either missing makes the node NotReady, as upstream. */
export async function runtimeReadiness(runtime: CriClient): Promise<{ ok: boolean; message: string }> {
  try {
    const st = await runtime.status();
    const bad = (st.status?.conditions ?? []).filter((c) => (c.type === 'RuntimeReady' || c.type === 'NetworkReady') && !c.status);
    if (!bad.length) return { ok: true, message: '' };
    return { ok: false, message: `container runtime network not ready: ${bad.map((c) => `${c.type}=false reason:${c.reason} message:${c.message}`).join(', ')}` };
  } catch (err) {
    return { ok: false, message: `container runtime is down: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export function baseLabels(id: NodeIdentity): Record<string, string> {
  const arch = goArch();
  return {
    ...id.labels,
    'kubernetes.io/hostname': id.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': arch,
  };
}

/**
 * The Node's status (never its spec: node IPAM owns `spec.podCIDR`):
 * capacity, allocatable, conditions, addresses, daemon endpoint, nodeInfo.
 */
export async function buildNodeStatus(id: NodeIdentity, runtime: CriClient, runtimeVersion: string, previous?: NodeStatus): Promise<NodeStatus> {
  const now = timestamp();
  const capacity = await nodeCapacity(id.rootDir);
  const [pressure, ready] = await Promise.all([nodePressure(id.rootDir), runtimeReadiness(runtime)]);
  // Allocatable leaves upstream's hard eviction threshold (memory.available 100Mi) out.
  const memKi = Number(capacity.memory.replace(/Ki$/, ''));
  const images = await runtime.listImages().catch(() => []);
  return {
    capacity,
    allocatable: { ...capacity, memory: `${Math.max(0, memKi - 100 * 1024)}Ki` },
    // The images on the node, biggest first (upstream reports up to 50): the scheduler's ImageLocality reads them.
    images: images.sort((a, b) => Number(b.size) - Number(a.size)).slice(0, 50)
      .map((i) => ({ names: [...i.repoTags, ...i.repoDigests], sizeBytes: Number(i.size) })),
    conditions: conditions(now, pressure, ready, previous?.conditions),
    addresses: [{ type: 'InternalIP', address: id.nodeIP }, { type: 'Hostname', address: id.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: id.kubeletPort } },
    nodeInfo: {
      machineID: readId('/etc/machine-id'), systemUUID: readId('/sys/class/dmi/id/product_uuid') || readId('/etc/machine-id'),
      bootID: readId('/proc/sys/kernel/random/boot_id'), kernelVersion: os.release(), osImage: osImage(),
      operatingSystem: 'linux', architecture: goArch(), containerRuntimeVersion: runtimeVersion,
      kubeletVersion: KUBELET_VERSION, kubeProxyVersion: KUBELET_VERSION,
    },
  };
}

/** Creates the Node, or on a rejoin brings its labels up to date (taints only at creation, as upstream). */
export async function registerNode(client: Client, id: NodeIdentity): Promise<Node> {
  const node: Node = {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: id.nodeName, labels: baseLabels(id), annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: id.taints.length ? { taints: id.taints } : {},
  };
  try {
    return await client.create(nodes, node);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return await client.patch(nodes, undefined, id.nodeName, { metadata: { labels: baseLabels(id) } }, 'merge-patch');
  }
}

export function leaseObject(nodeName: string, nodeUid: string | undefined): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: {
      name: nodeName, namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(Date.now()) },
  };
}

/** One heartbeat: renew the node's Lease, creating it (and its namespace's object) when missing. */
export async function renewLease(client: Client, nodeName: string, nodeUid: string | undefined): Promise<void> {
  try {
    await client.patch(leases, NODE_LEASE_NAMESPACE, nodeName, {
      spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(Date.now()) },
    }, 'merge-patch');
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await client.create(leases, leaseObject(nodeName, nodeUid)).catch((e: unknown) => { if (!isAlreadyExists(e)) throw e; });
  }
}

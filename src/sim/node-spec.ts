import type { Node, NodeCondition, Taint } from 'kubernetes-types/core/v1';

/** Marks every object the simulator makes, so no one mistakes a hollow node for a real one. */
export const HOLLOW_LABEL = 'node.bosun.io/hollow';
export const HOLLOW_KUBELET_VERSION = 'v1.32.0-hollow';
export const HOLLOW_RUNTIME_VERSION = 'hollow://1.0';

/** What every hollow node of one simulator looks like. */
export interface NodeShape {
  cpu: string;
  memory: string;
  pods: number;
  ephemeralStorage: string;
  arch: string;
  labels: Record<string, string>;
  taints: Taint[];
  zones: number;
}

export const DEFAULT_SHAPE: NodeShape = {
  cpu: '32', memory: '256Gi', pods: 110, ephemeralStorage: '100Gi', arch: 'amd64', labels: {}, taints: [], zones: 3,
};

/** `zone-a`…`zone-z`, then `zone-aa`…: spreads the nodes round-robin. */
export function zoneName(i: number): string {
  let n = i;
  let s = '';
  do { s = String.fromCharCode(97 + (n % 26)) + s; n = Math.floor(n / 26) - 1; } while (n >= 0);
  return `zone-${s}`;
}

/** Seconds-precision RFC 3339, as metav1.Time is serialised. */
export const timestamp = (ms = Date.now()): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---- pod CIDRs ------------------------------------------------------------------

export { parseCidr, ipString, cidrString, cidrSize, type Cidr } from '../api/cidr.js';
import { parseCidr, cidrString } from '../api/cidr.js';

/** The cluster's documented default (k3s): a /24 per node out of 10.42.0.0/16, room for 256 nodes. */
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';
/**
 * More than 256 hollow nodes do not fit 10.42.0.0/16 at a /24 each; the
 * simulator then numbers them out of 10.128.0.0/9 (32,768 /24s), clear of the
 * pod and service ranges. Nothing routes to these addresses: they are strings.
 */
export const LARGE_CLUSTER_CIDR = '10.128.0.0/9';

/** The default pod range for a simulator whose highest node index is `maxIndex`. */
export function defaultClusterCidr(maxIndex: number): string {
  return maxIndex < 256 ? DEFAULT_CLUSTER_CIDR : LARGE_CLUSTER_CIDR;
}

/** Node `index`'s /`maskSize` inside `cluster`: deterministic, so a restarted simulator picks the same one. */
export function nodePodCidr(cluster: string, index: number, maskSize = 24): string {
  const c = parseCidr(cluster);
  if (maskSize < c.prefix || maskSize > 30) throw new Error(`node CIDR mask /${maskSize} does not fit ${cluster}`);
  const count = 2 ** (maskSize - c.prefix);
  if (index >= count) throw new Error(`${cluster} has room for ${count} node CIDRs of /${maskSize}; node index ${index} does not fit (pass a larger cluster CIDR)`);
  return cidrString({ base: c.base + index * 2 ** (32 - maskSize), prefix: maskSize });
}

/** A node's InternalIP, a string only: the simulator never sends traffic to it. */
export function nodeInternalIP(index: number): string {
  return `10.99.${Math.floor(index / 254) % 256}.${(index % 254) + 1}`;
}

// ---- the Node object -------------------------------------------------------------

export function nodeConditions(now: string, ready: boolean, previous?: NodeCondition[]): NodeCondition[] {
  const want: Array<[string, 'True' | 'False', string, string]> = [
    ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    ready
      ? ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (hollow)']
      : ['Ready', 'False', 'KubeletNotReady', 'hollow kubelet told to report not ready'],
  ];
  return want.map(([type, status, reason, message]) => {
    const old = previous?.find((c) => c.type === type);
    const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return { type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime };
  });
}

export function hollowNode(name: string, index: number, shape: NodeShape, now = timestamp()): Node {
  const capacity = {
    cpu: shape.cpu, memory: shape.memory, pods: String(shape.pods), 'ephemeral-storage': shape.ephemeralStorage,
  };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name,
      labels: {
        ...shape.labels,
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': shape.arch,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': shape.arch,
        'topology.kubernetes.io/zone': zoneName(index % Math.max(1, shape.zones)),
        [HOLLOW_LABEL]: 'true',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: shape.taints.length ? { taints: shape.taints } : {},
    status: {
      capacity,
      allocatable: { ...capacity },
      conditions: nodeConditions(now, true),
      addresses: [
        { type: 'InternalIP', address: nodeInternalIP(index) },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: `hollow-${index}`, systemUUID: `hollow-${index}`, bootID: `hollow-${index}`,
        kernelVersion: 'hollow', osImage: 'bosun hollow node', operatingSystem: 'linux', architecture: shape.arch,
        containerRuntimeVersion: HOLLOW_RUNTIME_VERSION, kubeletVersion: HOLLOW_KUBELET_VERSION, kubeProxyVersion: HOLLOW_KUBELET_VERSION,
      },
    },
  };
}

// ---- flag parsing ------------------------------------------------------------------

/** `k=v,k2=v2` */
export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`invalid label "${part}": want key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export { parseTaints } from '../api/taints.js';

/** `2s`, `500ms`, `1m`, `1.5s`, `1h` → milliseconds; undefined when unparseable. */
export function parseDuration(text: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)(ms|s|m|h)\s*$/.exec(text ?? '');
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

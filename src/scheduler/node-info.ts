/**
 * What the scheduler knows about one node (upstream's NodeInfo): the Node,
 * its pods (bound and assumed) and their sums, kept up to date on every pod
 * change so a Filter is O(1) per node.
 */
import type { Node, Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1';
import { emptyResource, podRequests, resourceFromList, type Resource } from './resource.js';

export interface HostPort { ip: string; protocol: string; port: number }

/** A pod with what the scheduler needs precomputed. */
export class PodInfo {
  readonly key: string;
  readonly requests: Resource;
  readonly nonZeroRequests: Resource;
  readonly hostPorts: HostPort[];
  readonly requiredAffinity: readonly PodAffinityTerm[];
  readonly requiredAntiAffinity: readonly PodAffinityTerm[];
  readonly preferredAffinity: readonly WeightedPodAffinityTerm[];
  readonly preferredAntiAffinity: readonly WeightedPodAffinityTerm[];
  constructor(readonly pod: Pod) {
    this.key = podKey(pod);
    this.requests = podRequests(pod);
    this.nonZeroRequests = podRequests(pod, true);
    const ports: HostPort[] = [];
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0) ports.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
      }
    }
    this.hostPorts = ports;
    const a = pod.spec?.affinity;
    this.requiredAffinity = a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    this.requiredAntiAffinity = a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    this.preferredAffinity = a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    this.preferredAntiAffinity = a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  }
  get hasAffinity(): boolean {
    return this.requiredAffinity.length + this.requiredAntiAffinity.length + this.preferredAffinity.length + this.preferredAntiAffinity.length > 0;
  }
}

/** Pods are keyed by uid when they have one (a recreated pod is another pod), else namespace/name. */
export const podKey = (pod: Pod): string => pod.metadata?.uid || `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

let generationCounter = 0;
export const nextGeneration = (): number => ++generationCounter;

export class NodeInfo {
  node: Node;
  readonly pods = new Map<string, PodInfo>();
  requested = emptyResource();
  nonZeroRequested = emptyResource();
  allocatable: Resource;
  /** `protocol/port` → host IPs in use. */
  readonly usedPorts = new Map<string, Set<string>>();
  /** Pods here with any (anti-)affinity, and those with required anti-affinity: what InterPodAffinity has to look at. */
  readonly podsWithAffinity = new Set<PodInfo>();
  readonly podsWithRequiredAntiAffinity = new Set<PodInfo>();
  /** Changes on every pod or node change; memoised per-node counts compare it. */
  generation = nextGeneration();
  /** Per-selector match counts, valid for one generation (PodTopologySpread, InterPodAffinity). */
  readonly memo = new Map<string, { generation: number; count: number }>();
  /** Normalised image name → size, from `status.images`. */
  images = new Map<string, number>();

  /** `metadata.name`, read on every filter call, so kept as a field. */
  name: string;
  labels: Record<string, string>;

  constructor(node: Node) {
    this.node = node;
    this.name = node.metadata?.name ?? '';
    this.labels = node.metadata?.labels ?? {};
    this.allocatable = resourceFromList(node.status?.allocatable);
    this.indexImages();
  }


  setNode(node: Node): void {
    this.node = node;
    this.name = node.metadata?.name ?? '';
    this.labels = node.metadata?.labels ?? {};
    this.allocatable = resourceFromList(node.status?.allocatable);
    this.indexImages();
    this.generation = nextGeneration();
  }

  private indexImages(): void {
    this.images = new Map();
    for (const img of this.node.status?.images ?? []) {
      for (const n of img.names ?? []) this.images.set(normalizedImageName(n), img.sizeBytes ?? 0);
    }
  }

  addPod(pi: PodInfo): void {
    if (this.pods.has(pi.key)) this.removePod(pi.key);
    this.pods.set(pi.key, pi);
    addInto(this.requested, pi.requests, 1);
    addInto(this.nonZeroRequested, pi.nonZeroRequests, 1);
    for (const hp of pi.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (!ips) this.usedPorts.set(k, ips = new Set());
      ips.add(hp.ip);
    }
    if (pi.hasAffinity) this.podsWithAffinity.add(pi);
    if (pi.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity.add(pi);
    this.generation = nextGeneration();
  }

  removePod(key: string): PodInfo | undefined {
    const pi = this.pods.get(key);
    if (!pi) return undefined;
    this.pods.delete(key);
    addInto(this.requested, pi.requests, -1);
    addInto(this.nonZeroRequested, pi.nonZeroRequests, -1);
    for (const hp of pi.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      const ips = this.usedPorts.get(k);
      ips?.delete(hp.ip);
      if (ips && ips.size === 0) this.usedPorts.delete(k);
    }
    this.podsWithAffinity.delete(pi);
    this.podsWithRequiredAntiAffinity.delete(pi);
    this.generation = nextGeneration();
    return pi;
  }

  /** A copy for what-if evaluation (preemption, nominated pods); the pods are shared, the sums are not. */
  clone(): NodeInfo {
    const c = new NodeInfo(this.node);
    for (const pi of this.pods.values()) c.addPod(pi);
    return c;
  }
}

function addInto(a: Resource, b: Resource, sign: 1 | -1): void {
  a.milliCPU += sign * b.milliCPU;
  a.memory += sign * b.memory;
  a.ephemeralStorage += sign * b.ephemeralStorage;
  for (const [k, v] of b.scalar) a.scalar.set(k, (a.scalar.get(k) ?? 0) + sign * v);
}

/** `nginx` and `docker.io/library/nginx:latest` are one image, as upstream's normalizedImageName (tag only). */
export function normalizedImageName(name: string): string {
  if (name.includes('@')) return name;
  const lastSlash = name.lastIndexOf('/');
  if (name.lastIndexOf(':') <= lastSlash) return `${name}:latest`;
  return name;
}

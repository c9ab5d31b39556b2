import type { Pod } from 'kubernetes-types/core/v1';
import { MAX_NODE_SCORE, Status, type CycleState, type FilterPlugin, type PreFilterPlugin, type ScorePlugin } from '../framework.js';
import { PodInfo, type NodeInfo } from '../node-info.js';
import type { Resource } from '../resource.js';

const STATE_KEY = 'PreFilterNodeResourcesFit';

export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
export interface ResourceSpec { name: string; weight: number }
export interface UtilizationShapePoint { utilization: number; score: number }
export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: {
    type?: ScoringStrategyType;
    resources?: ResourceSpec[];
    requestedToCapacityRatio?: { shape?: UtilizationShapePoint[] };
  };
}

const DEFAULT_RESOURCES: ResourceSpec[] = [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }];

/** The amount of one resource in a Resource; milli-CPU for cpu. */
export function resourceAmount(r: Resource, name: string): number {
  switch (name) {
    case 'cpu': return r.milliCPU;
    case 'memory': return r.memory;
    case 'ephemeral-storage': return r.ephemeralStorage;
    case 'pods': return r.allowedPodNumber;
    default: return r.scalar.get(name) ?? 0;
  }
}

interface PreFilterState { requests: Resource; nonZero: Resource; zero: boolean }

function stateOf(state: CycleState, pod: Pod): PreFilterState {
  let s = state.read<PreFilterState>(STATE_KEY);
  if (!s) {
    const pi = new PodInfo(pod);
    s = { requests: pi.requests, nonZero: pi.nonZeroRequests, zero: isZero(pi.requests) };
    state.write(STATE_KEY, s);
  }
  return s;
}
const isZero = (r: Resource): boolean => r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && [...r.scalar.values()].every((v) => v === 0);

/**
 * Whether the node has room for the pod's requests (cpu, memory,
 * ephemeral-storage, extended resources) and one more pod; scores by how
 * much stays free (LeastAllocated, the default), how full it gets
 * (MostAllocated) or a utilisation→score shape (RequestedToCapacityRatio).
 */
export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, ScorePlugin {
  static readonly pluginName = 'NodeResourcesFit';
  private readonly ignored: Set<string>;
  private readonly ignoredGroups: string[];
  private readonly strategy: ScoringStrategyType;
  private readonly resources: ResourceSpec[];
  private readonly shape: UtilizationShapePoint[];

  constructor(args: NodeResourcesFitArgs = {}) {
    this.ignored = new Set(args.ignoredResources ?? []);
    this.ignoredGroups = args.ignoredResourceGroups ?? [];
    this.strategy = args.scoringStrategy?.type ?? 'LeastAllocated';
    this.resources = args.scoringStrategy?.resources?.length ? args.scoringStrategy.resources : DEFAULT_RESOURCES;
    const shape = args.scoringStrategy?.requestedToCapacityRatio?.shape ?? [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }];
    // Shape scores are 0..10 in the config, 0..100 here, as upstream scales them.
    this.shape = shape.map((p) => ({ utilization: p.utilization, score: p.score * (MAX_NODE_SCORE / 10) }));
  }
  name(): string { return NodeResourcesFit.pluginName; }

  preFilter(state: CycleState, pod: Pod) {
    stateOf(state, pod);
    return { status: Status.success() };
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const s = stateOf(state, pod);
    if (this.fitsFast(s, nodeInfo)) return Status.success();
    const reasons = this.insufficient(s, nodeInfo);
    return reasons.length ? Status.unschedulable(...reasons) : Status.success();
  }

  /** The common case without allocating: room for everything (extended resources go the long way). */
  private fitsFast(s: PreFilterState, ni: NodeInfo): boolean {
    const alloc = ni.allocatable, used = ni.requested, req = s.requests;
    if (ni.pods.size + 1 > alloc.allowedPodNumber) return false;
    if (s.zero) return true;
    return req.scalar.size === 0
      && req.milliCPU <= alloc.milliCPU - used.milliCPU
      && req.memory <= alloc.memory - used.memory
      && req.ephemeralStorage <= alloc.ephemeralStorage - used.ephemeralStorage;
  }

  /** Upstream's fitsRequest: every shortfall, in its order. */
  insufficient(s: PreFilterState, nodeInfo: NodeInfo): string[] {
    const reasons: string[] = [];
    const alloc = nodeInfo.allocatable, used = nodeInfo.requested, req = s.requests;
    if (nodeInfo.pods.size + 1 > alloc.allowedPodNumber) reasons.push('Too many pods');
    if (s.zero) return reasons;
    if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) reasons.push('Insufficient cpu');
    if (req.memory > 0 && req.memory > alloc.memory - used.memory) reasons.push('Insufficient memory');
    if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) reasons.push('Insufficient ephemeral-storage');
    for (const [name, q] of req.scalar) {
      if (q === 0 || this.ignored.has(name)) continue;
      const slash = name.indexOf('/');
      if (slash > 0 && this.ignoredGroups.includes(name.slice(0, slash))) continue;
      if (q > (alloc.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
    }
    return reasons;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const s = stateOf(state, pod);
    let total = 0, weights = 0;
    for (const r of this.resources) {
      const capacity = resourceAmount(nodeInfo.allocatable, r.name);
      // Spreading counts containers without requests at the defaults (nonZero), as upstream for cpu and memory.
      const useNonZero = r.name === 'cpu' || r.name === 'memory';
      const requested = resourceAmount(useNonZero ? nodeInfo.nonZeroRequested : nodeInfo.requested, r.name) + resourceAmount(useNonZero ? s.nonZero : s.requests, r.name);
      if (capacity === 0) continue;
      total += this.resourceScore(requested, capacity) * r.weight;
      weights += r.weight;
    }
    return weights === 0 ? 0 : Math.floor(total / weights);
  }

  private resourceScore(requested: number, capacity: number): number {
    switch (this.strategy) {
      case 'MostAllocated':
        return requested > capacity ? MAX_NODE_SCORE : Math.floor(requested * MAX_NODE_SCORE / capacity);
      case 'RequestedToCapacityRatio':
        return brokenLinear(this.shape, Math.min(100, Math.floor(requested * 100 / capacity)));
      default:
        return requested > capacity ? 0 : Math.floor((capacity - requested) * MAX_NODE_SCORE / capacity);
    }
  }
}

/** Upstream's buildBrokenLinearFunction: piecewise linear through the shape's points. */
export function brokenLinear(shape: UtilizationShapePoint[], p: number): number {
  for (let i = 0; i < shape.length; i++) {
    if (p <= shape[i].utilization) {
      if (i === 0) return shape[0].score;
      const a = shape[i - 1], b = shape[i];
      return Math.floor(a.score + (b.score - a.score) * (p - a.utilization) / (b.utilization - a.utilization));
    }
  }
  return shape[shape.length - 1].score;
}

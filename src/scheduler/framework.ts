/**
 * The scheduling framework's vocabulary, as upstream's
 * `pkg/scheduler/framework`: statuses, cycle state and the extension points
 * a plugin implements. A cycle runs PreFilter → Filter → (PostFilter) →
 * PreScore → Score → NormalizeScore → Reserve → Permit, then, off the
 * scheduling path, PreBind → Bind.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import type { Client } from '../client/client.js';
import type { NodeInfo } from './node-info.js';

export enum Code { Success, Error, Unschedulable, UnschedulableAndUnresolvable, Wait, Skip }

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

export class Status {
  plugin = '';
  constructor(readonly code: Code, readonly reasons: readonly string[] = []) {}
  static success(): Status { return SUCCESS; }
  static skip(): Status { return SKIP; }
  static error(message: string): Status { return new Status(Code.Error, [message]); }
  static unschedulable(...reasons: string[]): Status { return new Status(Code.Unschedulable, reasons); }
  static unschedulableAndUnresolvable(...reasons: string[]): Status { return new Status(Code.UnschedulableAndUnresolvable, reasons); }
  isSuccess(): boolean { return this.code === Code.Success; }
  isSkip(): boolean { return this.code === Code.Skip; }
  /** Unschedulable or UnschedulableAndUnresolvable: the pod does not fit, as opposed to an internal error. */
  isRejected(): boolean { return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable; }
  message(): string { return this.reasons.join(', '); }
  withPlugin(name: string): Status {
    if (this === SUCCESS || this === SKIP) return this;
    this.plugin = name;
    return this;
  }
}
const SUCCESS = new Status(Code.Success);
const SKIP = new Status(Code.Skip);

/** Per-cycle scratch space: what PreFilter computes, Filter and Score read. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Set by the framework when the scheduling cycle may skip this plugin's Filter (its PreFilter returned Skip). */
  readonly skipFilterPlugins = new Set<string>();
  readonly skipScorePlugins = new Set<string>();
  /** The Filter plugins left after PreFilter's skips, worked out once per cycle. */
  activeFilterPlugins?: FilterPlugin[];
  read<T>(key: string): T | undefined { return this.data.get(key) as T | undefined; }
  write(key: string, value: unknown): void { this.data.set(key, value); }
  delete(key: string): void { this.data.delete(key); }
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v);
    for (const s of this.skipFilterPlugins) c.skipFilterPlugins.add(s);
    for (const s of this.skipScorePlugins) c.skipScorePlugins.add(s);
    c.activeFilterPlugins = this.activeFilterPlugins;
    return c;
  }
}

export interface NodeScore { name: string; score: number }

/** A PreFilter may narrow the nodes worth filtering (e.g. `metadata.name` node affinity); undefined means all. */
export interface PreFilterResult { nodeNames?: Set<string> }

/** What plugins get from the framework: the cluster as the scheduler's cache sees it, and the API. */
export interface FrameworkHandle {
  /** Every node, in a stable order. */
  nodeInfos(): readonly NodeInfo[];
  nodeInfo(name: string): NodeInfo | undefined;
  /** Effective priority: `spec.priority`, else the PriorityClass's value, else the global default, else 0. */
  priorityOf(pod: Pod): number;
  namespaceLabels(namespace: string): Record<string, string> | undefined;
  /** Whether any pod in the cache has (anti-)affinity terms / required anti-affinity terms. */
  havePodsWithAffinity(): boolean;
  havePodsWithRequiredAntiAffinity(): boolean;
  /** Changes whenever a node is added, updated or removed. */
  nodesGeneration(): number;
  /** Nodes whose pods or labels changed since `seq` (see NodeAggregate); no names: recount all. */
  changedNodesSince(seq: number): { seq: number; names?: readonly string[] };
  client?: Client;
  /** Every PodDisruptionBudget the scheduler's informer holds (preemption prefers victims no budget protects); absent: none. */
  podDisruptionBudgets?(): readonly PodDisruptionBudget[];
  /** Records a core/v1 Event as the default-scheduler (never throws). */
  recordEvent?(obj: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Runs every Filter plugin of the profile against one node (preemption's what-if). */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
}

export interface Plugin { name(): string }

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status: Status };
}
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
}
export interface PostFilterResult { nominatedNodeName?: string }
export interface PostFilterPlugin extends Plugin {
  /** `statuses` holds every filtered node's rejection. */
  postFilter(state: CycleState, pod: Pod, statuses: Map<string, Status>): Promise<{ result?: PostFilterResult; status: Status }>;
}
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status;
}
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number;
  /** Maps raw scores onto 0..MAX_NODE_SCORE in place. */
  normalizeScore?(state: CycleState, pod: Pod, scores: NodeScore[]): void;
}
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): Status;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}
export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: Pod, nodeName: string): Status;
}
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}
export interface BindPlugin extends Plugin {
  /** Skip hands the pod to the next Bind plugin. */
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}

export type AnyPlugin = Plugin & Partial<
  PreFilterPlugin & FilterPlugin & PostFilterPlugin & PreScorePlugin & ScorePlugin & ReservePlugin & PermitPlugin & PreBindPlugin & BindPlugin
>;

export type PluginFactory = (args: Record<string, unknown>, handle: FrameworkHandle) => Plugin;

export const isPreFilter = (p: Plugin): p is PreFilterPlugin => typeof (p as AnyPlugin).preFilter === 'function';
export const isFilter = (p: Plugin): p is FilterPlugin => typeof (p as AnyPlugin).filter === 'function';
export const isPostFilter = (p: Plugin): p is PostFilterPlugin => typeof (p as AnyPlugin).postFilter === 'function';
export const isPreScore = (p: Plugin): p is PreScorePlugin => typeof (p as AnyPlugin).preScore === 'function';
export const isScore = (p: Plugin): p is ScorePlugin => typeof (p as AnyPlugin).score === 'function';
export const isReserve = (p: Plugin): p is ReservePlugin => typeof (p as AnyPlugin).reserve === 'function';
export const isPermit = (p: Plugin): p is PermitPlugin => typeof (p as AnyPlugin).permit === 'function';
export const isPreBind = (p: Plugin): p is PreBindPlugin => typeof (p as AnyPlugin).preBind === 'function';
export const isBind = (p: Plugin): p is BindPlugin => typeof (p as AnyPlugin).bind === 'function';

/** Upstream's DefaultNormalizeScore: scales onto 0..max, reversed when lower raw scores are better. */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: NodeScore[]): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxPriority;
    return;
  }
  for (const s of scores) {
    let score = Math.floor(maxPriority * s.score / max);
    if (reverse) score = maxPriority - score;
    s.score = score;
  }
}

/** The reasons a pod fits nowhere, as upstream's FitError. */
export class FitError extends Error {
  constructor(readonly pod: Pod, readonly numAllNodes: number, readonly statuses: Map<string, Status>, readonly preFilterMsg = '', public postFilterMsg = '') {
    super();
  }
  override get message(): string { return fitErrorMessage(this.numAllNodes, this.statuses, this.preFilterMsg, this.postFilterMsg); }
}

/** `0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {k: v}.` — reasons sorted as strings, as upstream's sort.Strings. */
export function fitErrorMessage(numAllNodes: number, statuses: Map<string, Status>, preFilterMsg = '', postFilterMsg = ''): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterMsg) msg += ` ${preFilterMsg}.`;
  else {
    const counts = new Map<string, number>();
    for (const st of statuses.values()) for (const r of st.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  if (postFilterMsg) msg += ` ${postFilterMsg}`;
  return msg;
}

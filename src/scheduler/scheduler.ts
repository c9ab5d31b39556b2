/**
 * The scheduler: informers feed the cache and the queue; one loop pops a pod,
 * runs the profile's framework synchronously over the cache (filter, score),
 * assumes the pod on the chosen node and binds it in the background, so the
 * next pod is scheduled while the binding's HTTP round trip is in flight.
 */
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1';
import type { Namespace } from 'kubernetes-types/core/v1';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import type { Registry } from 'prom-client';
import { Client } from '../client/client.js';
import { isConflict, isNotFound } from '../client/errors.js';
import { EventRecorder } from '../client/event-recorder.js';
import { Informer } from '../client/informer.js';
import { namespaces, nodes, pods, poddisruptionbudgets, priorityclasses } from '../client/resources.js';
import { SchedulerCache, DEFAULT_ASSUMED_POD_TTL_MS } from './cache.js';
import { resolveProfiles, DEFAULT_SCHEDULER_NAME, type KubeSchedulerConfiguration } from './config.js';
import { Code, CycleState, FitError, Status, type FrameworkHandle, type PluginFactory } from './framework.js';
import { schedulerMetrics, type SchedulerMetrics } from './metrics.js';
import { PodInfo, podKey, type NodeInfo } from './node-info.js';
import { SchedulingQueue, type QueuedPodInfo } from './queue.js';
import { inTreeRegistry } from './registry.js';
import { Framework } from './runtime.js';

export const ERR_NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
/** Upstream's minFeasibleNodesToFind and minFeasibleNodesPercentageToFind. */
const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

export interface SchedulerOptions {
  client: Client;
  config?: KubeSchedulerConfiguration;
  /** Out-of-tree plugins, on top of the in-tree ones. */
  outOfTreeRegistry?: ReadonlyMap<string, PluginFactory>;
  metrics?: Registry;
  log?: (message: string) => void;
  /** Event source host. */
  identity?: string;
  assumedPodTTLMs?: number;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  podMaxInUnschedulableMs?: number;
  /** Bindings in flight at once; the scheduling loop waits for a slot beyond that. */
  parallelBinds?: number;
  /** A `Scheduled` event per bound pod, as upstream; off halves the writes at scale. */
  recordScheduledEvents?: boolean;
}

/** Upstream's numFeasibleNodesToFind: all nodes under 100, else an adaptive share (50% − nodes/125, at least 5%), at least 100. */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentageOfNodesToScore;
  if (pct <= 0) {
    pct = 50 - Math.floor(numAllNodes / 125);
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  if (pct >= 100) return numAllNodes;
  const n = Math.floor(numAllNodes * pct / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}

const isTerminal = (pod: Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const podName = (pod: Pod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

/** What a pod update must change for the scheduler to care (not status, not resourceVersion), as upstream's isPodUpdated. */
function podSpecChanged(a: Pod, b: Pod): boolean {
  return JSON.stringify(a.spec) !== JSON.stringify(b.spec)
    || JSON.stringify(a.metadata?.labels) !== JSON.stringify(b.metadata?.labels)
    || a.metadata?.deletionTimestamp !== b.metadata?.deletionTimestamp;
}

function nodeSchedulingPropertiesChanged(a: Node, b: Node): boolean {
  return JSON.stringify(a.spec?.taints) !== JSON.stringify(b.spec?.taints)
    || a.spec?.unschedulable !== b.spec?.unschedulable
    || JSON.stringify(a.metadata?.labels) !== JSON.stringify(b.metadata?.labels)
    || JSON.stringify(a.status?.allocatable) !== JSON.stringify(b.status?.allocatable);
}

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly profiles = new Map<string, Framework>();
  readonly metrics?: SchedulerMetrics;
  private readonly client: Client;
  private readonly recorder: EventRecorder;
  private readonly log: (m: string) => void;
  private readonly priorityClasses = new Map<string, number>();
  private globalDefaultPriority = 0;
  private readonly namespaceLabelMap = new Map<string, Record<string, string>>();
  private nextStartNodeIndex = 0;
  private readonly parallelBinds: number;
  private bindsInFlight = 0;
  private bindSlotWaiters: Array<() => void> = [];
  private readonly bindings = new Set<Promise<void>>();
  private readonly recordScheduledEvents: boolean;
  /** Pods nominated to a node by preemption, by node, until bound or deleted. */
  readonly nominated = new Map<string, Map<string, Pod>>();
  /** Set by run(); preemption reads budgets through it (none before the scheduler runs). */
  private pdbInformer?: Informer<PodDisruptionBudget>;

  constructor(private readonly opts: SchedulerOptions) {
    this.client = opts.client;
    this.log = opts.log ?? ((m) => console.error(`scheduler: ${m}`));
    this.cache = new SchedulerCache(opts.assumedPodTTLMs ?? DEFAULT_ASSUMED_POD_TTL_MS);
    this.queue = new SchedulingQueue({
      initialBackoffMs: opts.podInitialBackoffMs ?? (opts.config?.podInitialBackoffSeconds !== undefined ? opts.config.podInitialBackoffSeconds * 1000 : undefined),
      maxBackoffMs: opts.podMaxBackoffMs ?? (opts.config?.podMaxBackoffSeconds !== undefined ? opts.config.podMaxBackoffSeconds * 1000 : undefined),
      maxInUnschedulableMs: opts.podMaxInUnschedulableMs,
    });
    this.recorder = new EventRecorder(this.client, DEFAULT_SCHEDULER_NAME, opts.identity);
    this.parallelBinds = opts.parallelBinds ?? 64;
    this.recordScheduledEvents = opts.recordScheduledEvents ?? true;
    if (opts.metrics) this.metrics = schedulerMetrics(opts.metrics);
    const registry = new Map(inTreeRegistry());
    for (const [k, v] of opts.outOfTreeRegistry ?? []) registry.set(k, v);
    const handle: Omit<FrameworkHandle, 'runFilterPlugins'> = {
      nodeInfos: () => this.cache.nodeInfos(),
      nodeInfo: (name) => this.cache.nodeInfo(name),
      priorityOf: (pod) => this.priorityOf(pod),
      namespaceLabels: (ns) => this.namespaceLabelMap.get(ns),
      havePodsWithAffinity: () => this.cache.podsWithAffinity > 0,
      havePodsWithRequiredAntiAffinity: () => this.cache.podsWithRequiredAntiAffinity > 0,
      nodesGeneration: () => this.cache.nodesGeneration,
      changedNodesSince: (seq) => this.cache.changedNodesSince(seq),
      client: this.client,
      podDisruptionBudgets: () => this.pdbInformer?.lister().list() ?? [],
      recordEvent: (obj, type, reason, message) => this.recorder.event(obj, type, reason, message),
    };
    for (const profile of resolveProfiles(opts.config)) this.profiles.set(profile.schedulerName, new Framework(profile, registry, handle));
    this.queue.onChange = () => this.updatePendingGauge();
  }

  /** `spec.priority`, else its PriorityClass's value, else the global default class's, else 0 — as the Priority admission plugin would have set it. */
  priorityOf(pod: Pod): number {
    if (typeof pod.spec?.priority === 'number') return pod.spec.priority;
    const pc = pod.spec?.priorityClassName;
    if (pc) return this.priorityClasses.get(pc) ?? (pc === 'system-node-critical' ? 2000001000 : pc === 'system-cluster-critical' ? 2000000000 : 0);
    return this.globalDefaultPriority;
  }

  private responsibleFor(pod: Pod): boolean { return this.profiles.has(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME); }

  private pendingGaugeQueued = false;
  private updatePendingGauge(): void {
    if (!this.metrics || this.pendingGaugeQueued) return;
    this.pendingGaugeQueued = true;
    queueMicrotask(() => {
      this.pendingGaugeQueued = false;
      const l = this.queue.lengths;
      this.metrics!.pendingPods.set({ queue: 'active' }, l.active);
      this.metrics!.pendingPods.set({ queue: 'backoff' }, l.backoff);
      this.metrics!.pendingPods.set({ queue: 'unschedulable' }, l.unschedulable);
    });
  }

  // ---- events --------------------------------------------------------------

  private onPodAdd(pod: Pod): void {
    if (pod.spec?.nodeName) {
      if (isTerminal(pod)) return;
      this.cache.addPod(pod);
      this.dropNomination(pod);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
    } else if (this.responsibleFor(pod) && !pod.metadata?.deletionTimestamp) {
      this.queue.add(pod, podKey(pod), this.priorityOf(pod));
    }
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    if (pod.spec?.nodeName) {
      if (!old.spec?.nodeName) this.queue.delete(podKey(pod));
      this.dropNomination(pod);
      if (isTerminal(pod)) {
        this.cache.removePod(pod);
        this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
      } else {
        this.cache.updatePod(pod);
      }
      return;
    }
    if (!this.responsibleFor(pod)) return;
    if (pod.metadata?.deletionTimestamp) { this.queue.delete(podKey(pod)); return; }
    if (podSpecChanged(old, pod)) this.queue.update(pod, podKey(pod), this.priorityOf(pod));
  }

  private onPodDelete(pod: Pod): void {
    this.dropNomination(pod);
    if (pod.spec?.nodeName || this.cache.isAssumed(pod)) {
      this.cache.removePod(pod);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
    }
    this.queue.delete(podKey(pod));
  }

  private onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoffQueue('NodeAdd');
  }
  private onNodeUpdate(old: Node, node: Node): void {
    this.cache.updateNode(node);
    if (nodeSchedulingPropertiesChanged(old, node)) this.queue.moveAllToActiveOrBackoffQueue('NodeUpdate');
  }
  private onNodeDelete(node: Node): void { this.cache.removeNode(node.metadata?.name ?? ''); }

  nominate(pod: Pod, nodeName: string): void {
    this.dropNomination(pod);
    let m = this.nominated.get(nodeName);
    if (!m) this.nominated.set(nodeName, m = new Map());
    m.set(podKey(pod), pod);
  }
  private dropNomination(pod: Pod): void {
    if (this.nominated.size === 0) return;
    const key = podKey(pod);
    for (const [node, m] of this.nominated) if (m.delete(key) && m.size === 0) this.nominated.delete(node);
  }

  // ---- running -------------------------------------------------------------

  /** Schedules until `signal` aborts; resolves once in-flight bindings have settled. */
  async run(signal: AbortSignal): Promise<void> {
    const podInformer = new Informer<Pod>(this.client, pods, { log: (m) => this.log(`pods informer: ${m}`) });
    const nodeInformer = new Informer<Node>(this.client, nodes, { log: (m) => this.log(`nodes informer: ${m}`) });
    const pcInformer = new Informer<PriorityClass>(this.client, priorityclasses, { log: (m) => this.log(`priorityclasses informer: ${m}`) });
    const nsInformer = new Informer<Namespace>(this.client, namespaces, { log: (m) => this.log(`namespaces informer: ${m}`) });
    // No handlers: budgets are only read when preemption picks victims, as upstream's PDB lister.
    const pdbInformer = this.pdbInformer = new Informer<PodDisruptionBudget>(this.client, poddisruptionbudgets, { log: (m) => this.log(`poddisruptionbudgets informer: ${m}`) });
    pcInformer.onChange((pc, type) => {
      const name = pc.metadata?.name ?? '';
      if (type === 'delete') this.priorityClasses.delete(name); else this.priorityClasses.set(name, pc.value);
      let def = 0;
      for (const p of pcInformer.lister().list()) if (p.globalDefault) def = p.value;
      this.globalDefaultPriority = def;
    });
    nsInformer.onChange((ns, type) => {
      const name = ns.metadata?.name ?? '';
      if (type === 'delete') this.namespaceLabelMap.delete(name); else this.namespaceLabelMap.set(name, ns.metadata?.labels ?? {});
    });
    nodeInformer.onAdd((n) => this.onNodeAdd(n));
    nodeInformer.onUpdate((o, n) => this.onNodeUpdate(o, n));
    nodeInformer.onDelete((n) => this.onNodeDelete(n));
    // Priorities and nodes first, so the first pods are queued with the right priority and see every node.
    pcInformer.start(signal);
    nsInformer.start(signal);
    pdbInformer.start(signal);
    nodeInformer.start(signal);
    await Promise.all([pcInformer.waitForSync(signal), nsInformer.waitForSync(signal), pdbInformer.waitForSync(signal), nodeInformer.waitForSync(signal)]).catch(() => {});
    if (signal.aborted) return;
    podInformer.onAdd((p) => this.onPodAdd(p));
    podInformer.onUpdate((o, p) => this.onPodUpdate(o, p));
    podInformer.onDelete((p) => this.onPodDelete(p));
    podInformer.start(signal);
    await podInformer.waitForSync(signal).catch(() => {});
    if (signal.aborted) return;

    const timers = [
      setInterval(() => this.queue.flushBackoffQCompleted(), 1000),
      setInterval(() => this.queue.flushUnschedulablePodsLeftover(), 30_000),
      setInterval(() => {
        for (const pod of this.cache.cleanupExpiredAssumedPods()) this.log(`assumed pod ${podName(pod)} expired without its binding being confirmed`);
      }, 1000),
    ];
    const onAbort = () => this.queue.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const info = await this.queue.pop(signal);
        if (!info) break;
        try {
          await this.scheduleOne(info);
        } catch (err) {
          this.log(`scheduling ${podName(info.pod)} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
          this.queue.addBackoff(info);
        }
        // Let watch events and binding responses in between pods.
        await yieldToEvents();
      }
    } finally {
      for (const t of timers) clearInterval(t);
      signal.removeEventListener('abort', onAbort);
      await Promise.allSettled([...this.bindings]);
    }
  }

  /** One scheduling cycle for one popped pod. */
  async scheduleOne(info: QueuedPodInfo): Promise<void> {
    const pod = info.pod;
    const fwk = this.profiles.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME);
    if (!fwk || pod.spec?.nodeName || pod.metadata?.deletionTimestamp || this.cache.isAssumed(pod)) { this.queue.done(info.key); return; }
    const start = performance.now();
    const state = new CycleState();
    let host: string;
    try {
      host = this.schedulePod(fwk, state, pod);
    } catch (err) {
      if (!(err instanceof FitError)) throw err;
      let nominatedNodeName: string | undefined;
      if (fwk.postFilterPlugins.length && err.numAllNodes > 0) {
        const r = await fwk.runPostFilterPlugins(state, pod, err.statuses);
        if (r.status.reasons.length) err.postFilterMsg = r.status.message();
        nominatedNodeName = r.result?.nominatedNodeName;
        if (nominatedNodeName) this.nominate(pod, nominatedNodeName);
      }
      this.metrics?.scheduleAttempts.inc({ result: 'unschedulable', profile: fwk.profileName });
      this.metrics?.schedulingAttemptDuration.observe({ result: 'unschedulable', profile: fwk.profileName }, (performance.now() - start) / 1000);
      this.handleSchedulingFailure(info, err.numAllNodes === 0 ? ERR_NO_NODES_AVAILABLE : err.message, 'Unschedulable', unschedulablePlugins(err), nominatedNodeName);
      return;
    }

    const assumed: Pod = { ...pod, spec: { ...pod.spec!, nodeName: host } };
    this.cache.assumePod(assumed, host);
    const reserve = fwk.runReservePlugins(state, assumed, host);
    const permit = reserve.isSuccess() ? fwk.runPermitPlugins(state, assumed, host) : reserve;
    if (!permit.isSuccess()) {
      fwk.runUnreservePlugins(state, assumed, host);
      this.cache.forgetPod(assumed);
      this.metrics?.scheduleAttempts.inc({ result: 'error', profile: fwk.profileName });
      this.handleSchedulingFailure(info, permit.message(), permit.isRejected() ? 'Unschedulable' : 'SchedulerError', permit.isRejected() ? [permit.plugin] : []);
      return;
    }
    await this.acquireBindSlot();
    const p = this.bindingCycle(fwk, state, info, assumed, host, start).finally(() => { this.bindings.delete(p); this.releaseBindSlot(); });
    this.bindings.add(p);
  }

  private async acquireBindSlot(): Promise<void> {
    while (this.bindsInFlight >= this.parallelBinds) await new Promise<void>((r) => this.bindSlotWaiters.push(r));
    this.bindsInFlight++;
  }
  private releaseBindSlot(): void {
    this.bindsInFlight--;
    this.bindSlotWaiters.shift()?.();
  }

  private async bindingCycle(fwk: Framework, state: CycleState, info: QueuedPodInfo, assumed: Pod, host: string, start: number): Promise<void> {
    const bindStart = performance.now();
    try {
      let st = await fwk.runPreBindPlugins(state, assumed, host);
      if (st.isSuccess()) st = await fwk.runBindPlugins(state, assumed, host);
      if (!st.isSuccess()) throw new Error(st.message());
      this.cache.finishBinding(assumed);
      this.queue.done(info.key);
      this.dropNomination(assumed);
      const now = performance.now();
      this.metrics?.bindingDuration.observe((now - bindStart) / 1000);
      this.metrics?.scheduleAttempts.inc({ result: 'scheduled', profile: fwk.profileName });
      this.metrics?.schedulingAttemptDuration.observe({ result: 'scheduled', profile: fwk.profileName }, (now - start) / 1000);
      if (info.initialAttemptTimestamp !== undefined) this.metrics?.podSchedulingSLIDuration.observe({ attempts: String(info.attempts) }, (Date.now() - info.initialAttemptTimestamp) / 1000);
      if (this.recordScheduledEvents) {
        this.recorder.event(assumed, 'Normal', 'Scheduled', `Successfully assigned ${podName(assumed)} to ${host}`);
      }
    } catch (err) {
      fwk.runUnreservePlugins(state, assumed, host);
      this.cache.forgetPod(assumed);
      this.metrics?.scheduleAttempts.inc({ result: 'error', profile: fwk.profileName });
      if (isNotFound(err)) { this.queue.done(info.key); return; }
      // Already bound (by someone else, or a retry): the informer will bring the truth.
      if (isConflict(err)) { this.queue.done(info.key); return; }
      this.handleSchedulingFailure(info, `Binding rejected: ${err instanceof Error ? err.message : String(err)}`, 'SchedulerError', []);
    }
  }

  /**
   * Filter then score, over the cache as it is now (synchronously, so no
   * event changes it midway). Throws FitError when no node fits.
   */
  schedulePod(fwk: Framework, state: CycleState, pod: Pod): string {
    const all = this.cache.nodeInfos();
    if (all.length === 0) throw new FitError(pod, 0, new Map());
    const pre = fwk.runPreFilterPlugins(state, pod, all);
    if (!pre.status.isSuccess()) {
      if (!pre.status.isRejected()) throw new Error(`running PreFilter plugin "${pre.status.plugin}": ${pre.status.message()}`);
      const statuses = new Map<string, Status>();
      for (const n of all) statuses.set(n.name, pre.status);
      throw new FitError(pod, all.length, statuses, pre.status.message());
    }
    const statuses = new Map<string, Status>();
    // The node preemption chose for this pod is tried first, as upstream.
    const nominated = pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = this.cache.nodeInfo(nominated);
      if (ni && this.filterWithNominated(fwk, state, pod, ni).isSuccess()) return nominated;
    }
    let nodes: readonly NodeInfo[] = all;
    if (pre.result?.nodeNames) nodes = [...pre.result.nodeNames].map((n) => this.cache.nodeInfo(n)).filter((n): n is NodeInfo => !!n);
    const want = numFeasibleNodesToFind(fwk.percentageOfNodesToScore, nodes.length);
    const feasible: NodeInfo[] = [];
    // Rejections are kept in arrays and only turned into a map when the pod fits nowhere.
    const rejectedNodes: NodeInfo[] = [];
    const rejections: Status[] = [];
    const n = nodes.length;
    const startIdx = n ? this.nextStartNodeIndex % n : 0;
    let processed = 0;
    for (; processed < n && feasible.length < want; processed++) {
      let idx = startIdx + processed;
      if (idx >= n) idx -= n;
      const ni = nodes[idx];
      const st = this.filterWithNominated(fwk, state, pod, ni);
      if (st.code === Code.Success) feasible.push(ni);
      else if (st.isRejected()) { rejectedNodes.push(ni); rejections.push(st); }
      else throw new Error(`running Filter plugin "${st.plugin}": ${st.message()}`);
    }
    this.nextStartNodeIndex = (startIdx + processed) % Math.max(1, n);
    if (feasible.length === 0) {
      for (let i = 0; i < rejectedNodes.length; i++) statuses.set(rejectedNodes[i].name, rejections[i]);
      for (const ni of all) if (!statuses.has(ni.name)) statuses.set(ni.name, Status.unschedulableAndUnresolvable("node(s) didn't match Pod's node affinity/selector"));
      throw new FitError(pod, all.length, statuses);
    }
    if (feasible.length === 1) return feasible[0].name;
    const ps = fwk.runPreScorePlugins(state, pod, feasible);
    if (!ps.isSuccess()) throw new Error(`running PreScore plugin "${ps.plugin}": ${ps.message()}`);
    const totals = fwk.runScorePlugins(state, pod, feasible);
    // Highest total; ties broken uniformly at random (reservoir sampling, as upstream's selectHost).
    let best = 0, ties = 1;
    for (let i = 1; i < totals.length; i++) {
      if (totals[i] > totals[best]) { best = i; ties = 1; }
      else if (totals[i] === totals[best] && Math.random() * ++ties < 1) best = i;
    }
    return feasible[best].name;
  }

  /**
   * Filters with the pods nominated to this node at equal or higher priority
   * counted as if placed, so the room preemption made is not given away.
   */
  private filterWithNominated(fwk: Framework, state: CycleState, pod: Pod, ni: NodeInfo): Status {
    const noms = this.nominated.size ? this.nominated.get(ni.name) : undefined;
    if (noms && noms.size) {
      const prio = this.priorityOf(pod);
      const key = podKey(pod);
      const others = [...noms.entries()].filter(([k, p]) => k !== key && this.priorityOf(p) >= prio);
      if (others.length) {
        const clone = ni.clone();
        for (const [, p] of others) clone.addPod(new PodInfo(p));
        const st = fwk.runFilterPlugins(state, pod, clone);
        if (!st.isSuccess()) return st;
      }
    }
    return fwk.runFilterPlugins(state, pod, ni);
  }

  private handleSchedulingFailure(info: QueuedPodInfo, message: string, reason: 'Unschedulable' | 'SchedulerError', plugins: Iterable<string>, nominatedNodeName?: string): void {
    const pod = info.pod;
    if (reason === 'Unschedulable') this.queue.addUnschedulable(info, plugins);
    else this.queue.addBackoff(info);
    this.recorder.event(pod, 'Warning', 'FailedScheduling', message);
    const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const nominatedChanged = nominatedNodeName !== undefined && nominatedNodeName !== pod.status?.nominatedNodeName;
    if (!nominatedChanged && cond?.status === 'False' && cond.reason === reason && cond.message === message) return;
    const condition: PodCondition = {
      type: 'PodScheduled', status: 'False', reason, message,
      lastProbeTime: null as unknown as string,
      lastTransitionTime: cond?.status === 'False' && cond.lastTransitionTime ? cond.lastTransitionTime : new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nominatedNodeName !== undefined) status.nominatedNodeName = nominatedNodeName;
    void this.client.patch(pods, pod.metadata?.namespace, pod.metadata?.name ?? '', { status }, 'strategic-merge-patch', { subresource: 'status' })
      .catch((err: unknown) => { if (!isNotFound(err)) this.log(`updating the status of ${podName(pod)}: ${err instanceof Error ? err.message : String(err)}`); });
  }
}

function unschedulablePlugins(err: FitError): Set<string> {
  const s = new Set<string>();
  for (const st of err.statuses.values()) if (st.plugin) s.add(st.plugin);
  return s;
}

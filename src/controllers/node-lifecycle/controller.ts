import type { Lease } from 'kubernetes-types/coordination/v1';
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1';
import {
  EventRecorder, WorkQueue, isConflict, isNotFound, keyOf, leases, nodes, pods,
  type Client, type InformerFactory, type Lister,
} from '../../client/index.js';
import { TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from '../../api/taints.js';
import { syncErrorLogger } from '../util/errors.js';
import { NODE_NAME_INDEX, NoExecuteTaintManager } from './taint-manager.js';
import { RateLimitedNodeQueue, computeZoneState, zoneKeyOf, zoneLabel, type ZoneState } from './zones.js';

const COMPONENT = 'node-controller';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLifecycleOptions {
  /** --node-monitor-grace-period: silence after which a node's conditions turn Unknown; default 40 s. */
  nodeMonitorGracePeriodMs?: number;
  /** --node-monitor-period: how often node health is checked; default 5 s. */
  nodeMonitorPeriodMs?: number;
  /** --node-startup-grace-period: a new node's allowance before its first status; default 60 s. */
  nodeStartupGracePeriodMs?: number;
  /** --node-eviction-rate: nodes per second given NoExecute taints in a healthy zone; default 0.1. */
  nodeEvictionRate?: number;
  /** --secondary-node-eviction-rate: the same in a partially disrupted zone of a large cluster; default 0.01. */
  secondaryNodeEvictionRate?: number;
  /** --large-cluster-size-threshold: a partially disrupted zone this small or smaller stops tainting; default 50. */
  largeClusterSizeThreshold?: number;
  /** --unhealthy-zone-threshold: share of not-ready nodes that makes a zone partially disrupted; default 0.55. */
  unhealthyZoneThreshold?: number;
  /** upstream's NodeEvictionPeriod: how often the per-zone taint queues are worked; default 100 ms. */
  nodeEvictionPeriodMs?: number;
  workers?: number;
  log?: (m: string) => void;
}

/** upstream's templates: the NoExecute taints this controller owns. */
const UNREACHABLE_NO_EXECUTE: Taint = { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute' };
const NOT_READY_NO_EXECUTE: Taint = { key: TAINT_NODE_NOT_READY, effect: 'NoExecute' };

/** upstream's nodeConditionToTaintKeyStatusMap (TaintNodesByCondition) and the unschedulable taint. */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};
const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';
const NO_SCHEDULE_KEYS = new Set([...Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)), UNSCHEDULABLE_TAINT]);

/** The conditions a kubelet owns: all of them go Unknown when it falls silent. */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

interface NodeHealth {
  /** Local time of the last sign of life (a new heartbeat or Lease renewal), as upstream: clocks of nodes are not trusted. */
  probeTimestamp: number;
  lastHeartbeatTime?: string;
  leaseRenewTime?: string;
  /** Ready status seen in the last pass, to catch the turn away from True. */
  readyStatus?: string;
  /** Its pods still have to be marked not ready (a write failed). */
  markPods?: boolean;
}

const nowString = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const readyOf = (node: Node): NodeCondition | undefined => node.status?.conditions?.find((c) => c.type === 'Ready');
const sameTaint = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;

/**
 * upstream's node lifecycle controller (pkg/controller/nodelifecycle): watches
 * each node's Lease and status, marks a silent node's conditions Unknown,
 * taints nodes by their conditions (NoSchedule at once, NoExecute through
 * per-zone rate-limited queues that slow down or stop when a zone or the
 * whole cluster looks disrupted), and runs the NoExecute taint manager that
 * evicts the pods.
 */
export class NodeLifecycleController {
  private readonly nodes: Lister<Node>;
  private readonly leases: Lister<Lease>;
  private readonly pods: Lister<Pod>;
  private readonly noScheduleQueue: WorkQueue<string>;
  private readonly taintManager: NoExecuteTaintManager;
  private readonly recorder: EventRecorder;
  private readonly health = new Map<string, NodeHealth>();
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly zoneTainters = new Map<string, RateLimitedNodeQueue>();
  /** What each queued node is waiting for: its Ready status when it was queued. */
  private readonly pendingTaint = new Map<string, 'False' | 'Unknown'>();
  private monitoring = false;
  private readonly grace: number;
  private readonly period: number;
  private readonly startupGrace: number;
  private readonly evictionRate: number;
  private readonly secondaryRate: number;
  private readonly largeCluster: number;
  private readonly unhealthyThreshold: number;
  private readonly evictionPeriod: number;
  private readonly workers: number;
  private readonly log: (m: string) => void;

  constructor(private readonly client: Client, informers: InformerFactory, opts: NodeLifecycleOptions = {}) {
    this.grace = opts.nodeMonitorGracePeriodMs ?? 40_000;
    this.period = opts.nodeMonitorPeriodMs ?? 5_000;
    this.startupGrace = opts.nodeStartupGracePeriodMs ?? 60_000;
    this.evictionRate = opts.nodeEvictionRate ?? 0.1;
    this.secondaryRate = opts.secondaryNodeEvictionRate ?? 0.01;
    this.largeCluster = opts.largeClusterSizeThreshold ?? 50;
    this.unhealthyThreshold = opts.unhealthyZoneThreshold ?? 0.55;
    this.evictionPeriod = opts.nodeEvictionPeriodMs ?? 100;
    this.workers = opts.workers ?? 5;
    this.log = opts.log ?? ((m: string) => console.error(m));
    this.recorder = new EventRecorder(client, COMPONENT);
    this.noScheduleQueue = new WorkQueue<string>({ name: COMPONENT, onError: syncErrorLogger(COMPONENT, this.log) });
    const nodeInformer = informers.for(nodes);
    const leaseInformer = informers.for(leases, { namespace: NODE_LEASE_NAMESPACE });
    this.nodes = nodeInformer.lister();
    this.leases = leaseInformer.lister();
    nodeInformer.onAdd((n) => this.noScheduleQueue.add(keyOf(n)));
    nodeInformer.onUpdate((_o, n) => this.noScheduleQueue.add(keyOf(n)));
    nodeInformer.onDelete((n) => this.forget(n.metadata!.name!));
    this.taintManager = new NoExecuteTaintManager(client, informers, { log: this.log });
    this.pods = informers.for(pods).lister();
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([
      this.noScheduleQueue.process(this.workers, (key) => this.doNoScheduleTaintingPass(key), signal),
      this.taintManager.run(signal),
      this.every(this.period, () => this.monitorNodeHealth(), signal),
      this.every(this.evictionPeriod, () => this.doNoExecuteTaintingPass(), signal),
    ]);
  }

  private async every(ms: number, fn: () => Promise<void>, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try { await fn(); } catch (err) { if (!signal.aborted) this.log(`${COMPONENT}: ${err instanceof Error ? err.message : String(err)}`); }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
      });
    }
  }

  private forget(name: string): void {
    this.health.delete(name);
    this.pendingTaint.delete(name);
    for (const q of this.zoneTainters.values()) q.remove(name);
  }

  // ---- health ------------------------------------------------------------------------

  /** upstream's monitorNodeHealth: one pass over every node, then the zones. */
  async monitorNodeHealth(): Promise<void> {
    this.monitoring = true;
    try { await this.monitorNodeHealthPass(); } finally { this.monitoring = false; }
  }

  private async monitorNodeHealthPass(): Promise<void> {
    const all = this.nodes.list();
    const zoneReady = new Map<string, Array<NodeCondition | undefined>>();
    for (const cached of all) {
      const name = cached.metadata!.name!;
      const zone = zoneKeyOf(cached);
      if (!this.zoneStates.has(zone)) {
        this.zoneStates.set(zone, 'Initial');
        this.zoneTainters.set(zone, new RateLimitedNodeQueue(this.evictionRate));
      }
      let node = cached;
      try {
        node = await this.tryUpdateNodeHealth(cached);
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) this.log(`${COMPONENT}: updating health of ${name}: ${err instanceof Error ? err.message : String(err)}`);
        // Still counted in its zone: the next pass retries the write.
        zoneReady.set(zone, [...(zoneReady.get(zone) ?? []), readyOf(cached)]);
        continue;
      }
      const ready = readyOf(node);
      zoneReady.set(zone, [...(zoneReady.get(zone) ?? []), ready]);
      this.processTaintBaseEviction(node, ready);
      await this.markPodsOnTransition(name, ready?.status ?? 'Unknown');
    }
    await this.handleDisruption(zoneReady, all);
  }

  /**
   * upstream's tryUpdateNodeHealth: a changed Ready heartbeat or a renewed
   * Lease counts as a probe; with none for the grace period, every kubelet
   * condition turns Unknown. Returns the node as now written.
   */
  private async tryUpdateNodeHealth(node: Node): Promise<Node> {
    const name = node.metadata!.name!;
    const now = Date.now();
    const ready = readyOf(node);
    const lease = this.leases.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    let h = this.health.get(name);
    if (!h) {
      h = { probeTimestamp: now, lastHeartbeatTime: ready?.lastHeartbeatTime, leaseRenewTime: lease?.spec?.renewTime };
      this.health.set(name, h);
    }
    if (ready?.lastHeartbeatTime !== h.lastHeartbeatTime) { h.lastHeartbeatTime = ready?.lastHeartbeatTime; h.probeTimestamp = now; }
    const renew = lease?.spec?.renewTime;
    if (renew && (!h.leaseRenewTime || Date.parse(renew) > Date.parse(h.leaseRenewTime))) { h.leaseRenewTime = renew; h.probeTimestamp = now; }

    // A node that never posted Ready gets the startup allowance, as upstream.
    const grace = ready ? this.grace : this.startupGrace;
    if (now <= h.probeTimestamp + grace) return node;
    const conditions = [...(node.status?.conditions ?? [])];
    let changed = false;
    const at = nowString();
    for (const type of KUBELET_CONDITIONS) {
      const i = conditions.findIndex((c) => c.type === type);
      if (i < 0) {
        conditions.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: at });
        changed = true;
      } else if (conditions[i].status !== 'Unknown') {
        conditions[i] = { ...conditions[i], status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: at };
        changed = true;
      }
    }
    if (!changed) return node;
    this.log(`${COMPONENT}: node ${name} hasn't been updated for ${Math.round((now - h.probeTimestamp) / 1000)}s; its conditions are now Unknown`);
    const written = await this.client.updateStatus(nodes, { ...node, status: { ...node.status, conditions } });
    h.lastHeartbeatTime = readyOf(written)?.lastHeartbeatTime;
    this.recorder.event({ ...written, apiVersion: 'v1', kind: 'Node', metadata: { ...written.metadata, namespace: '' } }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    return written;
  }

  /**
   * upstream's MarkPodsNotReady, on a node's turn away from Ready=True: its
   * pods' Ready condition goes False so Services stop sending them traffic
   * before any eviction.
   */
  private async markPodsOnTransition(name: string, status: string): Promise<void> {
    const h = this.health.get(name);
    if (!h) return;
    if (h.readyStatus === 'True' && status !== 'True') h.markPods = true;
    if (status === 'True') h.markPods = false;
    h.readyStatus = status;
    if (!h.markPods) return;
    let failed = false;
    for (const pod of this.pods.byIndex(NODE_NAME_INDEX, name)) {
      const conditions = pod.status?.conditions ?? [];
      const i = conditions.findIndex((c) => c.type === 'Ready');
      if (i < 0 || conditions[i].status === 'False') continue;
      const next = [...conditions];
      next[i] = { ...conditions[i], status: 'False', lastTransitionTime: nowString() };
      try {
        await this.client.updateStatus(pods, { ...pod, status: { ...pod.status, conditions: next } });
      } catch (err) {
        if (!isNotFound(err)) failed = true;
      }
    }
    h.markPods = failed;
  }

  // ---- NoExecute taints, rate-limited per zone ---------------------------------------

  /** upstream's processTaintBaseEviction: queue a sick node for its NoExecute taint; a healthy one loses it now. */
  private processTaintBaseEviction(node: Node, ready: NodeCondition | undefined): void {
    const name = node.metadata!.name!;
    const status = ready?.status ?? 'Unknown';
    const taints = node.spec?.taints ?? [];
    const queue = this.zoneTainters.get(zoneKeyOf(node))!;
    if (status === 'False' || status === 'Unknown') {
      const want = status === 'False' ? NOT_READY_NO_EXECUTE : UNREACHABLE_NO_EXECUTE;
      const other = status === 'False' ? UNREACHABLE_NO_EXECUTE : NOT_READY_NO_EXECUTE;
      if (taints.some((t) => sameTaint(t, want))) { queue.remove(name); this.pendingTaint.delete(name); return; }
      // Already evicting for the other reason: swap at once, the rate limit was paid.
      if (taints.some((t) => sameTaint(t, other))) { this.background(this.swapNoExecute(name, want, other)); return; }
      this.pendingTaint.set(name, status);
      queue.add(name);
      return;
    }
    queue.remove(name);
    this.pendingTaint.delete(name);
    if (taints.some((t) => sameTaint(t, UNREACHABLE_NO_EXECUTE) || sameTaint(t, NOT_READY_NO_EXECUTE))) this.background(this.markNodeAsReachable(name));
  }

  /** upstream's doNoExecuteTaintingPass: each zone's queue yields nodes as fast as its limiter allows. */
  async doNoExecuteTaintingPass(): Promise<void> {
    // A health pass in progress may be about to lower a zone's rate: wait for its verdict.
    if (this.monitoring) return;
    for (const queue of this.zoneTainters.values()) {
      await queue.try(async (name) => {
        const node = this.nodes.get(name);
        const status = this.pendingTaint.get(name);
        if (!node || !status) return true;
        const current = readyOf(node)?.status ?? 'Unknown';
        // Healthy again while it waited: nothing to do.
        if (current !== 'False' && current !== 'Unknown') { this.pendingTaint.delete(name); return true; }
        const want = current === 'False' ? NOT_READY_NO_EXECUTE : UNREACHABLE_NO_EXECUTE;
        const other = current === 'False' ? UNREACHABLE_NO_EXECUTE : NOT_READY_NO_EXECUTE;
        const ok = await this.swapNoExecute(name, want, other);
        if (ok) this.pendingTaint.delete(name);
        return ok;
      });
    }
  }

  /** Taint writes started from the health pass do not hold it up; the next pass retries a failed one. */
  private background(p: Promise<unknown>): void {
    p.catch((err: unknown) => this.log(`${COMPONENT}: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async swapNoExecute(name: string, add: Taint, remove: Taint): Promise<boolean> {
    return this.updateTaints(name, (taints) => {
      const kept = taints.filter((t) => !sameTaint(t, remove));
      if (kept.some((t) => sameTaint(t, add))) return kept;
      return [...kept, { ...add, timeAdded: nowString() }];
    });
  }

  /** upstream's markNodeAsReachable: both NoExecute taints go. */
  private async markNodeAsReachable(name: string): Promise<boolean> {
    return this.updateTaints(name, (taints) => taints.filter((t) => !sameTaint(t, UNREACHABLE_NO_EXECUTE) && !sameTaint(t, NOT_READY_NO_EXECUTE)));
  }

  /** Read-modify-write of the node's taints on the latest object; false if it could not be written. */
  private async updateTaints(name: string, change: (taints: Taint[]) => Taint[]): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let node: Node;
      try { node = await this.client.get(nodes, undefined, name); } catch (err) { if (isNotFound(err)) return true; throw err; }
      const before = node.spec?.taints ?? [];
      const after = change(before);
      if (JSON.stringify(before) === JSON.stringify(after)) return true;
      try {
        await this.client.update(nodes, { ...node, spec: { ...node.spec, taints: after.length ? after : undefined } });
        return true;
      } catch (err) {
        if (isNotFound(err)) return true;
        if (!isConflict(err)) { this.log(`${COMPONENT}: tainting ${name}: ${err instanceof Error ? err.message : String(err)}`); return false; }
      }
    }
    return false;
  }

  // ---- zones -------------------------------------------------------------------------

  /**
   * upstream's handleDisruption. A zone with no Ready node is fully disrupted
   * and still evicts at the normal rate — its pods can go elsewhere — unless
   * every zone is: then the likelier fault is ours (the control plane lost
   * the nodes), so all NoExecute taints are lifted and nothing is evicted.
   */
  private async handleDisruption(zoneReady: Map<string, Array<NodeCondition | undefined>>, all: Node[]): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conds] of zoneReady) {
      const { state } = computeZoneState(conds, this.unhealthyThreshold);
      newStates.set(zone, state);
      if (state !== 'FullDisruption') allAreFullyDisrupted = false;
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of this.zoneStates) {
      if (!zoneReady.has(zone)) { this.zoneStates.delete(zone); this.zoneTainters.delete(zone); continue; }
      if (state !== 'FullDisruption') allWasFullyDisrupted = false;
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;

    if (allAreFullyDisrupted) {
      this.log(`${COMPONENT}: all nodes are not ready; entering master disruption mode`);
      for (const n of all) await this.markNodeAsReachable(n.metadata!.name!);
      for (const zone of this.zoneStates.keys()) { this.zoneTainters.get(zone)?.swapLimiter(0); this.zoneStates.set(zone, 'FullDisruption'); }
      return;
    }
    if (allWasFullyDisrupted) {
      this.log(`${COMPONENT}: some nodes are ready; exiting master disruption mode`);
      // Nodes silent during the outage get a fresh grace period, as upstream.
      const now = Date.now();
      for (const h of this.health.values()) h.probeTimestamp = now;
      for (const zone of this.zoneStates.keys()) this.setZoneState(zone, zoneReady.get(zone)!.length, newStates.get(zone)!);
      return;
    }
    for (const [zone, state] of this.zoneStates) {
      const next = newStates.get(zone)!;
      if (state !== next) this.setZoneState(zone, zoneReady.get(zone)!.length, next);
    }
  }

  private setZoneState(zone: string, size: number, state: ZoneState): void {
    this.log(`${COMPONENT}: zone ${zoneLabel(zone)} is now in state ${state}`);
    this.zoneStates.set(zone, state);
    // upstream's setLimiterInZone with ReducedQPSFunc for partial and HealthyQPSFunc for full disruption.
    const qps = state === 'PartialDisruption' ? (size <= this.largeCluster ? 0 : this.secondaryRate) : this.evictionRate;
    this.zoneTainters.get(zone)?.swapLimiter(qps);
  }

  /** The state of each zone, by readable zone name (tests, debugging). */
  zoneStatesByName(): Record<string, ZoneState> {
    return Object.fromEntries([...this.zoneStates].map(([k, v]) => [zoneLabel(k), v]));
  }

  // ---- NoSchedule taints by condition ------------------------------------------------

  /** upstream's doNoScheduleTaintingPass: NoSchedule taints follow the conditions and spec.unschedulable at once, without rate limits. */
  async doNoScheduleTaintingPass(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) return;
    const want: Taint[] = [];
    for (const c of node.status?.conditions ?? []) {
      const key = CONDITION_TAINTS[c.type]?.[c.status];
      if (key) want.push({ key, effect: 'NoSchedule' });
    }
    if (node.spec?.unschedulable) want.push({ key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule' });
    const owned = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' && NO_SCHEDULE_KEYS.has(t.key));
    const toAdd = want.filter((w) => !owned.some((t) => sameTaint(t, w)));
    const toRemove = owned.filter((t) => !want.some((w) => sameTaint(t, w)));
    if (!toAdd.length && !toRemove.length) return;
    const ok = await this.updateTaints(name, (taints) => [
      ...taints.filter((t) => !toRemove.some((r) => sameTaint(t, r))),
      ...toAdd.filter((a) => !taints.some((t) => sameTaint(t, a))),
    ]);
    if (!ok) throw new Error(`could not update the NoSchedule taints of ${name}`);
  }
}

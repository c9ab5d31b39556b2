import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { setMaxListeners } from 'node:events';
import {
  ApiError, Client, Informer, WorkQueue, exponential, keyOf, leases, microTime, nodes, pods,
} from '../client/index.js';
import {
  DEFAULT_SHAPE, defaultClusterCidr, hollowNode, ipString, nodeConditions, nodeInternalIP, nodePodCidr, parseCidr,
  timestamp, type Cidr, type NodeShape,
} from './node-spec.js';
import { desiredPhase, hollowPodStatus, statusMatches } from './pod-status.js';
import { HollowKubeletApi, hollowSummary, usageFromAnnotations, type PodUsage } from './kubelet-api.js';
import { KUBELET_ADDRESS_ANNOTATION, KUBELET_CERT_SHA256_ANNOTATION } from '../metrics/kubelet-address.js';
import type { Summary } from '../metrics/summary.js';

export type { PodUsage } from './kubelet-api.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface HollowNodesOptions {
  /** Client-side rate limiting should be off (`qps: 0`): the simulator bounds itself with `concurrency`. */
  client: Client;
  count: number;
  /** Default `hollow-`: nodes are `hollow-0`, `hollow-1`, … */
  namePrefix?: string;
  /** First index, so several simulators can share one cluster without overlapping names or CIDRs. */
  startIndex?: number;
  cpu?: string;
  memory?: string;
  pods?: number;
  ephemeralStorage?: string;
  arch?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  /** `topology.kubernetes.io/zone` values zone-a, zone-b, … round-robin; default 3. */
  zones?: number;
  /** Where pod CIDRs come from when the server assigns none: default 10.42.0.0/16 up to 256 nodes, else 10.128.0.0/9. */
  clusterCidr?: string;
  nodeCidrMaskSize?: number;
  leaseDurationSeconds?: number;
  /** Default 10 s, the kubelet's: each node's Lease renewal, spread evenly over the interval. */
  leaseRenewIntervalMs?: number;
  /** Default 60 s: node status with fresh `lastHeartbeatTime`s (and at once on a change). */
  statusUpdateIntervalMs?: number;
  /** How long a bound pod stays Pending before the hollow kubelet "starts" it; default 100 ms. */
  podStartDelayMs?: number;
  /**
   * A deleted pod is removed once its grace period ends, as a kubelet does
   * when its containers stop; this caps the wait (e.g. 1000 for fast tests).
   */
  maxDeletionGraceMs?: number;
  /**
   * Default true. False: nodes and heartbeats only, no pod is touched (a
   * scheduler benchmark that measures binding alone, without the status writes).
   */
  kubelet?: boolean;
  /** Requests in flight at most, over registration, heartbeats and pods; default 32. */
  concurrency?: number;
  log?: (message: string) => void;
  /**
   * The cluster CA. Given, the nodes share one HTTPS kubelet API on
   * 127.0.0.1 serving `/stats/summary` (synthetic usage) to the API
   * server's kubelet client certificate; each Node points at it with the
   * `bosun.io/kubelet-address` annotation and its kubelet endpoint port.
   */
  kubeletApiClientCA?: string;
  /** Called as nodes register (for progress lines). */
  onRegistered?: (done: number, total: number) => void;
}

export interface HollowStats {
  leaseRenewals: number;
  nodeStatusUpdates: number;
  podStatusWrites: number;
  podDeletions: number;
  errors: number;
}

interface NodeState {
  name: string;
  index: number;
  uid: string;
  podCIDR: string;
  cidr: Cidr;
  hostIP: string;
  heartbeating: boolean;
  ready: boolean;
  conditions: NodeCondition[];
  /** Phase inside the heartbeat intervals, so renewals of many nodes do not burst. */
  phase: number;
  leaseTimer?: NodeJS.Timeout;
  statusTimer?: NodeJS.Timeout;
  leaseBusy: boolean;
  statusBusy: boolean;
  /** Host offset inside the pod CIDR → pod key. */
  ips: Map<number, string>;
  nextOffset: number;
}

interface PodState { uid: string; node: string; ip: string; seenAt: number; runningSince?: number }

/** A counting semaphore: at most `limit` requests in flight. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try { return await fn(); } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const isCode = (err: unknown, code: number): boolean => err instanceof ApiError && err.code === code;
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A set of hollow nodes: Node objects with Lease heartbeats and status, and
 * a fake kubelet that marks pods bound to them Running and removes deleted
 * ones. No container runs and no packet is sent: pod IPs are strings.
 */
export class HollowCluster {
  readonly nodeNames: string[];
  /** Synthetic usage by pod key (`namespace/name`), reported by the kubelet API's `/stats/summary`. */
  readonly usage = new Map<string, PodUsage>();
  private usageSource?: (pod: Pod) => PodUsage | undefined;
  private kubeletApi?: HollowKubeletApi;
  readonly stats: HollowStats = { leaseRenewals: 0, nodeStatusUpdates: 0, podStatusWrites: 0, podDeletions: 0, errors: 0 };

  private readonly client: Client;
  private readonly nodes = new Map<string, NodeState>();
  private readonly podStates = new Map<string, PodState>();
  private readonly deletionSeen = new Map<string, number>();
  private readonly abort = new AbortController();
  private readonly limiter: Limiter;
  private readonly queue: WorkQueue<string>;
  private readonly informer: Informer<Pod>;
  private readonly log: (message: string) => void;
  private readonly shape: NodeShape;
  private readonly leaseInterval: number;
  private readonly statusInterval: number;
  private readonly leaseDuration: number;
  private readonly startDelay: number;
  private readonly maxGraceMs: number;
  private workers?: Promise<void>;
  private stopped = false;

  /** Use `startHollowNodes`. */
  constructor(private readonly opts: HollowNodesOptions) {
    if (!Number.isInteger(opts.count) || opts.count < 0) throw new Error(`invalid node count ${opts.count}`);
    this.client = opts.client;
    this.log = opts.log ?? (() => {});
    this.limiter = new Limiter(Math.max(1, opts.concurrency ?? 32));
    // Every request in flight listens on the stop signal; the limiter bounds how many.
    setMaxListeners(Math.max(64, 4 * (opts.concurrency ?? 32)), this.abort.signal);
    this.leaseInterval = opts.leaseRenewIntervalMs ?? 10_000;
    this.statusInterval = opts.statusUpdateIntervalMs ?? 60_000;
    this.leaseDuration = opts.leaseDurationSeconds ?? 40;
    this.startDelay = opts.podStartDelayMs ?? 100;
    this.maxGraceMs = opts.maxDeletionGraceMs ?? Infinity;
    this.shape = {
      cpu: opts.cpu ?? DEFAULT_SHAPE.cpu, memory: opts.memory ?? DEFAULT_SHAPE.memory, pods: opts.pods ?? DEFAULT_SHAPE.pods,
      ephemeralStorage: opts.ephemeralStorage ?? DEFAULT_SHAPE.ephemeralStorage, arch: opts.arch ?? DEFAULT_SHAPE.arch,
      labels: opts.labels ?? {}, taints: opts.taints ?? [], zones: opts.zones ?? DEFAULT_SHAPE.zones,
    };
    const prefix = opts.namePrefix ?? 'hollow-';
    const start = opts.startIndex ?? 0;
    const clusterCidr = opts.clusterCidr ?? defaultClusterCidr(start + opts.count - 1);
    this.nodeNames = [];
    for (let i = 0; i < opts.count; i++) {
      const index = start + i;
      const name = `${prefix}${index}`;
      const podCIDR = nodePodCidr(clusterCidr, index, opts.nodeCidrMaskSize ?? 24);
      this.nodeNames.push(name);
      this.nodes.set(name, {
        name, index, uid: '', podCIDR, cidr: parseCidr(podCIDR), hostIP: nodeInternalIP(index),
        heartbeating: true, ready: true, conditions: [], phase: opts.count ? i / opts.count : 0,
        leaseBusy: false, statusBusy: false, ips: new Map(), nextOffset: 2,
      });
    }
    this.queue = new WorkQueue<string>({
      name: 'hollow-kubelet',
      rateLimiter: exponential<string>(5, 10_000),
      onError: (key, err) => { this.stats.errors++; if (!isCode(err, 409)) this.log(`pod ${key}: ${message(err)}`); },
    });
    this.informer = new Informer<Pod>(this.client, pods, { log: (m) => this.log(`pod informer: ${m}`) });
    this.informer.addIndex('nodeName', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
  }

  // ---- public API --------------------------------------------------------------------

  /** The pod CIDR a node uses (the server's if it assigned one). */
  podCIDR(nodeName: string): string { return this.node(nodeName).podCIDR; }

  /** Stops a node's Lease renewals and status updates and its kubelet work, as if the machine died. */
  stopHeartbeat(nodeName: string): void {
    const n = this.node(nodeName);
    n.heartbeating = false;
    clearTimeout(n.leaseTimer);
    clearTimeout(n.statusTimer);
    n.leaseTimer = n.statusTimer = undefined;
    this.log(`${nodeName}: heartbeat stopped`);
  }

  /** Brings a stopped node back: renews at once, then on its usual schedule; its pods are looked at again. */
  resumeHeartbeat(nodeName: string): void {
    const n = this.node(nodeName);
    if (n.heartbeating || this.stopped) return;
    n.heartbeating = true;
    this.log(`${nodeName}: heartbeat resumed`);
    this.scheduleLease(n, 0);
    this.scheduleStatus(n, 0);
    if (this.informer.hasSynced()) for (const p of this.informer.lister().byIndex('nodeName', nodeName)) this.queue.add(keyOf(p));
  }

  /** Alias of `resumeHeartbeat`. */
  resume(nodeName: string): void { this.resumeHeartbeat(nodeName); }

  isHeartbeating(nodeName: string): boolean { return this.node(nodeName).heartbeating; }

  /** Makes the node report Ready=False (or True again) on its next status write, which happens at once. */
  setReady(nodeName: string, ready: boolean): void {
    const n = this.node(nodeName);
    if (n.ready === ready) return;
    n.ready = ready;
    if (n.heartbeating) this.scheduleStatus(n, 0);
  }

  /** A pod's usage from now on; it wins over `setUsageSource` and the pod's `sim.bosun.io/*-usage` annotations. */
  setUsage(podKey: string, usage: PodUsage): void { this.usage.set(podKey, usage); }

  /** Usage for pods without a `setUsage` entry, asked at every scrape (e.g. a load shared by a Deployment's pods). */
  setUsageSource(source: ((pod: Pod) => PodUsage | undefined) | undefined): void { this.usageSource = source; }

  /** The kubelet API's port on 127.0.0.1 (0 without `kubeletApiClientCA`). */
  get kubeletPort(): number { return this.kubeletApi?.port ?? 0; }

  /**
   * What `/stats/summary` reports for a node: its Running pods (not being
   * deleted) with their usage — `setUsage`, else the usage source, else the
   * annotations, else zero — and the node as their sum.
   */
  summary(nodeName: string): Summary | undefined {
    const n = this.nodes.get(nodeName);
    if (!n || !n.heartbeating || !this.informer.hasSynced()) return undefined;
    const running = this.informer.lister().byIndex('nodeName', nodeName)
      .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    return hollowSummary(nodeName, running.map((pod) => ({
      pod,
      usage: this.usage.get(keyOf(pod)) ?? this.usageSource?.(pod) ?? usageFromAnnotations(pod) ?? { cpuMillicores: 0, memoryBytes: 0 },
    })));
  }

  /**
   * Stops heartbeats and the kubelet. With `deleteNodes`, removes the nodes
   * and their Leases (pods bound to them are left to the garbage collector).
   */
  async stop(opts: { deleteNodes?: boolean } = {}): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      for (const n of this.nodes.values()) { clearTimeout(n.leaseTimer); clearTimeout(n.statusTimer); }
      this.abort.abort();
      this.queue.shutDown();
      await this.workers;
      await this.kubeletApi?.stop();
    }
    if (opts.deleteNodes) {
      const gone = (err: unknown) => { if (!isCode(err, 404)) throw err; };
      await Promise.all([...this.nodes.values()].map((n) => this.limiter.run(async () => {
        await this.client.delete(leases, NODE_LEASE_NAMESPACE, n.name).catch(gone);
        await this.client.delete(nodes, undefined, n.name).catch(gone);
      })));
    }
  }

  // ---- startup -----------------------------------------------------------------------

  /** Registers every node, then starts heartbeats and the pod informer; resolves once the informer synced. */
  async start(): Promise<void> {
    if (this.opts.kubeletApiClientCA && this.opts.kubelet !== false) {
      this.kubeletApi = new HollowKubeletApi({ clientCAPem: this.opts.kubeletApiClientCA, summary: (node) => this.summary(node) });
      await this.kubeletApi.start();
      this.log(`kubelet API for ${this.nodes.size} nodes on https://127.0.0.1:${this.kubeletApi.port}`);
    }
    let done = 0;
    const failures: string[] = [];
    await Promise.all([...this.nodes.values()].map(async (n) => {
      try {
        await this.register(n);
      } catch (err) {
        failures.push(`${n.name}: ${message(err)}`);
        return;
      }
      done++;
      this.opts.onRegistered?.(done, this.nodes.size);
      // Heartbeats start as each node registers, at the node's phase in the interval.
      this.scheduleLease(n, n.phase * this.leaseInterval);
      this.scheduleStatus(n, n.phase * this.statusInterval + this.statusInterval);
    }));
    if (failures.length) {
      await this.stop();
      throw new Error(`${failures.length} hollow node(s) failed to register: ${failures.slice(0, 3).join('; ')}`);
    }
    if (this.opts.kubelet === false) return;
    this.informer.onChange((pod, type) => {
      const key = keyOf(pod);
      if (type === 'delete') { this.forgetPod(key); return; }
      if (pod.spec?.nodeName && this.nodes.has(pod.spec.nodeName)) this.queue.add(key);
    });
    this.informer.start(this.abort.signal);
    this.workers = this.queue.process(Math.max(1, this.opts.concurrency ?? 32), (key) => this.limiter.run(() => this.syncPod(key)), this.abort.signal);
    await this.informer.waitForSync(this.abort.signal);
  }

  private node(name: string): NodeState {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`${name} is not a node of this simulator`);
    return n;
  }

  private async register(n: NodeState): Promise<void> {
    const want = hollowNode(n.name, n.index, this.shape);
    if (this.kubeletApi) {
      // InternalIP stays the made-up 10.99.x.y (the scheduler's and others' view); the scraper goes to loopback.
      want.metadata!.annotations = {
        ...want.metadata!.annotations,
        [KUBELET_ADDRESS_ANNOTATION]: '127.0.0.1',
        [KUBELET_CERT_SHA256_ANNOTATION]: this.kubeletApi.certSha256,
      };
      want.status!.daemonEndpoints = { kubeletEndpoint: { Port: this.kubeletApi.port } };
    }
    n.conditions = want.status!.conditions!;
    let node = await this.limiter.run(async () => {
      try {
        return await this.client.create(nodes, want);
      } catch (err) {
        if (!isCode(err, 409)) throw err;
        return await this.retake(n.name, want);
      }
    });
    if (!node.spec?.podCIDR) node = await this.limiter.run(() => this.assignPodCIDR(node, n.podCIDR));
    n.podCIDR = node.spec!.podCIDR!;
    n.cidr = parseCidr(n.podCIDR);
    n.uid = node.metadata?.uid ?? '';
    await this.limiter.run(() => this.ensureLease(n));
  }

  /** A node left by an earlier run: take it over with this run's labels, taints and a Ready status. */
  private async retake(name: string, want: Node): Promise<Node> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.client.get(nodes, undefined, name);
      try {
        const updated = await this.client.update(nodes, {
          ...cur,
          metadata: {
            ...cur.metadata, labels: { ...cur.metadata?.labels, ...want.metadata?.labels },
            annotations: { ...cur.metadata?.annotations, ...want.metadata?.annotations },
          },
          spec: { ...cur.spec, taints: want.spec?.taints },
        });
        return await this.client.updateStatus(nodes, { ...updated, status: want.status });
      } catch (err) {
        if (!isCode(err, 409) || attempt >= 3) throw err;
      }
    }
  }

  /** No node IPAM assigned one: take this node's deterministic CIDR, unless someone sets one meanwhile. */
  private async assignPodCIDR(node: Node, cidr: string): Promise<Node> {
    let cur = node;
    for (let attempt = 0; ; attempt++) {
      if (cur.spec?.podCIDR) return cur;
      try {
        return await this.client.update(nodes, { ...cur, spec: { ...cur.spec, podCIDR: cidr, podCIDRs: [cidr] } });
      } catch (err) {
        if (!isCode(err, 409) || attempt >= 3) throw err;
        cur = await this.client.get(nodes, undefined, cur.metadata!.name!);
      }
    }
  }

  private leaseObject(n: NodeState): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: {
        name: n.name, namespace: NODE_LEASE_NAMESPACE,
        // As the kubelet does: the node's garbage collection takes its Lease along.
        ownerReferences: n.uid ? [{ apiVersion: 'v1', kind: 'Node', name: n.name, uid: n.uid }] : undefined,
      },
      spec: { holderIdentity: n.name, leaseDurationSeconds: this.leaseDuration, renewTime: microTime(Date.now()) },
    };
  }

  private async ensureLease(n: NodeState): Promise<void> {
    try {
      await this.client.create(leases, this.leaseObject(n));
    } catch (err) {
      if (!isCode(err, 409)) throw err;
      await this.renewLease(n);
    }
  }

  // ---- heartbeats --------------------------------------------------------------------

  private scheduleLease(n: NodeState, delayMs: number): void {
    clearTimeout(n.leaseTimer);
    n.leaseTimer = setTimeout(() => {
      if (!n.heartbeating || this.stopped) return;
      this.scheduleLease(n, this.leaseInterval);
      // A renewal still in flight (slow server) is not doubled up.
      if (n.leaseBusy) return;
      n.leaseBusy = true;
      this.limiter.run(() => this.renewLease(n))
        .catch((err: unknown) => { if (!this.stopped) { this.stats.errors++; this.log(`${n.name}: lease renewal failed: ${message(err)}`); } })
        .finally(() => { n.leaseBusy = false; });
    }, delayMs);
  }

  private async renewLease(n: NodeState): Promise<void> {
    if (!n.heartbeating || this.stopped) return;
    try {
      await this.client.patch(leases, NODE_LEASE_NAMESPACE, n.name, {
        spec: { holderIdentity: n.name, leaseDurationSeconds: this.leaseDuration, renewTime: microTime(Date.now()) },
      }, 'merge-patch', { signal: this.abort.signal });
      this.stats.leaseRenewals++;
    } catch (err) {
      if (!isCode(err, 404)) throw err;
      await this.client.create(leases, this.leaseObject(n), { signal: this.abort.signal });
      this.stats.leaseRenewals++;
    }
  }

  private scheduleStatus(n: NodeState, delayMs: number): void {
    clearTimeout(n.statusTimer);
    n.statusTimer = setTimeout(() => {
      if (!n.heartbeating || this.stopped) return;
      this.scheduleStatus(n, this.statusInterval);
      if (n.statusBusy) return;
      n.statusBusy = true;
      this.limiter.run(() => this.updateNodeStatus(n))
        .catch((err: unknown) => { if (!this.stopped) { this.stats.errors++; this.log(`${n.name}: status update failed: ${message(err)}`); } })
        .finally(() => { n.statusBusy = false; });
    }, delayMs);
  }

  private async updateNodeStatus(n: NodeState): Promise<void> {
    if (!n.heartbeating || this.stopped) return;
    const conditions = nodeConditions(timestamp(), n.ready, n.conditions);
    // Merge-patch replaces the whole list, which is what we mean: these four are the kubelet's.
    await this.client.patch(nodes, undefined, n.name, { status: { conditions } }, 'merge-patch', { subresource: 'status', signal: this.abort.signal });
    n.conditions = conditions;
    this.stats.nodeStatusUpdates++;
  }

  // ---- the hollow kubelet ------------------------------------------------------------

  private forgetPod(key: string): void {
    this.deletionSeen.delete(key);
    const st = this.podStates.get(key);
    if (!st) return;
    this.podStates.delete(key);
    this.usage.delete(key);
    const n = this.nodes.get(st.node);
    const offset = n ? this.offsetOf(n, st.ip) : undefined;
    if (n && offset !== undefined && n.ips.get(offset) === key) n.ips.delete(offset);
  }

  private offsetOf(n: NodeState, ip: string): number | undefined {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p))) return undefined;
    const addr = parts.reduce((a, p) => a * 256 + p, 0);
    const off = addr - n.cidr.base;
    return off >= 0 && off < 2 ** (32 - n.cidr.prefix) ? off : undefined;
  }

  /** A free address in the node's CIDR: .1 is left for a gateway, the broadcast address unused, as host-local IPAM does. */
  private allocateIP(n: NodeState, key: string): string {
    const size = 2 ** (32 - n.cidr.prefix);
    for (let tries = 0; tries < size; tries++) {
      const off = n.nextOffset;
      n.nextOffset = off + 1 >= size - 1 ? 2 : off + 1;
      if (off < 2 || off >= size - 1 || n.ips.has(off)) continue;
      n.ips.set(off, key);
      return ipString(n.cidr.base + off);
    }
    throw new Error(`${n.name}: no free address left in ${n.podCIDR}`);
  }

  private podState(key: string, pod: Pod, n: NodeState): PodState {
    const uid = pod.metadata?.uid ?? '';
    let st = this.podStates.get(key);
    if (st && st.uid !== uid) { this.forgetPod(key); st = undefined; }
    if (st) return st;
    let ip: string;
    if (pod.spec?.hostNetwork) ip = n.hostIP;
    else {
      // A pod this simulator started in an earlier run keeps its address.
      const known = pod.status?.podIP;
      const off = known ? this.offsetOf(n, known) : undefined;
      if (known && off !== undefined && !n.ips.has(off)) { n.ips.set(off, key); ip = known; } else ip = this.allocateIP(n, key);
    }
    const started = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
    st = { uid, node: n.name, ip, seenAt: Date.now(), runningSince: pod.status?.phase === 'Running' ? started : undefined };
    this.podStates.set(key, st);
    return st;
  }

  private async syncPod(key: string): Promise<void> {
    if (this.stopped) return;
    const pod = this.informer.lister().get(key);
    if (!pod) { this.forgetPod(key); return; }
    const n = pod.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    // A dead node's kubelet does nothing; resume looks at its pods again.
    if (!n || !n.heartbeating) return;
    const meta = pod.metadata ?? {};

    if (meta.deletionTimestamp) {
      const graceMs = (meta.deletionGracePeriodSeconds ?? 0) * 1000;
      // deletionTimestamp has whole seconds only: a capped wait counts from when this kubelet saw the deletion.
      const deadline = Date.parse(meta.deletionTimestamp);
      let seen = this.deletionSeen.get(key);
      if (seen === undefined) { seen = Date.now(); this.deletionSeen.set(key, seen); }
      const removeAt = Math.min(deadline, seen + Math.min(graceMs, this.maxGraceMs));
      const wait = removeAt - Date.now();
      if (wait > 0) { this.queue.addAfter(key, wait); return; }
      try {
        await this.client.delete(pods, meta.namespace, meta.name!, { gracePeriodSeconds: 0, preconditions: { uid: meta.uid } });
        this.stats.podDeletions++;
      } catch (err) {
        if (!isCode(err, 404) && !isCode(err, 409)) throw err;
      }
      return;
    }

    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;

    const st = this.podState(key, pod, n);
    const now = Date.now();
    if (phase !== 'Running' && now - st.seenAt < this.startDelay) {
      this.queue.addAfter(key, st.seenAt + this.startDelay - now);
      return;
    }
    const want = desiredPhase(pod, st.runningSince, now);
    if (!statusMatches(pod, want, st.ip)) {
      const status = hollowPodStatus(pod, want, { podIP: st.ip, hostIP: n.hostIP }, now);
      await this.client.updateStatus(pods, { ...pod, status }, { signal: this.abort.signal });
      this.stats.podStatusWrites++;
      if (want.phase === 'Running' && st.runningSince === undefined) st.runningSince = now;
    }
    // Look again when the pod is due to complete (`sim.bosun.io/complete-after`).
    const { completeAt } = desiredPhase(pod, st.runningSince, now);
    if (completeAt !== undefined) this.queue.addAfter(key, Math.max(1, completeAt - Date.now()));
  }
}

/** Registers `count` hollow nodes and starts their heartbeats and kubelet; `stop()` ends them. */
export async function startHollowNodes(opts: HollowNodesOptions): Promise<HollowCluster> {
  const cluster = new HollowCluster(opts);
  await cluster.start();
  return cluster;
}

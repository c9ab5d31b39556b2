import type { Node, NodeStatus, Pod, Taint } from 'kubernetes-types/core/v1';
import { Client, EventRecorder, Informer, isNotFound, nodes, pods } from '../client/index.js';
import { Backoff } from './backoff.js';
import type { CriClient } from './cri/client.js';
import { buildNodeStatus, registerNode, renewLease, type NodeIdentity } from './node-status.js';
import { ObjectCache } from './object-cache.js';
import { PodWorkers } from './pod-workers.js';
import { ProbeManager } from './probes/manager.js';
import { PodSyncer } from './sync-pod.js';

export interface KubeletOptions {
  client: Client;
  nodeName: string;
  nodeIP: string;
  runtime: CriClient;
  /** `<data-dir>/agent/kubelet`: pods' volumes under `pods/<uid>/volumes`. */
  rootDir: string;
  /** `<data-dir>/agent/pod-logs`: `<ns>_<name>_<uid>/<container>/<restartCount>.log`. */
  podLogsDir: string;
  clusterDNS?: string[];
  clusterDomain?: string;
  nodeLabels?: Record<string, string>;
  nodeTaints?: Taint[];
  kubeletPort?: number;
  /** Concurrent pod syncs. */
  podWorkers?: number;
  /** Lease renewal (10 s) and the longest gap between status writes (1 min), as upstream's defaults. */
  leaseRenewIntervalMs?: number;
  nodeStatusReportMs?: number;
  /** Upstream's --sync-frequency (1 min): idle pods are re-synced, configMap/secret volumes refreshed, this often. */
  syncFrequencyMs?: number;
  log?: (message: string) => void;
}

/**
 * bosun's kubelet: registers the Node, keeps its Lease and status fresh, and
 * runs the pods bound to it as CRI sandboxes and containers. Everything it
 * needs to carry on after a restart is in the API and the runtime.
 */
export class Kubelet {
  readonly nodeName: string;
  readonly runtime: CriClient;
  private readonly client: Client;
  private readonly log: (m: string) => void;
  private readonly identity: NodeIdentity;
  private readonly informer: Informer<Pod>;
  private readonly workers: PodWorkers;
  private readonly probes: ProbeManager;
  private node?: Node;
  private lastStatus?: NodeStatus;
  private lastStatusWrite = 0;
  private runtimeVersion = '';

  constructor(private readonly o: KubeletOptions) {
    this.client = o.client;
    this.nodeName = o.nodeName;
    this.runtime = o.runtime;
    this.log = o.log ?? ((m) => console.error(`kubelet: ${m}`));
    this.identity = {
      nodeName: o.nodeName, nodeIP: o.nodeIP, labels: o.nodeLabels ?? {}, taints: o.nodeTaints ?? [],
      kubeletPort: o.kubeletPort ?? 10250, rootDir: o.rootDir,
    };
    this.informer = new Informer(o.client, pods, { fieldSelector: `spec.nodeName=${o.nodeName}`, log: (m) => this.log(`pod informer: ${m}`) });
    this.probes = new ProbeManager(o.runtime, (key) => { const p = this.informer.lister().get(key); if (p) this.workers.enqueue(p); }, this.log);
    const syncer = new PodSyncer({
      client: o.client, runtime: o.runtime, objects: new ObjectCache(o.client, (o.syncFrequencyMs ?? 60_000) / 2), syncFrequencyMs: o.syncFrequencyMs, probes: this.probes,
      recorder: new EventRecorder(o.client, 'kubelet', o.nodeName), backoff: new Backoff(),
      sandboxEnv: { podLogsDir: o.podLogsDir, nodeName: o.nodeName, dns: { servers: o.clusterDNS ?? ['10.43.0.10'], domain: o.clusterDomain ?? 'cluster.local' } },
      rootDir: o.rootDir, hostIP: o.nodeIP,
      allocatable: () => ({ cpu: this.lastStatus?.allocatable?.cpu ?? '1', memory: this.lastStatus?.allocatable?.memory ?? '1Gi' }),
      log: this.log,
    });
    this.workers = new PodWorkers({ runtime: o.runtime, syncer, pods: this.informer.lister(), workers: o.podWorkers ?? 16, log: this.log });
    this.informer.onAdd((p) => this.workers.enqueue(p));
    // Our own status writes come back as updates; only changes the kubelet acts on start a sync.
    this.informer.onUpdate((old, p) => { if (needsSync(old, p)) this.workers.enqueue(p); });
    this.informer.onDelete((p) => this.workers.podDeleted(p));
  }

  /** The pods bound to this node, as the kubelet's cache has them. */
  pods(): Pod[] { return this.informer.lister().list(); }

  /** One pod bound to this node, from the same cache. */
  pod(namespace: string, name: string): Pod | undefined { return this.informer.lister().get(`${namespace}/${name}`); }

  /** The kubelet's memory of a pod (sandbox id, IP) for the kubelet API; undefined if it has none. */
  podState(uid: string) { return this.workers.state(uid); }

  /** Runs until `signal` aborts; running containers are left running (a restarted kubelet adopts them). */
  async run(signal: AbortSignal): Promise<void> {
    // containerd may still be starting (or restarting under its supervisor): wait for it.
    const v = await this.retry('container runtime', () => this.runtime.version(), signal);
    this.runtimeVersion = `${v.runtimeName}://${v.runtimeVersion.replace(/[~+].*$/, '')}`;
    this.node = await this.retry('register node', () => registerNode(this.client, this.identity), signal);
    if (signal.aborted) return;
    this.log(`node ${this.nodeName} registered (${this.runtimeVersion})`);
    await this.heartbeat(true).catch((err: unknown) => this.log(`node status: ${String(err)}`));
    const beat = setInterval(() => void this.heartbeat(false).catch((err: unknown) => this.log(`heartbeat: ${err instanceof Error ? err.message : String(err)}`)),
      this.o.leaseRenewIntervalMs ?? 10_000);
    try {
      this.informer.start(signal);
      await this.informer.waitForSync(signal);
      if (signal.aborted) return;
      await this.workers.run(signal);
    } finally {
      clearInterval(beat);
      this.probes.stopAll();
    }
  }

  private async heartbeat(force: boolean): Promise<void> {
    await renewLease(this.client, this.nodeName, this.node?.metadata?.uid);
    const status = await buildNodeStatus(this.identity, this.runtime, this.runtimeVersion, this.lastStatus);
    const changed = JSON.stringify(strip(status)) !== JSON.stringify(strip(this.lastStatus));
    if (!force && !changed && Date.now() - this.lastStatusWrite < (this.o.nodeStatusReportMs ?? 60_000)) return;
    try {
      this.node = await this.client.patch(nodes, undefined, this.nodeName, { status } as Record<string, unknown>, 'merge-patch', { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Someone deleted our Node: register again, as upstream's kubelet does.
      this.log(`node ${this.nodeName} was deleted; registering it again`);
      this.node = await registerNode(this.client, this.identity);
      this.node = await this.client.patch(nodes, undefined, this.nodeName, { status } as Record<string, unknown>, 'merge-patch', { subresource: 'status' });
    }
    this.lastStatus = status;
    this.lastStatusWrite = Date.now();
  }

  private async retry<T>(what: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try { return await fn(); } catch (err) {
        if (signal.aborted) throw err;
        this.log(`${what}: ${err instanceof Error ? err.message : String(err)}; retrying`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/**
 * Whether an update matters to the kubelet (upstream's pod config does the
 * same): spec, labels, annotations, deletion, or readiness-gate conditions —
 * not the status the kubelet itself just wrote.
 */
export function needsSync(old: Pod, pod: Pod): boolean {
  const m = (p: Pod) => [p.metadata?.uid, p.metadata?.labels, p.metadata?.annotations, p.metadata?.deletionTimestamp, p.metadata?.deletionGracePeriodSeconds];
  if (JSON.stringify(m(old)) !== JSON.stringify(m(pod))) return true;
  if (JSON.stringify(old.spec) !== JSON.stringify(pod.spec)) return true;
  const gates = new Set((pod.spec?.readinessGates ?? []).map((g) => g.conditionType));
  if (!gates.size) return false;
  const g = (p: Pod) => (p.status?.conditions ?? []).filter((c) => gates.has(c.type)).map((c) => [c.type, c.status]);
  return JSON.stringify(g(old)) !== JSON.stringify(g(pod));
}

/** A node status without its heartbeat times: what "changed" means. */
function strip(s: NodeStatus | undefined): unknown {
  if (!s) return undefined;
  return { ...s, conditions: s.conditions?.map(({ lastHeartbeatTime: _h, ...c }) => c) };
}

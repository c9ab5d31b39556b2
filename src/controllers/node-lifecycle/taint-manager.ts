import type { Node, Pod, PodCondition, Taint, Toleration } from 'kubernetes-types/core/v1';
import {
  EventRecorder, WorkQueue, isConflict, isNotFound, keyOf, nodes, pods, splitKey,
  type Client, type InformerFactory, type Lister,
} from '../../client/index.js';
import { toleratesTaint } from '../../api/taints.js';
import { syncErrorLogger } from '../util/errors.js';

const COMPONENT = 'taint-eviction-controller';
/** Pods by `spec.nodeName`, on the shared pod informer (the lifecycle controller reads it too). */
export const NODE_NAME_INDEX = 'node-lifecycle/nodeName';

export interface NoExecuteTaintManagerOptions {
  workers?: number;
  log?: (m: string) => void;
}

/**
 * upstream's getMatchingTolerations: undefined when some taint is not
 * tolerated, else every toleration that tolerates one of the taints.
 */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): Toleration[] | undefined {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const m = tolerations.filter((t) => toleratesTaint(t, taint));
    if (!m.length) return undefined;
    used.push(...m);
  }
  return used;
}

/** upstream's getMinTolerationTime in ms: -1 means forever (no tolerationSeconds anywhere). */
export function minTolerationMs(used: readonly Toleration[]): number {
  if (!used.length) return 0;
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds * 1000);
  }
  return min === Infinity ? -1 : min;
}

/**
 * The NoExecute taint manager (upstream's taint-eviction-controller): a pod
 * on a node with NoExecute taints it does not tolerate is deleted at once;
 * one that tolerates them for `tolerationSeconds` is deleted that long after
 * the taint's `timeAdded`; one that tolerates them forever stays.
 *
 * The clock starts at the taint's `timeAdded` or when this controller first
 * saw the taint, whichever is later: upstream counts from the latter only,
 * and `timeAdded` has whole seconds, so it alone could evict up to a second
 * early.
 */
export class NoExecuteTaintManager {
  private readonly queue: WorkQueue<string>;
  private readonly pods: Lister<Pod>;
  private readonly nodes: Lister<Node>;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  /** Pods with a deletion scheduled, so a cancelled one gets its event. */
  private readonly scheduled = new Set<string>();
  /** When each NoExecute taint was first seen here, by node, key, effect and timeAdded. */
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly client: Client, informers: InformerFactory, opts: NoExecuteTaintManagerOptions = {}) {
    const log = opts.log ?? ((m: string) => console.error(m));
    this.workers = opts.workers ?? 8;
    this.queue = new WorkQueue<string>({ name: COMPONENT, onError: syncErrorLogger(COMPONENT, log) });
    this.recorder = new EventRecorder(client, COMPONENT);
    const podInformer = informers.for(pods);
    podInformer.addIndex(NODE_NAME_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    const nodeInformer = informers.for(nodes);
    this.pods = podInformer.lister();
    this.nodes = nodeInformer.lister();
    podInformer.onAdd((p) => this.queue.add(keyOf(p)));
    podInformer.onUpdate((_o, p) => this.queue.add(keyOf(p)));
    podInformer.onDelete((p) => this.scheduled.delete(keyOf(p)));
    const onNode = (n: Node) => { for (const p of this.pods.byIndex(NODE_NAME_INDEX, n.metadata!.name!)) this.queue.add(keyOf(p)); };
    nodeInformer.onAdd(onNode);
    nodeInformer.onUpdate((old, n) => {
      if (JSON.stringify(noExecute(old)) === JSON.stringify(noExecute(n))) return;
      this.forgetTaints(n.metadata!.name!, noExecute(n));
      onNode(n);
    });
    nodeInformer.onDelete((n) => this.forgetTaints(n.metadata!.name!, []));
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.queue.process(this.workers, (key) => this.sync(key), signal);
  }

  async sync(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod || pod.metadata?.deletionTimestamp) { this.scheduled.delete(key); return; }
    const nodeName = pod.spec?.nodeName;
    const node = nodeName ? this.nodes.get(nodeName) : undefined;
    const taints = node ? noExecute(node) : [];
    if (!taints.length) { this.cancel(pod, key); return; }
    const used = matchingTolerations(taints, pod.spec?.tolerations ?? []);
    if (!used) { await this.evict(pod, key); return; }
    const min = minTolerationMs(used);
    if (min < 0) { this.cancel(pod, key); return; }
    const since = Math.min(...taints.map((t) => this.addedAt(nodeName!, t)));
    const wait = since + min - Date.now();
    if (wait <= 0) { await this.evict(pod, key); return; }
    this.scheduled.add(key);
    this.queue.addAfter(key, wait);
  }

  private addedAt(node: string, t: Taint): number {
    const k = taintId(node, t);
    let seen = this.firstSeen.get(k);
    if (seen === undefined) { seen = Date.now(); this.firstSeen.set(k, seen); }
    const added = t.timeAdded ? Date.parse(t.timeAdded) : NaN;
    return Number.isNaN(added) ? seen : Math.max(added, seen);
  }

  private forgetTaints(node: string, current: Taint[]): void {
    const keep = new Set(current.map((t) => taintId(node, t)));
    for (const k of this.firstSeen.keys()) if (k.startsWith(`${node}\u0000`) && !keep.has(k)) this.firstSeen.delete(k);
  }

  private cancel(pod: Pod, key: string): void {
    if (!this.scheduled.delete(key)) return;
    this.recorder.event(withKind(pod), 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  private async evict(pod: Pod, key: string): Promise<void> {
    this.scheduled.delete(key);
    const { namespace, name } = splitKey(key);
    this.recorder.event(withKind(pod), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    await this.markDisruptionTarget(pod);
    try {
      await this.client.delete(pods, namespace, name, { preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** upstream's DisruptionTarget condition, so whoever looks at the pod later knows why it went. */
  private async markDisruptionTarget(pod: Pod): Promise<void> {
    const conditions = pod.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'DisruptionTarget' && c.status === 'True')) return;
    const cond: PodCondition = {
      type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    try {
      await this.client.updateStatus(pods, { ...pod, status: { ...pod.status, conditions: [...conditions.filter((c) => c.type !== 'DisruptionTarget'), cond] } });
    } catch (err) {
      // The condition is a courtesy: the deletion must happen regardless.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}

const noExecute = (node: Node): Taint[] => (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
const taintId = (node: string, t: Taint): string => [node, t.key, t.effect, t.timeAdded ?? ''].join('\u0000');
const withKind = (pod: Pod): Pod => ({ ...pod, apiVersion: 'v1', kind: 'Pod' });

import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Pod, ReplicationController } from 'kubernetes-types/core/v1';
import type { Condition, OwnerReference } from 'kubernetes-types/meta/v1';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1';
import { labelSelectorFromObject, type Selector } from '../../api/labels.js';
import { nowTimestamp } from '../../api/meta.js';
import { scaledValueFromIntOrPercent } from '../../api/validation/int-or-string.js';
import {
  EventRecorder, WorkQueue, deployments, isNotFound, keyOf, pods, poddisruptionbudgets, replicasets, replicationcontrollers,
  type Client, type InformerFactory, type Lister,
} from '../../client/index.js';
import { stableStringify } from '../util/stable-json.js';
import { syncErrorLogger } from '../util/errors.js';
import { controllerRefOf, isPodReady } from '../util/pods.js';

/**
 * Upstream's DeletionTimeout: how long an eviction's entry in
 * `status.disruptedPods` keeps its pod out of the healthy count while the
 * pod has not been seen deleting.
 */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

export interface DisruptionControllerOptions {
  workers?: number;
  /** How long a recorded disruption holds (upstream's DeletionTimeout, 2 min). */
  deletionTimeoutMs?: number;
  log?: (m: string) => void;
}

const COMPONENT = 'controllermanager';
const DISRUPTION_ALLOWED = 'DisruptionAllowed';

type Status = PodDisruptionBudgetStatus;

/**
 * The disruption controller: for every PodDisruptionBudget, how many of its
 * pods are healthy, how many must be, and so how many the eviction API may
 * take now (`status.disruptionsAllowed`), as upstream's
 * pkg/controller/disruption.
 */
export class DisruptionController {
  private readonly queue: WorkQueue<string>;
  private readonly pdbs: Lister<PodDisruptionBudget>;
  private readonly pods: Lister<Pod>;
  private readonly rss: Lister<ReplicaSet>;
  private readonly rcs: Lister<ReplicationController>;
  private readonly deployments: Lister<Deployment>;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private readonly deletionTimeoutMs: number;

  constructor(private readonly client: Client, informers: InformerFactory, opts: DisruptionControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
    this.deletionTimeoutMs = opts.deletionTimeoutMs ?? DELETION_TIMEOUT_MS;
    const log = opts.log ?? ((m: string) => console.error(m));
    this.queue = new WorkQueue<string>({ name: 'disruption', onError: syncErrorLogger('disruption', log) });
    this.recorder = new EventRecorder(client, COMPONENT);
    const pdbInformer = informers.for(poddisruptionbudgets);
    const podInformer = informers.for(pods);
    this.pdbs = pdbInformer.lister();
    this.pods = podInformer.lister();
    this.rss = informers.for(replicasets).lister();
    this.rcs = informers.for(replicationcontrollers).lister();
    this.deployments = informers.for(deployments).lister();

    pdbInformer.onAdd((pdb) => this.queue.add(keyOf(pdb)));
    pdbInformer.onUpdate((_old, pdb) => this.queue.add(keyOf(pdb)));
    pdbInformer.onDelete((pdb) => this.queue.add(keyOf(pdb)));
    podInformer.onAdd((pod) => this.enqueueFor(pod));
    podInformer.onUpdate((old, pod) => {
      if (stableStringify(old.metadata?.labels) !== stableStringify(pod.metadata?.labels)) this.enqueueFor(old);
      this.enqueueFor(pod);
    });
    podInformer.onDelete((pod) => this.enqueueFor(pod));
  }

  run(signal: AbortSignal): Promise<void> {
    return this.queue.process(this.workers, (key) => this.sync(key), signal);
  }

  /** Every budget that selects the pod (upstream warns about more than one; eviction refuses them). */
  private enqueueFor(pod: Pod): void {
    for (const pdb of this.pdbs.list(pod.metadata?.namespace)) {
      const selector = selectorOf(pdb);
      if (selector && selector.matches(pod.metadata?.labels ?? {})) this.queue.add(keyOf(pdb));
    }
  }

  async sync(key: string): Promise<void> {
    const pdb = this.pdbs.get(key);
    if (!pdb) return;
    try {
      await this.trySync(pdb);
    } catch (err) {
      // A budget we cannot compute must not allow disruptions (upstream's failSafe).
      await this.failSafe(pdb, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  private podsFor(pdb: PodDisruptionBudget): Pod[] {
    const selector = selectorOf(pdb);
    if (!selector) return [];
    return this.pods.list(pdb.metadata?.namespace, selector);
  }

  private async trySync(pdb: PodDisruptionBudget): Promise<void> {
    const matched = this.podsFor(pdb);
    if (matched.length === 0) this.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    const { expectedCount, desiredHealthy, unmanagedPods } = this.expectedPodCount(pdb, matched);
    if (unmanagedPods.length > 0) {
      this.recorder.event(pdb, 'Warning', 'UnmanagedPods', `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(pdb.spec?.selector ?? null)}) were found `
        + 'to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. '
        + 'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.');
    }
    const now = Date.now();
    const { disruptedPods, recheckAt } = this.buildDisruptedPodMap(matched, pdb, now);
    const currentHealthy = this.countHealthyPods(matched, disruptedPods, now);
    await this.updateStatus(pdb, currentHealthy, desiredHealthy, expectedCount, disruptedPods);
    if (recheckAt !== undefined) this.queue.addAfter(keyOf(pdb), Math.max(0, recheckAt - now) + 100);
  }

  /** getExpectedPodCount: a percentage or maxUnavailable needs the controllers' scale; an integer minAvailable only the pods. */
  private expectedPodCount(pdb: PodDisruptionBudget, matched: Pod[]): { expectedCount: number; desiredHealthy: number; unmanagedPods: string[] } {
    const spec = pdb.spec ?? {};
    if (spec.maxUnavailable !== undefined) {
      const { expectedCount, unmanagedPods } = this.expectedScale(matched);
      const maxUnavailable = scaledValueFromIntOrPercent(spec.maxUnavailable, expectedCount, true);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable), unmanagedPods };
    }
    if (typeof spec.minAvailable === 'number') return { expectedCount: matched.length, desiredHealthy: spec.minAvailable, unmanagedPods: [] };
    if (typeof spec.minAvailable === 'string') {
      const { expectedCount, unmanagedPods } = this.expectedScale(matched);
      return { expectedCount, desiredHealthy: scaledValueFromIntOrPercent(spec.minAvailable, expectedCount, true), unmanagedPods };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
  }

  /** getExpectedScale: the sum of spec.replicas over the controllers of the matched pods. */
  private expectedScale(matched: Pod[]): { expectedCount: number; unmanagedPods: string[] } {
    const scales = new Map<string, number>();
    const unmanagedPods: string[] = [];
    for (const pod of matched) {
      const ref = controllerRefOf(pod);
      if (!ref) { unmanagedPods.push(pod.metadata?.name ?? ''); continue; }
      if (scales.has(ref.uid)) continue;
      const found = this.controllerScale(ref, pod.metadata?.namespace ?? '');
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata?.name ?? ''}"`);
      scales.set(found.uid, found.scale);
    }
    let expectedCount = 0;
    for (const n of scales.values()) expectedCount += n;
    return { expectedCount, unmanagedPods };
  }

  /** The finders: a ReplicaSet counts as its Deployment when it has one. */
  private controllerScale(ref: OwnerReference, namespace: string): { uid: string; scale: number } | undefined {
    const group = ref.apiVersion.split('/').length > 1 ? ref.apiVersion.split('/')[0] : '';
    if (ref.kind === 'ReplicaSet' && group === 'apps') {
      const rs = this.rss.get(`${namespace}/${ref.name}`);
      if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
      const owner = controllerRefOf(rs);
      if (owner?.kind === 'Deployment' && owner.apiVersion.startsWith('apps/')) {
        const d = this.deployments.get(`${namespace}/${owner.name}`);
        if (!d || d.metadata?.uid !== owner.uid) return undefined;
        return { uid: owner.uid, scale: d.spec?.replicas ?? 1 };
      }
      return { uid: ref.uid, scale: rs.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'ReplicationController' && group === '') {
      const rc = this.rcs.get(`${namespace}/${ref.name}`);
      if (!rc || rc.metadata?.uid !== ref.uid) return undefined;
      return { uid: ref.uid, scale: rc.spec?.replicas ?? 1 };
    }
    return undefined;
  }

  /** Evictions still in flight: entries whose pod is neither deleting nor overdue. */
  private buildDisruptedPodMap(matched: Pod[], pdb: PodDisruptionBudget, now: number): { disruptedPods: Record<string, string>; recheckAt?: number } {
    const recorded = pdb.status?.disruptedPods ?? {};
    const disruptedPods: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of matched) {
      if (pod.metadata?.deletionTimestamp) continue;
      const name = pod.metadata?.name ?? '';
      const at = recorded[name];
      if (at === undefined) continue;
      const expectedDeletion = Date.parse(at) + this.deletionTimeoutMs;
      if (expectedDeletion < now) {
        this.recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata?.namespace ?? ''}/${pdb.metadata?.name ?? ''} to be deleted but it wasn't`);
      } else {
        if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
        disruptedPods[name] = at;
      }
    }
    return { disruptedPods, recheckAt };
  }

  private countHealthyPods(matched: Pod[], disruptedPods: Record<string, string>, now: number): number {
    let healthy = 0;
    for (const pod of matched) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = disruptedPods[pod.metadata?.name ?? ''];
      if (at !== undefined && Date.parse(at) + this.deletionTimeoutMs > now) continue;
      if (isPodReady(pod)) healthy++;
    }
    return healthy;
  }

  private async updateStatus(pdb: PodDisruptionBudget, currentHealthy: number, desiredHealthy: number, expectedPods: number,
    disruptedPods: Record<string, string>): Promise<void> {
    // expectedPods > 0: a budget that matched no pods yet must not let the first ones go before we look again.
    const allowed = currentHealthy - desiredHealthy;
    const disruptionsAllowed = expectedPods <= 0 || allowed <= 0 ? 0 : allowed;
    const old = pdb.status;
    const generation = pdb.metadata?.generation ?? 0;
    if (old && old.currentHealthy === currentHealthy && old.desiredHealthy === desiredHealthy && old.expectedPods === expectedPods
      && old.disruptionsAllowed === disruptionsAllowed && stableStringify(old.disruptedPods ?? {}) === stableStringify(disruptedPods)
      && (old.observedGeneration ?? 0) === generation && conditionsAreUpToDate(old, generation)) return;
    const status: Status = {
      currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, observedGeneration: generation,
      ...(Object.keys(disruptedPods).length ? { disruptedPods } : {}),
      conditions: old?.conditions ?? [],
    };
    status.conditions = setStatusCondition(status.conditions ?? [], disruptionsAllowed > 0
      ? { type: DISRUPTION_ALLOWED, status: 'True', reason: 'SufficientPods', message: '', observedGeneration: generation, lastTransitionTime: '' }
      : { type: DISRUPTION_ALLOWED, status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: generation, lastTransitionTime: '' });
    await this.writeStatus(pdb, status);
  }

  private async failSafe(pdb: PodDisruptionBudget, message: string): Promise<void> {
    const generation = pdb.metadata?.generation ?? 0;
    const old = pdb.status;
    const status: Status = {
      currentHealthy: old?.currentHealthy ?? 0, desiredHealthy: old?.desiredHealthy ?? 0, expectedPods: old?.expectedPods ?? 0,
      disruptionsAllowed: 0, observedGeneration: generation,
      ...(old?.disruptedPods ? { disruptedPods: old.disruptedPods } : {}),
      conditions: setStatusCondition(old?.conditions ?? [],
        { type: DISRUPTION_ALLOWED, status: 'False', reason: 'SyncFailed', message, observedGeneration: generation, lastTransitionTime: '' }),
    };
    try {
      await this.writeStatus(pdb, status);
    } catch {
      // the sync's own error is what gets reported and retried
    }
  }

  private async writeStatus(pdb: PodDisruptionBudget, status: Status): Promise<void> {
    try {
      await this.client.updateStatus(poddisruptionbudgets, { ...pdb, status });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** metav1.LabelSelectorAsSelector; undefined for an invalid selector (it matches nothing). */
function selectorOf(pdb: PodDisruptionBudget): Selector | undefined {
  try {
    return labelSelectorFromObject(pdb.spec?.selector);
  } catch {
    return undefined;
  }
}

function conditionsAreUpToDate(status: Status, generation: number): boolean {
  const cond = status.conditions?.find((c) => c.type === DISRUPTION_ALLOWED);
  if (!cond || (status.observedGeneration ?? 0) !== generation) return false;
  if (status.disruptionsAllowed > 0) return cond.status === 'True' && cond.reason === 'SufficientPods';
  return cond.status === 'False' && cond.reason === 'InsufficientPods';
}

/** apimeta.SetStatusCondition: the transition time moves only when the status flips. */
function setStatusCondition(conditions: Condition[], next: Condition): Condition[] {
  const list = [...conditions];
  const i = list.findIndex((c) => c.type === next.type);
  if (i < 0) return [...list, { ...next, lastTransitionTime: next.lastTransitionTime || nowTimestamp() }];
  const old = list[i]!;
  list[i] = {
    ...old,
    status: next.status, reason: next.reason, message: next.message,
    ...(next.observedGeneration !== undefined ? { observedGeneration: next.observedGeneration } : {}),
    lastTransitionTime: old.status === next.status ? old.lastTransitionTime : (next.lastTransitionTime || nowTimestamp()),
  };
  return list;
}

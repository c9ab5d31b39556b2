import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Pod, ReplicationController } from 'kubernetes-types/core/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import {
  EventRecorder, WorkQueue, isConflict, isNotFound, keyOf, pods, splitKey,
  type Client, type InformerFactory, type Lister,
} from '../../client/index.js';
import { Expectations } from '../util/expectations.js';
import { slowStartBatch } from '../util/slow-start.js';
import { setCondition, removeCondition, type Condition } from '../util/conditions.js';
import {
  POD_CONTROLLER_INDEX, colocationRank, compareForDeletion, controllerRefOf, ensurePodControllerIndex, isPodActive, isPodAvailable,
  isPodReady, msUntilAvailable,
} from '../util/pods.js';
import { stableStringify } from '../util/stable-json.js';
import type { ReplicaKind, ReplicaStatus } from './kinds.js';
import { syncErrorLogger } from '../util/errors.js';

export interface ReplicaSetControllerOptions {
  /** upstream's BurstReplicas: the most pods one sync creates or deletes. */
  burstReplicas?: number;
  workers?: number;
  log?: (m: string) => void;
}

const SLOW_START_INITIAL_BATCH_SIZE = 1;

/**
 * The ReplicaSet controller, and with `replicationControllerKind` the
 * ReplicationController one (upstream runs one core for both): keeps
 * `spec.replicas` active pods that match the selector.
 */
export class ReplicaSetController<T extends ReplicaSet | ReplicationController> {
  private readonly queue: WorkQueue<string>;
  private readonly sets: Lister<T>;
  private readonly pods: Lister<Pod>;
  private readonly expectations = new Expectations();
  private readonly recorder: EventRecorder;
  private readonly burst: number;
  private readonly workers: number;

  constructor(private readonly client: Client, informers: InformerFactory, private readonly kind: ReplicaKind<T>, opts: ReplicaSetControllerOptions = {}) {
    this.burst = opts.burstReplicas ?? 500;
    this.workers = opts.workers ?? 5;
    const log = opts.log ?? ((m: string) => console.error(m));
    this.queue = new WorkQueue<string>({ name: kind.component, onError: syncErrorLogger(kind.component, log) });
    this.recorder = new EventRecorder(client, kind.component);
    const setInformer = informers.for(kind.res);
    const podInformer = informers.for(pods);
    ensurePodControllerIndex(podInformer);
    this.sets = setInformer.lister();
    this.pods = podInformer.lister();

    setInformer.onAdd((obj) => this.queue.add(keyOf(obj)));
    setInformer.onUpdate((_old, obj) => this.queue.add(keyOf(obj)));
    setInformer.onDelete((obj) => { this.expectations.forget(keyOf(obj)); this.queue.add(keyOf(obj)); });

    podInformer.onAdd((pod) => {
      const owner = this.ownerKey(pod);
      if (owner) { this.expectations.creationObserved(owner); this.queue.add(owner); return; }
      if (!pod.metadata?.deletionTimestamp) for (const k of this.matchingSets(pod)) this.queue.add(k);
    });
    podInformer.onUpdate((old, pod) => {
      const owner = this.ownerKey(pod);
      const oldOwner = this.ownerKey(old);
      if (oldOwner && oldOwner !== owner) this.queue.add(oldOwner);
      if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp && owner) this.expectations.deletionObserved(owner, keyOf(pod));
      if (owner) {
        this.queue.add(owner);
        // Ready now: available only after minReadySeconds, which no event will announce.
        const set = this.sets.get(owner);
        const min = set?.spec?.minReadySeconds ?? 0;
        if (min > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(owner, min * 1000 + 100);
        return;
      }
      if (!pod.metadata?.deletionTimestamp && stableStringify(old.metadata?.labels) !== stableStringify(pod.metadata?.labels)) {
        for (const k of this.matchingSets(pod)) this.queue.add(k);
      }
    });
    podInformer.onDelete((pod) => {
      const owner = this.ownerKey(pod);
      if (!owner) return;
      this.expectations.deletionObserved(owner, keyOf(pod));
      this.queue.add(owner);
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.queue.process(this.workers, (key) => this.sync(key), signal);
  }

  /** The key of the set of `kind` that controls `pod`, if any. */
  private ownerKey(pod: Pod): string | undefined {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== this.kind.kind) return undefined;
    const key = `${pod.metadata?.namespace}/${ref.name}`;
    const set = this.sets.get(key);
    // A set of that name but another uid is a newer one: not this pod's owner.
    if (set && set.metadata?.uid !== ref.uid) return undefined;
    return key;
  }

  private matchingSets(pod: Pod): string[] {
    const out: string[] = [];
    for (const set of this.sets.list(pod.metadata?.namespace)) {
      if (this.kind.selector(set).matches(pod.metadata?.labels)) out.push(keyOf(set));
    }
    return out;
  }

  /** Idempotent: compares the cached pods with `spec.replicas` and writes the difference, then the status. */
  async sync(key: string): Promise<void> {
    const set = this.sets.get(key);
    if (!set) { this.expectations.forget(key); return; }
    const selector = this.kind.selector(set);
    const { namespace } = splitKey(key);
    // Ours and the namespace's orphans: nothing else can be claimed.
    const allPods = [
      ...this.pods.byIndex(POD_CONTROLLER_INDEX, set.metadata?.uid ?? ''),
      ...this.pods.byIndex(POD_CONTROLLER_INDEX, `orphan:${namespace ?? ''}`).filter(isPodActive),
    ];
    const owned = await this.claimPods(set, allPods, selector);
    const active = owned.filter(isPodActive);

    let manageError: unknown;
    if (this.expectations.satisfied(key) && !set.metadata?.deletionTimestamp) {
      try { await this.manageReplicas(key, set, active); } catch (err) { manageError = err; }
    }
    await this.updateStatus(set, active, manageError);
    const requeue = this.availabilityRequeueMs(set, active);
    if (requeue !== undefined) this.queue.addAfter(key, requeue);
    if (manageError) throw manageError;
  }

  // ---- claiming ------------------------------------------------------------

  /** ControllerRefManager.ClaimPods: keep ours that match, adopt matching orphans, release ours that no longer match. */
  private async claimPods(set: T, candidates: Pod[], selector: ReturnType<ReplicaKind<T>['selector']>): Promise<Pod[]> {
    const uid = set.metadata?.uid;
    const owned: Pod[] = [];
    for (const pod of candidates) {
      const ref = controllerRefOf(pod);
      const matches = selector.matches(pod.metadata?.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches) { owned.push(pod); continue; }
        if (set.metadata?.deletionTimestamp) continue;
        await this.release(pod, uid);
        continue;
      }
      if (!matches || pod.metadata?.deletionTimestamp || set.metadata?.deletionTimestamp || !isPodActive(pod)) continue;
      if (await this.adopt(set, pod)) owned.push(pod);
    }
    return owned;
  }

  private ownerRef(set: T): OwnerReference {
    return { apiVersion: this.kind.apiVersion, kind: this.kind.kind, name: set.metadata!.name!, uid: set.metadata!.uid!, controller: true, blockOwnerDeletion: true };
  }

  private async adopt(set: T, pod: Pod): Promise<boolean> {
    const refs = [...(pod.metadata?.ownerReferences ?? []), this.ownerRef(set)];
    try {
      await this.client.patch(pods, pod.metadata?.namespace, pod.metadata!.name!, { metadata: { ownerReferences: refs, resourceVersion: pod.metadata?.resourceVersion } }, 'merge-patch');
      return true;
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return false;
      throw err;
    }
  }

  private async release(pod: Pod, uid: string | undefined): Promise<void> {
    const refs = (pod.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
    try {
      await this.client.patch(pods, pod.metadata?.namespace, pod.metadata!.name!, { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: pod.metadata?.resourceVersion } }, 'merge-patch');
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  // ---- creating and deleting -----------------------------------------------

  private async manageReplicas(key: string, set: T, active: Pod[]): Promise<void> {
    const want = set.spec?.replicas ?? 1;
    const diff = active.length - want;
    if (diff < 0) {
      const count = Math.min(-diff, this.burst);
      this.expectations.expectCreations(key, count);
      const { successes, error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH_SIZE, () => this.createPod(set));
      // Creations that never happened will never be observed.
      for (let i = successes; i < count; i++) this.expectations.creationObserved(key);
      if (error) throw error;
    } else if (diff > 0) {
      const count = Math.min(diff, this.burst);
      const rank = colocationRank(active);
      const victims = [...active].sort((a, b) => compareForDeletion(a, b, rank)).slice(0, count);
      this.expectations.expectDeletions(key, victims.map((p) => keyOf(p)));
      const results = await Promise.allSettled(victims.map((p) => this.deletePod(key, set, p)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  private async createPod(set: T): Promise<void> {
    const template = this.kind.template(set);
    const meta = set.metadata!;
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        generateName: `${meta.name}-`,
        namespace: meta.namespace,
        labels: { ...(template?.metadata?.labels ?? {}) },
        ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ...(template?.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
        ownerReferences: [this.ownerRef(set)],
      },
      spec: structuredClone(template?.spec ?? { containers: [] }),
    };
    try {
      const created = await this.client.create(pods, pod);
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
    } catch (err) {
      this.recorder.event(set, 'Warning', 'FailedCreate', `Error creating: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  private async deletePod(key: string, set: T, pod: Pod): Promise<void> {
    try {
      await this.client.delete(pods, pod.metadata?.namespace, pod.metadata!.name!, { preconditions: { uid: pod.metadata?.uid } });
      this.recorder.event(set, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
    } catch (err) {
      // Gone already, or replaced by a namesake: nothing to wait for.
      this.expectations.deletionObserved(key, keyOf(pod));
      if (isNotFound(err) || isConflict(err)) return;
      this.recorder.event(set, 'Warning', 'FailedDelete', `Error deleting: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  // ---- status --------------------------------------------------------------

  private async updateStatus(set: T, active: Pod[], manageError: unknown): Promise<void> {
    const min = set.spec?.minReadySeconds ?? 0;
    const templateLabels = this.kind.template(set)?.metadata?.labels ?? {};
    const now = Date.now();
    const old = (set.status ?? { replicas: 0 }) as ReplicaStatus;
    let conditions: Condition[] | undefined = old.conditions;
    if (manageError) {
      const want = set.spec?.replicas ?? 1;
      const reason = active.length < want ? 'FailedCreate' : 'FailedDelete';
      conditions = setCondition(conditions, { type: 'ReplicaFailure', status: 'True', reason, message: manageError instanceof Error ? manageError.message : String(manageError) });
    } else if (conditions?.some((c) => c.type === 'ReplicaFailure')) {
      conditions = removeCondition(conditions, 'ReplicaFailure');
    }
    const status: ReplicaStatus = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata?.labels?.[k] === v)).length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter((p) => isPodAvailable(p, min, now)).length,
      observedGeneration: set.metadata?.generation,
      ...(conditions?.length ? { conditions } : {}),
    };
    if (sameStatus(old, status)) return;
    let current: T = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.updateStatus(this.kind.res, { ...current, status } as T);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 1) throw err;
        // upstream's updateReplicaSetStatus: fetch the latest and try once more.
        current = await this.client.get(this.kind.res, set.metadata?.namespace, set.metadata!.name!);
        if (current.metadata?.uid !== set.metadata?.uid) return;
      }
    }
  }

  private availabilityRequeueMs(set: T, active: Pod[]): number | undefined {
    const min = set.spec?.minReadySeconds ?? 0;
    if (min <= 0) return undefined;
    let soonest: number | undefined;
    for (const p of active) {
      const left = msUntilAvailable(p, min);
      if (left !== undefined && (soonest === undefined || left < soonest)) soonest = left;
    }
    return soonest === undefined ? undefined : soonest + 50;
  }
}

function sameStatus(a: ReplicaStatus, b: ReplicaStatus): boolean {
  return a.replicas === b.replicas
    && (a.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0)
    && (a.readyReplicas ?? 0) === (b.readyReplicas ?? 0)
    && (a.availableReplicas ?? 0) === (b.availableReplicas ?? 0)
    && a.observedGeneration === b.observedGeneration
    && stableStringify(a.conditions ?? []) === stableStringify(b.conditions ?? []);
}

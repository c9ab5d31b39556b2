import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import { labelSelectorFromObject, type Selector } from '../../api/labels.js';
import {
  EventRecorder, WorkQueue, deployments, isAlreadyExists, isConflict, isNotFound, keyOf, pods, replicasets,
  type Client, type InformerFactory, type Lister,
} from '../../client/index.js';
import { POD_CONTROLLER_INDEX, controllerRefOf, ensurePodControllerIndex, isPodTerminated } from '../util/pods.js';
import { stableStringify } from '../util/stable-json.js';
import { computeHash } from './hash.js';
import { availableOf, newRSNewReplicas, replicaSetFraction } from './sizing.js';
import { calculateStatus, cond, deploymentComplete, deploymentProgressing, deploymentTimedOut, hasProgressDeadline, upsert } from './status.js';
import {
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, DESIRED_REPLICAS_ANNOTATION, FOUND_NEW_RS, MAX_REPLICAS_ANNOTATION,
  NEW_RS_AVAILABLE, NEW_RS_CREATED, PAUSED, RESUMED, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, RS_UPDATED, TIMED_OUT,
  byCreation, copiedAnnotations, equalIgnoreHash, getDeploymentCondition, isRollingUpdate, maxSurge, maxUnavailable, replicasOf,
  revisionOf,
} from './util.js';
import { syncErrorLogger } from '../util/errors.js';

export interface DeploymentControllerOptions {
  workers?: number;
  log?: (m: string) => void;
}

const DEFAULT_REVISION_HISTORY_LIMIT = 10;

/** What one sync learns along the way and writes in one status update at the end. */
interface SyncState {
  d: Deployment;
  conditions: DeploymentCondition[];
}

/**
 * The Deployment controller: one ReplicaSet per pod template, rolled by the
 * strategy, with upstream's revisions, annotations, conditions and events.
 */
export class DeploymentController {
  private readonly queue: WorkQueue<string>;
  private readonly deployments: Lister<Deployment>;
  private readonly sets: Lister<ReplicaSet>;
  private readonly pods: Lister<Pod>;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  /** The resourceVersion of this controller's last write to each deployment. */
  private readonly written = new Map<string, string>();

  constructor(private readonly client: Client, informers: InformerFactory, opts: DeploymentControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
    const log = opts.log ?? ((m: string) => console.error(m));
    this.queue = new WorkQueue<string>({ name: 'deployment', onError: syncErrorLogger('deployment-controller', log) });
    this.recorder = new EventRecorder(client, 'deployment-controller');
    const dInformer = informers.for(deployments);
    const rsInformer = informers.for(replicasets);
    const podInformer = informers.for(pods);
    ensurePodControllerIndex(podInformer);
    this.deployments = dInformer.lister();
    this.sets = rsInformer.lister();
    this.pods = podInformer.lister();

    dInformer.onChange((d) => this.queue.add(keyOf(d)));
    rsInformer.onAdd((rs) => this.enqueueForReplicaSet(rs));
    rsInformer.onUpdate((old, rs) => {
      const oldOwner = this.ownerKey(old);
      if (oldOwner && oldOwner !== this.ownerKey(rs)) this.queue.add(oldOwner);
      this.enqueueForReplicaSet(rs);
    });
    rsInformer.onDelete((rs) => { const k = this.ownerKey(rs); if (k) this.queue.add(k); });
    // Recreate waits for the old pods to be gone; only their deletion says so.
    podInformer.onDelete((pod) => {
      const ref = controllerRefOf(pod);
      if (ref?.kind !== 'ReplicaSet') return;
      const rs = this.sets.get(`${pod.metadata?.namespace}/${ref.name}`);
      const k = rs && this.ownerKey(rs);
      if (k && !isRollingUpdate(this.deployments.get(k) ?? {})) this.queue.add(k);
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.queue.process(this.workers, (key) => this.sync(key), signal);
  }

  private ownerKey(rs: ReplicaSet): string | undefined {
    const ref = controllerRefOf(rs);
    if (ref?.kind !== 'Deployment') return undefined;
    const key = `${rs.metadata?.namespace}/${ref.name}`;
    const d = this.deployments.get(key);
    return d && d.metadata?.uid !== ref.uid ? undefined : key;
  }

  private enqueueForReplicaSet(rs: ReplicaSet): void {
    const owner = this.ownerKey(rs);
    if (owner) { this.queue.add(owner); return; }
    if (controllerRefOf(rs)) return;
    // An orphan: whichever deployment selects it may adopt it.
    for (const d of this.deployments.list(rs.metadata?.namespace)) {
      if (selectorOf(d).matches(rs.metadata?.labels)) this.queue.add(keyOf(d));
    }
  }

  // ---- the sync ------------------------------------------------------------

  async sync(key: string): Promise<void> {
    const cached = this.deployments.get(key);
    if (!cached) { this.written.delete(key); return; }
    // Our own last write has not reached the cache yet: acting now would only
    // meet a 409. Its watch event queues this key again. (bosun's
    // resourceVersions are store revisions, so they order.)
    const mine = this.written.get(key);
    if (mine && Number(cached.metadata?.resourceVersion) < Number(mine)) return;
    const d = structuredClone(cached);
    const state: SyncState = { d, conditions: [...(d.status?.conditions ?? [])] };
    const selector = selectorOf(d);
    if (selector.empty()) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const rsList = await this.claimReplicaSets(d, selector);
    if (d.metadata?.deletionTimestamp) { await this.syncStatusOnly(state, rsList); return; }

    this.checkPausedConditions(state);
    if (d.spec?.paused) { await this.syncScaling(state, rsList); return; }
    if (this.isScalingEvent(d, rsList)) { await this.syncScaling(state, rsList); return; }
    if (isRollingUpdate(d)) await this.rolloutRolling(state, rsList);
    else await this.rolloutRecreate(state, rsList);
  }

  private async claimReplicaSets(d: Deployment, selector: Selector): Promise<ReplicaSet[]> {
    const uid = d.metadata?.uid;
    const owned: ReplicaSet[] = [];
    for (const rs of this.sets.list(d.metadata?.namespace)) {
      const ref = controllerRefOf(rs);
      const matches = selector.matches(rs.metadata?.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches) { owned.push(rs); continue; }
        if (d.metadata?.deletionTimestamp) continue;
        const refs = (rs.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
        await this.patchOwners(rs, refs.length ? refs : null);
        continue;
      }
      if (!matches || rs.metadata?.deletionTimestamp || d.metadata?.deletionTimestamp) continue;
      if (await this.patchOwners(rs, [...(rs.metadata?.ownerReferences ?? []), ownerRefOf(d)])) owned.push(rs);
    }
    return owned;
  }

  private async patchOwners(rs: ReplicaSet, refs: OwnerReference[] | null): Promise<boolean> {
    try {
      await this.client.patch(replicasets, rs.metadata?.namespace, rs.metadata!.name!, { metadata: { ownerReferences: refs, resourceVersion: rs.metadata?.resourceVersion } }, 'merge-patch');
      return true;
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return false;
      throw err;
    }
  }

  /** The new ReplicaSet (the oldest whose template matches) and the others. */
  private split(d: Deployment, rsList: ReplicaSet[]): { newRS?: ReplicaSet; oldRSs: ReplicaSet[] } {
    const sorted = [...rsList].sort(byCreation);
    const newRS = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    return { newRS, oldRSs: sorted.filter((rs) => rs !== newRS) };
  }

  /**
   * getAllReplicaSetsAndSyncRevision: finds (or creates) the new ReplicaSet
   * and gives it the next revision — which is how a rollback's old
   * ReplicaSet becomes the newest revision again.
   */
  private async getAllReplicaSetsAndSyncRevision(state: SyncState, rsList: ReplicaSet[], create: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const { d } = state;
    const { newRS: existing, oldRSs } = this.split(d, rsList);
    const maxOld = Math.max(0, ...oldRSs.map(revisionOf));
    const newRevision = String(maxOld + 1);
    const newRS = existing ? await this.syncExistingNewRS(state, existing, newRevision) : create ? await this.createNewRS(state, oldRSs, newRevision) : undefined;
    if (newRS) await this.setDeploymentRevision(state, newRS.metadata?.annotations?.[REVISION_ANNOTATION] ?? newRevision);
    return { newRS, oldRSs };
  }

  private async syncExistingNewRS(state: SyncState, rs: ReplicaSet, newRevision: string): Promise<ReplicaSet> {
    const { d } = state;
    const annotations = { ...(rs.metadata?.annotations ?? {}) };
    let changed = false;
    const oldRevision = annotations[REVISION_ANNOTATION];
    if (!oldRevision || Number(oldRevision) < Number(newRevision)) {
      if (oldRevision) {
        const history = annotations[REVISION_HISTORY_ANNOTATION];
        annotations[REVISION_HISTORY_ANNOTATION] = history ? `${history},${oldRevision}` : oldRevision;
      }
      annotations[REVISION_ANNOTATION] = newRevision;
      changed = true;
    }
    for (const [k, v] of Object.entries(copiedAnnotations(d))) if (annotations[k] !== v) { annotations[k] = v; changed = true; }
    const minReady = d.spec?.minReadySeconds ?? 0;
    const rsMinReady = rs.spec?.minReadySeconds ?? 0;
    let result = rs;
    if (changed || minReady !== rsMinReady) {
      const next: ReplicaSet = { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec!, minReadySeconds: minReady } };
      result = await this.client.update(replicasets, next);
    }
    if (!getDeploymentCondition({ status: { conditions: state.conditions } }, 'Progressing') && hasProgressDeadline(d)) {
      this.setCond(state, cond('Progressing', 'True', FOUND_NEW_RS, `Found new replica set "${rs.metadata?.name}"`));
    }
    return result;
  }

  private async createNewRS(state: SyncState, oldRSs: ReplicaSet[], newRevision: string): Promise<ReplicaSet> {
    const { d } = state;
    const collisionCount = d.status?.collisionCount;
    const hash = computeHash(d.spec?.template, collisionCount);
    const template = structuredClone(d.spec!.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash } };
    const selector = structuredClone(d.spec!.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash };
    const desired = replicasOf(d);
    const newReplicas = isRollingUpdate(d) ? newRSNewReplicas(d, oldRSs, undefined) : desired;
    const name = `${d.metadata?.name}-${hash}`;
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name, namespace: d.metadata?.namespace,
        labels: template.metadata.labels,
        annotations: {
          ...copiedAnnotations(d),
          [REVISION_ANNOTATION]: newRevision,
          [DESIRED_REPLICAS_ANNOTATION]: String(desired),
          [MAX_REPLICAS_ANNOTATION]: String(desired + maxSurge(d)),
        },
        ownerReferences: [ownerRefOf(d)],
      },
      spec: { replicas: newReplicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    let created: ReplicaSet;
    try {
      created = await this.client.create(replicasets, rs);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.recorder.event(d, 'Warning', 'FailedCreate', `Failed to create new replica set "${name}": ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
      // Ours already (a cache lag), or a hash collision: then the next hash gets a new name.
      const existing = await this.client.get(replicasets, d.metadata?.namespace, name);
      if (controllerRefOf(existing)?.uid === d.metadata?.uid && equalIgnoreHash(existing.spec?.template, d.spec?.template)) return existing;
      const status: DeploymentStatus = { ...(d.status ?? {}), collisionCount: (collisionCount ?? 0) + 1 };
      await this.client.updateStatus(deployments, { ...d, status });
      throw new Error(`hash collision for replica set "${name}": collisionCount is now ${status.collisionCount}`);
    }
    if (newReplicas > 0) this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} to ${newReplicas}`);
    if (hasProgressDeadline(d)) this.setCond(state, cond('Progressing', 'True', NEW_RS_CREATED, `Created new replica set "${name}"`));
    return created;
  }

  private async setDeploymentRevision(state: SyncState, revision: string): Promise<void> {
    const { d } = state;
    if (d.metadata?.annotations?.[REVISION_ANNOTATION] === revision) return;
    const updated = await this.client.patch(deployments, d.metadata?.namespace, d.metadata!.name!, { metadata: { annotations: { [REVISION_ANNOTATION]: revision } } }, 'merge-patch');
    if (updated.metadata?.resourceVersion) this.written.set(keyOf(d), updated.metadata.resourceVersion);
    // The status write at the end compares-and-swaps on this newer version.
    d.metadata = { ...d.metadata, annotations: { ...(d.metadata?.annotations ?? {}), [REVISION_ANNOTATION]: revision }, resourceVersion: updated.metadata?.resourceVersion };
  }

  // ---- strategies ----------------------------------------------------------

  private async rolloutRolling(state: SyncState, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, rsList, true);
    const all = newRS ? [...oldRSs, newRS] : oldRSs;
    if (newRS && await this.reconcileNewReplicaSet(state, all, newRS)) { await this.syncRolloutStatus(state, all, newRS); return; }
    if (await this.reconcileOldReplicaSets(state, all, oldRSs, newRS)) { await this.syncRolloutStatus(state, all, newRS); return; }
    if (deploymentComplete(state.d, calculateStatus(state.d, state.conditions, all, newRS))) await this.cleanup(state.d, oldRSs);
    await this.syncRolloutStatus(state, all, newRS);
  }

  private async rolloutRecreate(state: SyncState, rsList: ReplicaSet[]): Promise<void> {
    const { d } = state;
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, rsList, false);
    let all = newRS ? [...oldRSs, newRS] : oldRSs;
    let scaledDown = false;
    for (const rs of oldRSs) {
      if ((rs.spec?.replicas ?? 0) === 0) continue;
      await this.scaleReplicaSet(state, rs, 0, d);
      scaledDown = true;
    }
    if (scaledDown) { await this.syncRolloutStatus(state, all, newRS); return; }
    if (this.oldPodsRunning(oldRSs)) { await this.syncRolloutStatus(state, all, newRS); return; }
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, rsList, true));
      all = newRS ? [...oldRSs, newRS] : oldRSs;
    }
    if (newRS && (newRS.spec?.replicas ?? 0) !== replicasOf(d)) {
      newRS = await this.scaleReplicaSet(state, newRS, replicasOf(d), d);
      all = [...oldRSs, newRS];
    }
    if (deploymentComplete(d, calculateStatus(state.d, state.conditions, all, newRS))) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(state, all, newRS);
  }

  /** Recreate starts new pods only once every pod of the old ReplicaSets has stopped. */
  private oldPodsRunning(oldRSs: ReplicaSet[]): boolean {
    for (const rs of oldRSs) {
      if ((rs.status?.replicas ?? 0) > 0) return true;
      const left = this.pods.byIndex(POD_CONTROLLER_INDEX, rs.metadata?.uid ?? '').some((p) => !isPodTerminated(p));
      if (left) return true;
    }
    return false;
  }

  private async reconcileNewReplicaSet(state: SyncState, all: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    const { d } = state;
    const want = replicasOf(d);
    const have = newRS.spec?.replicas ?? 0;
    if (have === want) return false;
    if (have > want) { await this.scaleReplicaSet(state, newRS, want, d); return true; }
    const next = newRSNewReplicas(d, all.filter((rs) => rs !== newRS), newRS);
    if (next === have) return false;
    await this.scaleReplicaSet(state, newRS, next, d);
    return true;
  }

  private async reconcileOldReplicaSets(state: SyncState, all: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<boolean> {
    const { d } = state;
    const oldPods = oldRSs.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    if (oldPods === 0) return false;
    const allPods = all.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = newRS ? (newRS.spec?.replicas ?? 0) - availableOf(newRS) : 0;
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;

    // First the old pods that are not available anyway: removing them costs no availability.
    let cleaned = 0;
    const current = new Map(oldRSs.map((rs) => [rs, rs]));
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const spec = rs.spec?.replicas ?? 0;
      const unhealthy = spec - availableOf(rs);
      if (spec === 0 || unhealthy <= 0) continue;
      const count = Math.min(maxScaledDown - cleaned, unhealthy);
      current.set(rs, await this.scaleReplicaSet(state, rs, spec - count, d));
      cleaned += count;
    }

    // Then available ones, as far as minAvailable allows, oldest first.
    const available = all.reduce((n, rs) => n + availableOf(current.get(rs) ?? rs), 0);
    let budget = available - minAvailable;
    let scaled = 0;
    if (budget > 0) {
      for (const original of [...oldRSs].sort(byCreation)) {
        if (budget <= 0) break;
        const rs = current.get(original)!;
        const spec = rs.spec?.replicas ?? 0;
        if (spec === 0) continue;
        const count = Math.min(spec, budget);
        await this.scaleReplicaSet(state, rs, spec - count, d);
        budget -= count;
        scaled += count;
      }
    }
    return cleaned + scaled > 0;
  }

  // ---- scaling -------------------------------------------------------------

  private isScalingEvent(d: Deployment, rsList: ReplicaSet[]): boolean {
    const { newRS, oldRSs } = this.split(d, rsList);
    const all = newRS ? [...oldRSs, newRS] : oldRSs;
    return all.some((rs) => (rs.spec?.replicas ?? 0) > 0 && rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION] !== undefined
      && rs.metadata.annotations[DESIRED_REPLICAS_ANNOTATION] !== String(replicasOf(d)));
  }

  /** `sync`: paused deployments and scaling events — scale proportionally, never roll. */
  private async syncScaling(state: SyncState, rsList: ReplicaSet[]): Promise<void> {
    const { d } = state;
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, rsList, false);
    const current = await this.scale(state, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanup(d, current.oldRSs);
    await this.syncDeploymentStatus(state, current.all, current.newRS);
  }

  /**
   * dc.scale: a single active ReplicaSet takes the whole size; several share
   * a change in proportion to their size (the max-replicas annotation records
   * what each was sized for), the largest taking the rounding leftover.
   */
  private async scale(state: SyncState, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[]; all: ReplicaSet[] }> {
    const { d } = state;
    const want = replicasOf(d);
    let all = newRS ? [...oldRSs, newRS] : [...oldRSs];
    const replace = (from: ReplicaSet, to: ReplicaSet) => {
      all = all.map((rs) => (rs === from ? to : rs));
      if (from === newRS) newRS = to;
      oldRSs = oldRSs.map((rs) => (rs === from ? to : rs));
    };
    const active = all.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    const target = active.length === 1 ? active[0] : active.length === 0 ? (newRS ?? [...all].sort(byCreation).at(-1)) : undefined;
    if (active.length <= 1) {
      if (target && ((target.spec?.replicas ?? 0) !== want || target.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION] !== String(want))) {
        replace(target, await this.scaleReplicaSet(state, target, want, d));
      }
      return { newRS, oldRSs, all };
    }
    if (newRS && (newRS.spec?.replicas ?? 0) === want && availableOf(newRS) === want) {
      for (const rs of oldRSs) if ((rs.spec?.replicas ?? 0) > 0) replace(rs, await this.scaleReplicaSet(state, rs, 0, d));
      return { newRS, oldRSs, all };
    }
    if (!isRollingUpdate(d)) return { newRS, oldRSs, all };
    const surge = maxSurge(d);
    const allowed = want > 0 ? want + surge : 0;
    const total = active.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    const toAdd = allowed - total;
    const sizes = new Map<ReplicaSet, number>();
    if (toAdd !== 0) {
      // Bigger first; among equals the newer gets more when growing, the older loses first when shrinking.
      const ordered = [...active].sort((a, b) => (b.spec?.replicas ?? 0) - (a.spec?.replicas ?? 0) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)));
      let added = 0;
      for (const rs of ordered) {
        const size = rs.spec?.replicas ?? 0;
        let proportion = 0;
        if (size > 0) {
          const fraction = replicaSetFraction(rs, d, surge);
          const allowedLeft = toAdd - added;
          proportion = toAdd > 0 ? Math.min(fraction, allowedLeft) : Math.max(fraction, allowedLeft);
        }
        sizes.set(rs, size + proportion);
        added += proportion;
      }
      const leftover = toAdd - added;
      if (leftover !== 0 && ordered.length) sizes.set(ordered[0], Math.max(0, (sizes.get(ordered[0]) ?? 0) + leftover));
    }
    for (const rs of active) {
      const size = sizes.get(rs) ?? (rs.spec?.replicas ?? 0);
      replace(rs, await this.scaleReplicaSet(state, rs, Math.max(0, size), d));
    }
    return { newRS, oldRSs, all };
  }

  /** Sets a ReplicaSet's size and the annotations saying what the deployment wanted; emits ScalingReplicaSet. */
  private async scaleReplicaSet(state: SyncState, rs: ReplicaSet, size: number, d: Deployment): Promise<ReplicaSet> {
    const from = rs.spec?.replicas ?? 0;
    const desired = String(replicasOf(d));
    const max = String(replicasOf(d) + maxSurge(d));
    const ann = rs.metadata?.annotations ?? {};
    if (from === size && ann[DESIRED_REPLICAS_ANNOTATION] === desired && ann[MAX_REPLICAS_ANNOTATION] === max) return rs;
    const next: ReplicaSet = {
      ...rs,
      metadata: { ...rs.metadata, annotations: { ...ann, [DESIRED_REPLICAS_ANNOTATION]: desired, [MAX_REPLICAS_ANNOTATION]: max } },
      spec: { ...rs.spec!, replicas: size },
    };
    const updated = await this.client.update(replicasets, next);
    if (from !== size) {
      const verb = size > from ? 'up' : 'down';
      this.recorder.event(state.d, 'Normal', 'ScalingReplicaSet', `Scaled ${verb} replica set ${rs.metadata?.name} to ${size} from ${from}`);
    }
    return updated;
  }

  // ---- clean-up --------------------------------------------------------------

  /** revisionHistoryLimit: the oldest scaled-down ReplicaSets beyond it go. */
  private async cleanup(d: Deployment, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
    const candidates = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = candidates.length - limit;
    if (diff <= 0) return;
    const byRevision = [...candidates].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of byRevision.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || (rs.spec?.replicas ?? 0) !== 0) continue;
      if ((rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.client.delete(replicasets, rs.metadata?.namespace, rs.metadata!.name!, { preconditions: { uid: rs.metadata?.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }

  // ---- status ------------------------------------------------------------------

  private checkPausedConditions(state: SyncState): void {
    const { d } = state;
    if (!hasProgressDeadline(d)) return;
    const current = getDeploymentCondition({ status: { conditions: state.conditions } }, 'Progressing');
    if (current?.reason === TIMED_OUT) return;
    const pausedCond = current?.reason === PAUSED;
    if (d.spec?.paused && !pausedCond) this.setCond(state, cond('Progressing', 'Unknown', PAUSED, 'Deployment is paused'));
    else if (!d.spec?.paused && pausedCond) this.setCond(state, cond('Progressing', 'Unknown', RESUMED, 'Deployment is resumed'));
  }

  private setCond(state: SyncState, c: DeploymentCondition): void {
    const i = state.conditions.findIndex((x) => x.type === c.type);
    const old = i >= 0 ? state.conditions[i] : undefined;
    if (old && old.status === c.status && old.reason === c.reason) return;
    const next = old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
    if (i >= 0) state.conditions[i] = next; else state.conditions.push(next);
  }

  private async syncStatusOnly(state: SyncState, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = this.split(state.d, rsList);
    await this.syncDeploymentStatus(state, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
  }

  private async syncDeploymentStatus(state: SyncState, all: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    await this.writeStatus(state, calculateStatus(state.d, state.conditions, all, newRS));
  }

  /** syncRolloutStatus: the Progressing condition, the deadline, and the wake-up for it. */
  private async syncRolloutStatus(state: SyncState, all: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const { d } = state;
    const status = calculateStatus(state.d, state.conditions, all, newRS);
    if (!hasProgressDeadline(d)) {
      status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'Progressing');
    } else {
      const current = getDeploymentCondition({ status }, 'Progressing');
      const name = newRS?.metadata?.name ?? '';
      if (!d.spec?.paused && current?.reason !== TIMED_OUT) {
        const conds = status.conditions ?? [];
        if (deploymentComplete(d, status)) {
          status.conditions = upsert(conds, cond('Progressing', 'True', NEW_RS_AVAILABLE, `ReplicaSet "${name}" has successfully progressed.`));
        } else if (deploymentProgressing(d, status)) {
          const c = cond('Progressing', 'True', RS_UPDATED, `ReplicaSet "${name}" is progressing.`);
          if (current?.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
          status.conditions = [...conds.filter((x) => x.type !== 'Progressing'), c];
        } else if (deploymentTimedOut(d, status)) {
          status.conditions = upsert(conds, cond('Progressing', 'False', TIMED_OUT, `ReplicaSet "${name}" has timed out progressing.`));
        }
      }
    }
    const failure = all.flatMap((rs) => rs.status?.conditions ?? []).find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    if (failure) status.conditions = upsert(status.conditions ?? [], cond('ReplicaFailure', 'True', failure.reason ?? 'FailedCreate', failure.message ?? ''));
    else status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
    await this.writeStatus(state, status);
    this.requeueStuck(d, status);
  }

  /** A rollout that makes no progress produces no events: wake up when its deadline passes. */
  private requeueStuck(d: Deployment, status: DeploymentStatus): void {
    const c = getDeploymentCondition({ status }, 'Progressing');
    if (!hasProgressDeadline(d) || !c || c.reason === NEW_RS_AVAILABLE || c.reason === TIMED_OUT || deploymentComplete(d, status)) return;
    const from = Date.parse(c.lastUpdateTime ?? '') || Date.now();
    const after = from + d.spec!.progressDeadlineSeconds! * 1000 - Date.now();
    this.queue.addAfter(keyOf(d), Math.max(after, 0) + 1000);
  }

  private async writeStatus(state: SyncState, status: DeploymentStatus): Promise<void> {
    const { d } = state;
    if (stableStringify(status) === stableStringify(d.status ?? {})) return;
    try {
      const written = await this.client.updateStatus(deployments, { ...d, status });
      if (written.metadata?.resourceVersion) this.written.set(keyOf(d), written.metadata.resourceVersion);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}

// ---- pure helpers ----------------------------------------------------------

function selectorOf(d: Deployment): Selector {
  try { return labelSelectorFromObject(d.spec?.selector); } catch { return labelSelectorFromObject(undefined); }
}

function ownerRefOf(d: Deployment): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata!.name!, uid: d.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}


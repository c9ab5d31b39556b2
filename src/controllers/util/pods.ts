import type { Pod, PodCondition } from 'kubernetes-types/core/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '../../client/index.js';

/** pkg/api/v1/pod: the Ready condition, if the kubelet reported one. */
export const podReadyCondition = (pod: Pod): PodCondition | undefined => pod.status?.conditions?.find((c) => c.type === 'Ready');

export const isPodReady = (pod: Pod): boolean => podReadyCondition(pod)?.status === 'True';

/** Ready for at least `minReadySeconds` (upstream's `IsPodAvailable`). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now = Date.now()): boolean {
  const ready = podReadyCondition(pod);
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** Milliseconds until a ready pod turns available, or undefined if it is not ready (or already available). */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now = Date.now()): number | undefined {
  const ready = podReadyCondition(pod);
  if (ready?.status !== 'True' || minReadySeconds <= 0) return undefined;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  if (!Number.isFinite(since)) return undefined;
  const left = since + minReadySeconds * 1000 - now;
  return left > 0 ? left : undefined;
}

/** controller.IsPodActive: not terminated and not being deleted. */
export const isPodActive = (pod: Pod): boolean =>
  pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed' && !pod.metadata?.deletionTimestamp;

export const isPodTerminated = (pod: Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export const controllerRefOf = (obj: KubeObject): OwnerReference | undefined =>
  obj.metadata?.ownerReferences?.find((r) => r.controller === true);

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * controller.ActivePodsWithRanks' Less: the pod to delete first sorts first —
 * unassigned, then pending < unknown < running, not ready, more replicas on
 * its node, ready for less time, more restarts, newer.
 */
export function compareForDeletion(a: Pod, b: Pod, rankOf: (p: Pod) => number = () => 0): number {
  const an = a.spec?.nodeName ? 1 : 0;
  const bn = b.spec?.nodeName ? 1 : 0;
  if (an !== bn) return an - bn;
  const ap = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
  const bp = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (ap !== bp) return ap - bp;
  const ar = isPodReady(a) ? 1 : 0;
  const br = isPodReady(b) ? 1 : 0;
  if (ar !== br) return ar - br;
  const ak = rankOf(a);
  const bk = rankOf(b);
  if (ak !== bk) return bk - ak;
  if (ar && br) {
    const at = Date.parse(podReadyCondition(a)?.lastTransitionTime ?? '') || 0;
    const bt = Date.parse(podReadyCondition(b)?.lastTransitionTime ?? '') || 0;
    if (at !== bt) return bt - at;
  }
  const restarts = (p: Pod) => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  const ac = restarts(a);
  const bc = restarts(b);
  if (ac !== bc) return bc - ac;
  const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
  return created(b) - created(a);
}

/** Pods of the same owner on each node: spreading deletions keeps replicas on many nodes. */
export function colocationRank(pods: Pod[]): (p: Pod) => number {
  const perNode = new Map<string, number>();
  for (const p of pods) if (p.spec?.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  return (p) => (p.spec?.nodeName ? perNode.get(p.spec.nodeName) ?? 0 : 0);
}

/** A pods index shared by the controllers: controller uid, or `orphan:<namespace>` for pods without a controller. */
export const POD_CONTROLLER_INDEX = 'bosun.controllers/controller-uid';

export const podControllerIndexValue = (pod: Pod): string => controllerRefOf(pod)?.uid ?? `orphan:${pod.metadata?.namespace ?? ''}`;

/** Adds the index once to a shared informer; later callers find it there. */
export function ensurePodControllerIndex(informer: { addIndex(name: string, fn: (p: Pod) => string[]): unknown }): void {
  try {
    informer.addIndex(POD_CONTROLLER_INDEX, (p) => [podControllerIndexValue(p)]);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.includes('already exists')) throw err;
  }
}

import type { ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { parseDuration, timestamp } from './node-spec.js';

/** Annotations a test puts on a pod to steer the hollow kubelet. */
export const READY_ANNOTATION = 'sim.bosun.io/ready';
export const FAIL_ANNOTATION = 'sim.bosun.io/fail';
export const COMPLETE_AFTER_ANNOTATION = 'sim.bosun.io/complete-after';

export type HollowPhase = 'Running' | 'Succeeded' | 'Failed';

/** What the hollow kubelet wants a pod to be now. */
export function desiredPhase(pod: Pod, runningSinceMs: number | undefined, now = Date.now()): { phase: HollowPhase; ready: boolean; completeAt?: number } {
  const ann = pod.metadata?.annotations ?? {};
  if (ann[FAIL_ANNOTATION] === 'true') return { phase: 'Failed', ready: false };
  const ready = ann[READY_ANNOTATION] !== 'false';
  const after = parseDuration(ann[COMPLETE_AFTER_ANNOTATION]);
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (after !== undefined && policy !== 'Always') {
    const completeAt = (runningSinceMs ?? now) + after;
    if (now >= completeAt) return { phase: 'Succeeded', ready: false };
    return { phase: 'Running', ready, completeAt };
  }
  return { phase: 'Running', ready };
}

function condition(type: string, ok: boolean, now: string, previous: PodCondition[] | undefined, reason?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const old = previous?.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
  return { type, status, lastTransitionTime, ...(reason && !ok ? { reason } : {}) };
}

export interface PodPlacement { podIP: string; hostIP: string }

/**
 * The status a kubelet would write for `pod` in `phase`: conditions,
 * container states (image and container IDs say `hollow://`), the IPs. The
 * existing status's start time and transition times are kept.
 */
export function hollowPodStatus(pod: Pod, want: { phase: HollowPhase; ready: boolean }, at: PodPlacement, nowMs = Date.now()): PodStatus {
  const now = timestamp(nowMs);
  const old = pod.status ?? {};
  const startTime = old.startTime ?? now;
  const running = want.phase === 'Running';
  const ready = running && want.ready;
  const uid = pod.metadata?.uid ?? pod.metadata?.name ?? '';
  const containers: ContainerStatus[] = (pod.spec?.containers ?? []).map((c) => {
    const prev = old.containerStatuses?.find((s) => s.name === c.name);
    const startedAt = prev?.state?.running?.startedAt ?? prev?.state?.terminated?.startedAt ?? now;
    const state: ContainerStatus['state'] = running
      ? { running: { startedAt } }
      : {
        terminated: want.phase === 'Succeeded'
          ? { exitCode: 0, reason: 'Completed', startedAt, finishedAt: now, containerID: `hollow://${uid}/${c.name}` }
          : { exitCode: 1, reason: 'Error', message: `hollow kubelet: failed by annotation ${FAIL_ANNOTATION}`, startedAt, finishedAt: now, containerID: `hollow://${uid}/${c.name}` },
      };
    return {
      name: c.name, image: c.image ?? '', imageID: `hollow://${c.image ?? ''}`, containerID: `hollow://${uid}/${c.name}`,
      ready, started: running, restartCount: 0, state,
    };
  });
  const inits: ContainerStatus[] = (pod.spec?.initContainers ?? []).map((c) => ({
    name: c.name, image: c.image ?? '', imageID: `hollow://${c.image ?? ''}`, containerID: `hollow://${uid}/${c.name}`,
    ready: true, started: false, restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: startTime, finishedAt: startTime, containerID: `hollow://${uid}/${c.name}` } },
  }));
  const prevConds = old.conditions;
  const notReadyReason = running ? 'ContainersNotReady' : 'PodCompleted';
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', running, now, prevConds),
    condition('Initialized', true, now, prevConds),
    condition('Ready', ready, now, prevConds, notReadyReason),
    condition('ContainersReady', ready, now, prevConds, notReadyReason),
    condition('PodScheduled', true, now, prevConds),
  ];
  return {
    ...old,
    phase: want.phase,
    conditions,
    hostIP: at.hostIP,
    hostIPs: [{ ip: at.hostIP }],
    podIP: at.podIP,
    podIPs: [{ ip: at.podIP }],
    startTime,
    containerStatuses: containers,
    ...(inits.length ? { initContainerStatuses: inits } : {}),
  };
}

/** Whether `pod`'s status already says what `want` would write (then no write is needed). */
export function statusMatches(pod: Pod, want: { phase: HollowPhase; ready: boolean }, podIP: string): boolean {
  const s = pod.status;
  if (!s || s.phase !== want.phase || s.podIP !== podIP) return false;
  const ready = s.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return ready === (want.phase === 'Running' && want.ready);
}

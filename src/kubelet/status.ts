import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import { computePodQOS } from '../apiserver/strategies/qos.js';
import { nowTimestamp } from '../api/meta.js';
import type { ContainerInstance } from './runtime-state.js';
import { nanosToTime } from './runtime-state.js';

/** Why a container is not running, when the runtime alone cannot say (pull failures, back-off, config errors). */
export interface WaitingReason { reason: string; message?: string }

/** Everything the status is computed from: the runtime's view plus the kubelet's own verdicts. */
export interface PodStatusInput {
  pod: Pod;
  hostIP: string;
  podIP?: string;
  sandboxReady: boolean;
  /** Latest instances per container name in the current sandbox first (see observePod). */
  instances: Map<string, ContainerInstance[]>;
  /** Current sandbox id: instances from older sandboxes only count as history. */
  sandboxId?: string;
  waiting: Map<string, WaitingReason>;
  ready: (name: string, inst: ContainerInstance) => boolean;
  started: (name: string, inst: ContainerInstance) => boolean;
  initialized: boolean;
  /** Set when the kubelet decided the pod is over (restartPolicy says no more restarts). */
  terminalPhase?: 'Succeeded' | 'Failed';
  /** Why the kubelet ended the pod (DeadlineExceeded), as status.reason and message. */
  terminalReason?: { reason: string; message: string };
  now?: string;
}

function terminatedState(inst: ContainerInstance): ContainerState {
  const s = inst.status!;
  const exitCode = s.exitCode;
  const reason = s.reason && s.reason !== 'Completed' && s.reason !== 'Error' ? s.reason : exitCode === 0 ? 'Completed' : 'Error';
  return {
    terminated: {
      exitCode, reason, ...(s.message ? { message: s.message } : {}),
      startedAt: nanosToTime(s.startedAt), finishedAt: nanosToTime(s.finishedAt), containerID: `containerd://${inst.id}`,
    },
  };
}

function containerStatus(c: Container, input: PodStatusInput, isInit: boolean): ContainerStatus {
  const all = (input.instances.get(c.name) ?? []).filter((i) => i.status);
  const current = all[0];
  const previous = all[1];
  const waiting = input.waiting.get(c.name);
  const base = { name: c.name, image: c.image ?? '', imageID: '', restartCount: current?.attempt ?? 0, ready: false, started: false };
  if (!current) {
    return { ...base, state: { waiting: waiting ?? { reason: input.sandboxReady && !isInit ? 'ContainerCreating' : isInit ? 'PodInitializing' : 'ContainerCreating' } } };
  }
  const s = current.status!;
  const out: ContainerStatus = {
    ...base, imageID: s.imageRef || current.status?.image?.image || '', containerID: `containerd://${current.id}`,
  };
  if (s.state === 'CONTAINER_RUNNING') {
    out.state = { running: { startedAt: nanosToTime(s.startedAt) } };
    out.started = input.started(c.name, current);
    out.ready = input.ready(c.name, current);
    if (previous?.status?.state === 'CONTAINER_EXITED') out.lastState = terminatedState(previous);
  } else if (s.state === 'CONTAINER_EXITED') {
    if (waiting) {
      // Restarting: waiting for back-off or an image; the exit is the last state.
      out.state = { waiting };
      out.lastState = terminatedState(current);
    } else {
      out.state = terminatedState(current);
      if (previous?.status?.state === 'CONTAINER_EXITED') out.lastState = terminatedState(previous);
    }
    // An init container that completed counts as ready, as upstream reports it.
    if (isInit && s.exitCode === 0 && c.restartPolicy !== 'Always') out.ready = true;
  } else {
    out.state = { waiting: waiting ?? { reason: 'ContainerCreating' } };
  }
  return out;
}

function condition(type: string, ok: boolean, now: string, previous: PodCondition[] | undefined, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const old = previous?.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
  return { type, status, lastTransitionTime, ...(!ok && reason ? { reason } : {}), ...(!ok && message ? { message } : {}) };
}

/** Upstream's getPhase over the regular containers' statuses. */
function phaseOf(pod: Pod, statuses: ContainerStatus[], initialized: boolean, terminal?: 'Succeeded' | 'Failed'): string {
  if (terminal) return terminal;
  if (!initialized) return 'Pending';
  let running = 0; let waiting = 0; let stopped = 0; let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state?.waiting) { if (s.lastState?.terminated) stopped++; else waiting++; }
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    const policy = pod.spec?.restartPolicy ?? 'Always';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** The pod's status as the kubelet reports it; transition times and start time of the old status are kept. */
export function computePodStatus(input: PodStatusInput): PodStatus {
  const { pod } = input;
  const now = input.now ?? nowTimestamp();
  const old = pod.status ?? {};
  const inits = (pod.spec?.initContainers ?? []).map((c) => containerStatus(c, input, true));
  const mains = (pod.spec?.containers ?? []).map((c) => containerStatus(c, input, false));
  const phase = phaseOf(pod, mains, input.initialized, input.terminalPhase);
  const sidecarsReady = (pod.spec?.initContainers ?? []).every((c, i) => c.restartPolicy !== 'Always' || inits[i].ready);
  const notReady = mains.filter((s) => !s.ready).map((s) => s.name);
  const containersReady = input.initialized && notReady.length === 0 && sidecarsReady && phase === 'Running';
  const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType);
  const gatesOk = gates.every((t) => old.conditions?.find((c) => c.type === t)?.status === 'True');
  const done = phase === 'Succeeded' || phase === 'Failed';
  const notReadyReason = done ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = done ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
  const uninitialized = (pod.spec?.initContainers ?? []).filter((_c, i) => !inits[i].ready && !(inits[i].state?.terminated?.exitCode === 0)).map((c) => c.name);
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', input.sandboxReady, now, old.conditions),
    condition('Initialized', input.initialized, now, old.conditions, done ? 'PodCompleted' : 'ContainersNotInitialized',
      done ? undefined : `containers with incomplete status: [${uninitialized.join(' ')}]`),
    condition('Ready', containersReady && gatesOk, now, old.conditions, containersReady ? 'ReadinessGatesNotReady' : notReadyReason,
      containersReady ? `corresponding condition of pod readiness gate "${gates.find((t) => old.conditions?.find((c) => c.type === t)?.status !== 'True')}" does not exist.` : notReadyMessage),
    condition('ContainersReady', containersReady, now, old.conditions, notReadyReason, notReadyMessage),
  ];
  // Conditions other components own (PodScheduled, DisruptionTarget, readiness gates) are kept as they are.
  const ours = new Set(conditions.map((c) => c.type));
  for (const c of old.conditions ?? []) if (!ours.has(c.type)) conditions.push(c);
  const podIP = input.podIP ?? old.podIP;
  return {
    ...old,
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: old.startTime ?? now,
    ...(inits.length ? { initContainerStatuses: inits } : {}),
    containerStatuses: mains,
    qosClass: old.qosClass ?? computePodQOS(pod),
    ...(input.terminalReason ?? {}),
  };
}

/** Whether two statuses differ in anything but heartbeat-like noise (none in pod status: a plain JSON compare). */
export const statusChanged = (a: PodStatus | undefined, b: PodStatus): boolean => JSON.stringify(normalize(a ?? {})) !== JSON.stringify(normalize(b));

function normalize(s: PodStatus): unknown {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined && (v as Record<string, unknown>)[k] !== null).map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
    return v;
  };
  return sortKeys(s);
}

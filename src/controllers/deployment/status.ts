import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1';
import { nowTimestamp } from '../../api/meta.js';
import { MIN_AVAILABLE, MIN_UNAVAILABLE, NEW_RS_AVAILABLE, TIMED_OUT, getDeploymentCondition, maxUnavailable, replicasOf } from './util.js';

// Deployment status and conditions as upstream's deploymentutil computes them.

export function cond(type: string, status: string, reason: string, message: string): DeploymentCondition {
  const now = nowTimestamp();
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

/** SetDeploymentCondition: same status and reason change nothing; same status keeps the transition time. */
export function upsert(conds: DeploymentCondition[], c: DeploymentCondition): DeploymentCondition[] {
  const old = conds.find((x) => x.type === c.type);
  if (old && old.status === c.status && old.reason === c.reason) return conds;
  const next = old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
  return [...conds.filter((x) => x.type !== c.type), next];
}

export const hasProgressDeadline = (d: Deployment): boolean => {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== 2147483647;
};

export function calculateStatus(d: Deployment, conditionsSoFar: DeploymentCondition[], all: ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
  const sum = (f: (rs: ReplicaSet) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const available = sum((rs) => rs.status?.availableReplicas ?? 0);
  const total = sum((rs) => rs.spec?.replicas ?? 0);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
  };
  let conditions = [...conditionsSoFar];
  if (available >= replicasOf(d) - maxUnavailable(d)) conditions = upsert(conditions, cond('Available', 'True', MIN_AVAILABLE, 'Deployment has minimum availability.'));
  else conditions = upsert(conditions, cond('Available', 'False', MIN_UNAVAILABLE, 'Deployment does not have minimum availability.'));
  // Upstream lists Available before Progressing; kubectl shows them in this order.
  conditions.sort((a, b) => order(a.type) - order(b.type));
  status.conditions = conditions;
  return status;
}

const order = (type: string): number => (type === 'Available' ? 0 : type === 'Progressing' ? 1 : 2);

export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const want = replicasOf(d);
  return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want
    && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld
    || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

export function deploymentTimedOut(d: Deployment, s: DeploymentStatus): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getDeploymentCondition({ status: s }, 'Progressing');
  if (!c) return false;
  if (c.reason === NEW_RS_AVAILABLE) return false;
  if (c.reason === TIMED_OUT) return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return Number.isFinite(from) && from + d.spec!.progressDeadlineSeconds! * 1000 < Date.now();
}


import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import { MAX_REPLICAS_ANNOTATION, replicasOf, resolveFenceposts } from './util.js';

// How big each ReplicaSet of a deployment may be, as upstream's deploymentutil decides.

/**
 * What an RS may count as available: its status can lag behind a scale-down
 * it was just given, so never more than its size — the rolling update must
 * not take availability it only remembers.
 */
export const availableOf = (rs: ReplicaSet): number => Math.min(rs.spec?.replicas ?? 0, rs.status?.availableReplicas ?? 0);

/** The pods an RS may have: its size, or more while its status still counts pods it is deleting. */
export const podsOf = (rs: ReplicaSet): number => Math.max(rs.spec?.replicas ?? 0, rs.status?.replicas ?? 0);

/**
 * NewRSNewReplicas for RollingUpdate: grow the new RS as far as maxSurge
 * allows. Counts pods that old ReplicaSets have not removed yet, so the
 * surge is never exceeded while their deletions are in flight.
 */
export function newRSNewReplicas(d: Deployment, others: ReplicaSet[], newRS: ReplicaSet | undefined): number {
  const want = replicasOf(d);
  const { maxSurge: surge } = resolveFenceposts(d);
  const current = others.reduce((n, rs) => n + podsOf(rs), 0) + (newRS ? podsOf(newRS) : 0);
  const have = newRS?.spec?.replicas ?? 0;
  const maxTotal = want + surge;
  if (current >= maxTotal) return have;
  const up = Math.min(maxTotal - current, want - have);
  return have + Math.max(0, up);
}

/** getReplicaSetFraction: how much of a size change this RS takes, by its share of the size it was made for. */
export function replicaSetFraction(rs: ReplicaSet, d: Deployment, surge: number): number {
  const want = replicasOf(d);
  const size = rs.spec?.replicas ?? 0;
  if (want === 0) return -size;
  const deploymentReplicas = want + surge;
  const annotated = Number(rs.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION]);
  const sizedFor = Number.isInteger(annotated) && annotated > 0 ? annotated : (d.status?.replicas ?? size);
  if (sizedFor <= 0) return 0;
  const newSize = Math.round((size * deploymentReplicas) / sizedFor);
  return newSize - size;
}


import type { Deployment, DeploymentCondition, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
type IntOrString = number | string;
import { stableStringify } from '../util/stable-json.js';

export const DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';

// Upstream's condition reasons, which `kubectl rollout status` and users look for.
export const NEW_RS_CREATED = 'NewReplicaSetCreated';
export const FOUND_NEW_RS = 'FoundNewReplicaSet';
export const RS_UPDATED = 'ReplicaSetUpdated';
export const NEW_RS_AVAILABLE = 'NewReplicaSetAvailable';
export const TIMED_OUT = 'ProgressDeadlineExceeded';
export const PAUSED = 'DeploymentPaused';
export const RESUMED = 'DeploymentResumed';
export const MIN_AVAILABLE = 'MinimumReplicasAvailable';
export const MIN_UNAVAILABLE = 'MinimumReplicasUnavailable';
export const FAILED_RS_CREATE = 'ReplicaSetCreateError';

export const replicasOf = (o: Deployment | ReplicaSet): number => o.spec?.replicas ?? 1;

/** Revision annotation as a number; 0 when absent or malformed. */
export function revisionOf(rs: ReplicaSet | Deployment): number {
  const n = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: IntOrString | undefined, fallback: string, total: number, roundUp: boolean): number {
  const value = v ?? fallback;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) {
    const n = Number(value);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid value "${value}": must be an integer or a percentage`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** ResolveFenceposts: maxSurge rounds up, maxUnavailable down; both zero would deadlock, so unavailable becomes 1. */
export function resolveFenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  const desired = replicasOf(d);
  const maxSurge = scaledValue(ru?.maxSurge, '25%', desired, true);
  let maxUnavailable = scaledValue(ru?.maxUnavailable, '25%', desired, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export const isRollingUpdate = (d: Deployment): boolean => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/** deploymentutil.MaxUnavailable: what the Available condition tolerates. */
export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).maxUnavailable, replicasOf(d));
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).maxSurge : 0;
}

/** EqualIgnoreHash: templates equal once the pod-template-hash label is ignored. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return stableStringify(withoutHash(a)) === stableStringify(withoutHash(b));
}

function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy = structuredClone(t ?? {});
  if (copy.metadata?.labels) {
    const { [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: _hash, ...rest } = copy.metadata.labels;
    copy.metadata = { ...copy.metadata, labels: rest };
    if (Object.keys(rest).length === 0) delete copy.metadata.labels;
  }
  if (copy.metadata && Object.keys(copy.metadata).length === 0) delete copy.metadata;
  return copy;
}

/** Annotations the deployment passes to its ReplicaSets: all but kubectl's and the controller's own. */
export function copiedAnnotations(d: Deployment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (k === LAST_APPLIED_ANNOTATION || k === REVISION_ANNOTATION || k === REVISION_HISTORY_ANNOTATION
      || k === DESIRED_REPLICAS_ANNOTATION || k === MAX_REPLICAS_ANNOTATION || k === ROLLBACK_TO_ANNOTATION) continue;
    out[k] = v;
  }
  return out;
}

export const creationTime = (o: { metadata?: { creationTimestamp?: string; name?: string } }): number => Date.parse(o.metadata?.creationTimestamp ?? '') || 0;

/** Oldest first; the name breaks ties as upstream's ReplicaSetsByCreationTimestamp does. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return creationTime(a) - creationTime(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

export const getDeploymentCondition = (d: { status?: { conditions?: DeploymentCondition[] } }, type: string): DeploymentCondition | undefined =>
  d.status?.conditions?.find((c) => c.type === type);

import type { FieldError } from '../status.js';
import { invalid, validateNonnegative } from './errors.js';
import { child } from './path.js';

/** The counters a ReplicaSet, ReplicationController or Deployment reports. */
export interface ReplicaCounts {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  fullyLabeledReplicas?: number;
  updatedReplicas?: number;
  unavailableReplicas?: number;
  observedGeneration?: number;
  collisionCount?: number;
}

const COUNTERS = ['replicas', 'fullyLabeledReplicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'observedGeneration', 'collisionCount'] as const;

/** Validate…Status: counters not negative, none above `replicas`, available ≤ ready. */
export function validateReplicaStatus(status: ReplicaCounts | undefined, field = 'status'): FieldError[] {
  const s = status ?? {};
  const errs: FieldError[] = [];
  for (const k of COUNTERS) if (k in s) errs.push(...validateNonnegative(s[k], child(field, k)));
  const replicas = s.replicas ?? 0;
  const msg = 'cannot be greater than status.replicas';
  for (const k of ['fullyLabeledReplicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'] as const) {
    if ((s[k] ?? 0) > replicas) errs.push(invalid(child(field, k), s[k], msg));
  }
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) errs.push(invalid(child(field, 'availableReplicas'), s.availableReplicas, 'cannot be greater than readyReplicas'));
  return errs;
}

/** collisionCount only grows: it salts the names of new ReplicaSets. */
export function validateCollisionCountUpdate(now: number | undefined, before: number | undefined, field = 'status.collisionCount'): FieldError[] {
  const decremented = (now === undefined && before !== undefined) || (now !== undefined && before !== undefined && now < before);
  return decremented ? [invalid(field, now ?? 0, 'cannot be decremented')] : [];
}

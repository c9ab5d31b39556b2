import type { Lease } from 'kubernetes-types/coordination/v1';
import type { FieldError } from '../../api/status.js';
import { invalid } from '../../api/validation/errors.js';
import type { Strategy } from '../strategy.js';
import { validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';

type LeaseObj = Obj<Lease>;

/** ValidateLeaseSpec (coordination/v1 in 1.30 has no strategy fields). */
function validateLeaseSpec(lease: LeaseObj): FieldError[] {
  const errs: FieldError[] = [];
  const s = lease.spec ?? {};
  if (s.leaseDurationSeconds !== undefined && s.leaseDurationSeconds <= 0) errs.push(invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
  if (s.leaseTransitions !== undefined && s.leaseTransitions < 0) errs.push(invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'));
  return errs;
}

/** pkg/registry/coordination/lease/strategy.go: node heartbeats and leader election. */
export const leaseStrategy: Strategy<LeaseObj> = {
  validate: (lease) => [...validateNamespacedMeta(lease), ...validateLeaseSpec(lease)],
  validateUpdate: validateMetaUpdate,
};

import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import type { FieldError } from '../../api/status.js';
import { invalid, notSupported, validateNonnegative } from '../../api/validation/errors.js';
import { validatePositiveIntOrPercent, validateNotMoreThan100Percent } from '../../api/validation/int-or-string.js';
import { validateLabelSelector } from '../../api/validation/label-selector.js';
import type { Strategy } from '../strategy.js';
import { keepSpec, keepStatus, validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';

type PDBObj = Obj<PodDisruptionBudget>;

const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

/** pkg/apis/policy/validation ValidatePodDisruptionBudgetSpec. */
export function validatePDBSpec(pdb: PodDisruptionBudget): FieldError[] {
  const spec = pdb.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  if (spec.minAvailable !== undefined) {
    errs.push(...validatePositiveIntOrPercent(spec.minAvailable, 'spec.minAvailable'));
    errs.push(...validateNotMoreThan100Percent(spec.minAvailable, 'spec.minAvailable'));
  }
  if (spec.maxUnavailable !== undefined) {
    errs.push(...validatePositiveIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable'));
    errs.push(...validateNotMoreThan100Percent(spec.maxUnavailable, 'spec.maxUnavailable'));
  }
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy)) {
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

/** ValidatePodDisruptionBudgetStatusUpdate's policy/v1 checks. */
function validatePDBStatus(pdb: PodDisruptionBudget): FieldError[] {
  const status = pdb.status;
  if (!status) return [];
  return [
    ...validateNonnegative(status.disruptionsAllowed, 'status.disruptionsAllowed'),
    ...validateNonnegative(status.currentHealthy, 'status.currentHealthy'),
    ...validateNonnegative(status.desiredHealthy, 'status.desiredHealthy'),
    ...validateNonnegative(status.expectedPods, 'status.expectedPods'),
  ];
}

/** pkg/registry/policy/poddisruptionbudget/strategy.go. */
export const podDisruptionBudgetStrategy: Strategy<PDBObj> = {
  prepareForCreate(pdb) {
    // Go's zero PodDisruptionBudgetStatus: its int32 counters are not omitempty.
    pdb.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  },
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepSpec,
  validate(pdb) {
    return [...validateNamespacedMeta(pdb), ...validatePDBSpec(pdb)];
  },
  validateUpdate(pdb, old) {
    return [...validateMetaUpdate(pdb, old), ...validatePDBStatus(pdb)];
  },
};

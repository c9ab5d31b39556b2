import type { PriorityClass } from 'kubernetes-types/scheduling/v1';
import type { FieldError } from '../../api/status.js';
import { forbidden, notSupported, required } from '../../api/validation/errors.js';
import { validateImmutableField } from '../../api/validation/metadata.js';
import type { Strategy } from '../strategy.js';
import { validateClusterMeta, validateMetaUpdate, type Obj } from './common.js';

type PriorityClassObj = Obj<PriorityClass>;

const SYSTEM_PREFIX = 'system-';
const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** The two classes the apiserver creates at start; no other may use the prefix. */
export const SYSTEM_PRIORITY_CLASSES: Record<string, number> = {
  'system-node-critical': 2_000_001_000,
  'system-cluster-critical': 2_000_000_000,
};
const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];

/** schedulingapiv1.IsKnownSystemPriorityClass's error, or undefined when known. */
function systemClassError(pc: PriorityClassObj): string | undefined {
  const name = pc.metadata?.name ?? '';
  const value = SYSTEM_PRIORITY_CLASSES[name];
  if (value === undefined) return `${name} is not a known system priority class`;
  if (pc.value !== value) return `value of ${name} PriorityClass must be ${value}`;
  if (pc.globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

/** ValidatePriorityClass. */
function validatePriorityClass(pc: PriorityClassObj): FieldError[] {
  const errs = validateClusterMeta(pc);
  if ((pc.metadata?.name ?? '').startsWith(SYSTEM_PREFIX)) {
    const err = systemClassError(pc);
    if (err) errs.push(forbidden('metadata.name', `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${err}`));
  } else if ((pc.value ?? 0) > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (pc.preemptionPolicy !== undefined) {
    if (!pc.preemptionPolicy) errs.push(required('preemptionPolicy'));
    else if (!PREEMPTION_POLICIES.includes(pc.preemptionPolicy)) errs.push(notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
  }
  return errs;
}

/** pkg/registry/scheduling/priorityclass/strategy.go. */
export const priorityClassStrategy: Strategy<PriorityClassObj> = {
  /** SetDefaults_PriorityClass. */
  defaults(pc) {
    pc.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate: validatePriorityClass,
  /** Pods copied the value at admission: changing it would make them disagree. */
  validateUpdate(pc, old) {
    const errs = validateMetaUpdate(pc, old);
    if (pc.value !== old.value) errs.push(forbidden('value', 'may not be changed in an update.'));
    errs.push(...validateImmutableField(pc.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
    return errs;
  },
};

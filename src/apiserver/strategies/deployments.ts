import type { Deployment, DeploymentStrategy } from 'kubernetes-types/apps/v1';
import type { FieldError } from '../../api/status.js';
import { forbidden, invalid, notSupported, required, validateNonnegative } from '../../api/validation/errors.js';
import { intOrPercentValue, validateNotMoreThan100Percent, validatePositiveIntOrPercent } from '../../api/validation/int-or-string.js';
import { validateImmutableField } from '../../api/validation/metadata.js';
import { validateCollisionCountUpdate, validateReplicaStatus } from '../../api/validation/replica-status.js';
import { validateSelectedTemplate } from '../../api/validation/workload.js';
import type { Strategy } from '../strategy.js';
import { keepMetadataField, keepSpec, keepStatus, validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';
import { defaultPodTemplate } from './pod-defaults.js';

type DeploymentObj = Obj<Deployment>;

/** pkg/apis/apps/v1 SetDefaults_Deployment. */
function defaultDeployment(d: DeploymentObj): void {
  const spec = (d.spec ??= { selector: {}, template: {} });
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= '25%';
    ru.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplate(spec.template);
}

function validateStrategy(strategy: DeploymentStrategy | undefined, field: string): FieldError[] {
  const s = strategy ?? {};
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate ? [forbidden(`${field}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) return [required(`${field}.rollingUpdate`, 'this should be defaulted and never be nil')];
      const p = `${field}.rollingUpdate`;
      const errs = [...validatePositiveIntOrPercent(ru.maxUnavailable ?? 0, `${p}.maxUnavailable`), ...validatePositiveIntOrPercent(ru.maxSurge ?? 0, `${p}.maxSurge`)];
      if (intOrPercentValue(ru.maxUnavailable).value === 0 && intOrPercentValue(ru.maxSurge).value === 0) {
        errs.push(invalid(`${p}.maxUnavailable`, ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...validateNotMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      return errs;
    }
    default:
      return [notSupported(field, s, ['Recreate', 'RollingUpdate'])];
  }
}

/** ValidateDeploymentSpec. */
function validateDeploymentSpec(d: DeploymentObj): FieldError[] {
  const spec = d.spec;
  const errs = validateSelectedTemplate(spec ?? {}, 'spec', 'deployment');
  errs.push(...validateStrategy(spec?.strategy, 'spec.strategy'));
  errs.push(...validateNonnegative(spec?.minReadySeconds, 'spec.minReadySeconds'));
  if (spec?.revisionHistoryLimit !== undefined) errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec?.progressDeadlineSeconds !== undefined) {
    errs.push(...validateNonnegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

/** pkg/registry/apps/deployment/strategy.go. */
export const deploymentStrategy: Strategy<DeploymentObj> = {
  defaults: defaultDeployment,
  prepareForCreate(d) {
    d.status = {};
  },
  prepareForUpdate: keepStatus,
  /** Labels, too, belong to the main resource for Deployments. */
  prepareForStatusUpdate(d, old) {
    keepSpec(d, old);
    keepMetadataField(d, old, 'labels');
  },
  validate(d) {
    return [...validateNamespacedMeta(d), ...validateDeploymentSpec(d)];
  },
  /** apps/v1 made the selector immutable (extensions/v1beta1 allowed changing it). */
  validateUpdate(d, old) {
    return [
      ...validateMetaUpdate(d, old),
      ...validateImmutableField(d.spec?.selector, old.spec?.selector, 'spec.selector'),
      ...validateReplicaStatus(d.status),
      ...validateCollisionCountUpdate(d.status?.collisionCount, old.status?.collisionCount),
    ];
  },
};

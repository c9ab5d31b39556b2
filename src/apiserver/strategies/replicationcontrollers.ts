import type { ReplicationController } from 'kubernetes-types/core/v1';
import type { FieldError } from '../../api/status.js';
import { required, validateNonnegative } from '../../api/validation/errors.js';
import { validateControllerPodTemplate } from '../../api/validation/pod-template.js';
import { validateReplicaStatus } from '../../api/validation/replica-status.js';
import type { Strategy } from '../strategy.js';
import { keepSpec, keepStatus, str, validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';
import { defaultPodTemplate } from './pod-defaults.js';

type RCObj = Obj<ReplicationController>;

/**
 * SetDefaults_ReplicationController: with a labelled template, an empty
 * selector and empty object labels both default to the template's labels.
 */
function defaultRC(rc: RCObj): void {
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    const meta = (rc.metadata ??= {});
    if (!meta.labels || Object.keys(meta.labels).length === 0) meta.labels = { ...labels };
  }
  spec.replicas ??= 1;
  defaultPodTemplate(spec.template);
}

/** ValidateReplicationControllerSpec. */
function validateRCSpec(rc: RCObj): FieldError[] {
  const spec = rc.spec ?? {};
  const errs = validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds');
  if (Object.keys(spec.selector ?? {}).length === 0) errs.push(required('spec.selector'));
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateControllerPodTemplate(spec.template, spec.selector ?? {}, 'spec.template', 'ReplicationController'));
  return errs;
}

/** pkg/registry/core/replicationcontroller/strategy.go. */
export const replicationControllerStrategy: Strategy<RCObj> = {
  defaults: defaultRC,
  prepareForCreate(rc) {
    rc.status = { replicas: 0 };
  },
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepSpec,
  validate(rc) {
    return [...validateNamespacedMeta(rc), ...validateRCSpec(rc)];
  },
  validateUpdate(rc, old) {
    return [...validateMetaUpdate(rc, old), ...validateReplicaStatus(rc.status)];
  },
  selectableFields(rc) {
    return { 'status.replicas': str(rc.status?.replicas ?? 0) };
  },
};

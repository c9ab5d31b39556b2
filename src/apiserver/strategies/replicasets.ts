import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import { validateNonnegative } from '../../api/validation/errors.js';
import { validateImmutableField } from '../../api/validation/metadata.js';
import { validateReplicaStatus } from '../../api/validation/replica-status.js';
import { validateSelectedTemplate } from '../../api/validation/workload.js';
import type { Strategy } from '../strategy.js';
import { keepSpec, keepStatus, str, validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';
import { defaultPodTemplate } from './pod-defaults.js';

type ReplicaSetObj = Obj<ReplicaSet>;

/** pkg/registry/apps/replicaset/strategy.go. */
export const replicaSetStrategy: Strategy<ReplicaSetObj> = {
  defaults(rs) {
    const spec = (rs.spec ??= { selector: {} });
    spec.replicas ??= 1;
    defaultPodTemplate(spec.template);
  },
  prepareForCreate(rs) {
    rs.status = { replicas: 0 };
  },
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepSpec,
  validate(rs) {
    // "for deployment" is upstream's own wording for ReplicaSets too.
    return [
      ...validateNamespacedMeta(rs),
      ...validateSelectedTemplate(rs.spec ?? {}, 'spec', 'deployment'),
      ...validateNonnegative(rs.spec?.minReadySeconds, 'spec.minReadySeconds'),
    ];
  },
  validateUpdate(rs, old) {
    return [
      ...validateMetaUpdate(rs, old),
      ...validateImmutableField(rs.spec?.selector, old.spec?.selector, 'spec.selector'),
      ...validateReplicaStatus(rs.status),
    ];
  },
  selectableFields(rs) {
    return { 'status.replicas': str(rs.status?.replicas ?? 0) };
  },
};

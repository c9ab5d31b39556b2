import type { ServiceAccount } from 'kubernetes-types/core/v1';
import type { Strategy } from '../strategy.js';
import { validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';

/** pkg/registry/core/serviceaccount/strategy.go: metadata is all there is to check. */
export const serviceAccountStrategy: Strategy<Obj<ServiceAccount>> = {
  validate: (sa) => validateNamespacedMeta(sa),
  validateUpdate: validateMetaUpdate,
};

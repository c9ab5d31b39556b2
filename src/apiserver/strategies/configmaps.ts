import type { ConfigMap } from 'kubernetes-types/core/v1';
import type { FieldError } from '../../api/status.js';
import { decodeStrictBase64 } from '../../api/validation/base64.js';
import { forbidden, invalid, invalidEach, tooLong } from '../../api/validation/errors.js';
import { semanticEqual } from '../../api/validation/equality.js';
import { isConfigMapKey } from '../../api/validation/names.js';
import { key } from '../../api/validation/path.js';
import type { Strategy } from '../strategy.js';
import { validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';

type ConfigMapObj = Obj<ConfigMap>;

/** core.MaxSecretSize: ConfigMaps and Secrets must fit in one etcd value comfortably. */
export const MAX_DATA_SIZE = 1024 * 1024;

/** ValidateConfigMap. */
function validateConfigMap(cm: ConfigMapObj): FieldError[] {
  const errs = validateNamespacedMeta(cm);
  let total = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    errs.push(...invalidEach(key('data', k), k, isConfigMapKey(k)));
    if (cm.binaryData && k in cm.binaryData) errs.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
    errs.push(...invalidEach(key('binaryData', k), k, isConfigMapKey(k)));
    const decoded = decodeStrictBase64(v);
    if (!decoded.ok) errs.push(invalid(key('binaryData', k), '<binary data>', decoded.error));
    else total += decoded.bytes.length;
  }
  // upstream reports the size against the whole object (an empty path)
  if (total > MAX_DATA_SIZE) errs.push(tooLong('', MAX_DATA_SIZE));
  return errs;
}

/** Once `immutable: true`, neither the flag nor the data may change. */
export function validateImmutableData(
  now: { immutable?: boolean; data?: unknown; binaryData?: unknown },
  was: { immutable?: boolean; data?: unknown; binaryData?: unknown },
): FieldError[] {
  if (!was.immutable) return [];
  const errs: FieldError[] = [];
  if (!now.immutable) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  if (!semanticEqual(now.data, was.data)) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
  if ('binaryData' in now || 'binaryData' in was) {
    if (!semanticEqual(now.binaryData, was.binaryData)) errs.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
  }
  return errs;
}

/** pkg/registry/core/configmap/strategy.go. */
export const configMapStrategy: Strategy<ConfigMapObj> = {
  validate: validateConfigMap,
  validateUpdate(cm, old) {
    return [...validateMetaUpdate(cm, old), ...validateImmutableData(cm, old)];
  },
};

import type { Secret } from 'kubernetes-types/core/v1';
import type { FieldError } from '../../api/status.js';
import { decodeStrictBase64 } from '../../api/validation/base64.js';
import { invalid, invalidEach, required, tooLong } from '../../api/validation/errors.js';
import { validateImmutableField } from '../../api/validation/metadata.js';
import { isConfigMapKey } from '../../api/validation/names.js';
import { key } from '../../api/validation/path.js';
import type { Strategy } from '../strategy.js';
import { validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';
import { MAX_DATA_SIZE, validateImmutableData } from './configmaps.js';

type SecretObj = Obj<Secret>;
const REDACTED = '<secret contents redacted>';

/**
 * SetDefaults_Secret (type Opaque) and the v1 conversion of `stringData`:
 * a write-only convenience merged into `data` (winning over it) and never
 * stored.
 */
function defaultSecret(secret: SecretObj): void {
  secret.type ||= 'Opaque';
  if (secret.stringData) {
    const data = (secret.data ??= {});
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    delete secret.stringData;
  }
}

/** Required keys per well-known secret type (ValidateSecret's switch). */
function validateType(secret: SecretObj, decoded: Map<string, Buffer>): FieldError[] {
  const errs: FieldError[] = [];
  const has = (k: string) => decoded.has(k) || (secret.data !== undefined && k in secret.data);
  const jsonKey = (k: string) => {
    if (!has(k)) { errs.push(required(key('data', k))); return; }
    const bytes = decoded.get(k);
    if (!bytes) return;
    try { JSON.parse(bytes.toString('utf8')); } catch (e) { errs.push(invalid(key('data', k), REDACTED, (e as Error).message)); }
  };
  switch (secret.type) {
    case 'kubernetes.io/service-account-token':
      if (!secret.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(required(key('metadata.annotations', 'kubernetes.io/service-account.name')));
      }
      break;
    case 'kubernetes.io/dockercfg': jsonKey('.dockercfg'); break;
    case 'kubernetes.io/dockerconfigjson': jsonKey('.dockerconfigjson'); break;
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) errs.push(required(key('data', 'username')), required(key('data', 'password')));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!(decoded.get('ssh-privatekey')?.length)) errs.push(required(key('data', 'ssh-privatekey')));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required(key('data', 'tls.crt')));
      if (!has('tls.key')) errs.push(required(key('data', 'tls.key')));
      break;
    default:
      break;
  }
  return errs;
}

/** ValidateSecret; `data` values arrive base64-encoded and must decode. */
function validateSecret(secret: SecretObj): FieldError[] {
  const errs = validateNamespacedMeta(secret);
  const decoded = new Map<string, Buffer>();
  let total = 0;
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    errs.push(...invalidEach(key('data', k), k, isConfigMapKey(k)));
    const d = decodeStrictBase64(v);
    if (!d.ok) { errs.push(invalid(key('data', k), REDACTED, d.error)); continue; }
    decoded.set(k, d.bytes);
    total += d.bytes.length;
  }
  if (total > MAX_DATA_SIZE) errs.push(tooLong('data', MAX_DATA_SIZE));
  errs.push(...validateType(secret, decoded));
  return errs;
}

/** pkg/registry/core/secret/strategy.go. */
export const secretStrategy: Strategy<SecretObj> = {
  defaults: defaultSecret,
  validate: validateSecret,
  validateUpdate(secret, old) {
    return [
      ...validateMetaUpdate(secret, old),
      ...validateImmutableField(secret.type, old.type, 'type'),
      ...validateImmutableData(secret, old),
    ];
  },
  selectableFields(secret) {
    return { type: secret.type ?? '' };
  },
};

import type { DownwardAPIVolumeFile, KeyToPath, ProjectedVolumeSource, Volume } from 'kubernetes-types/core/v1';
import type { FieldError } from '../status.js';
import { duplicate, forbidden, invalid, invalidEach, notSupported, required } from './errors.js';
import { validateObjectFieldSelector, validateResourceFieldSelector, VOLUME_DOWNWARD_API_FIELDS } from './downward-api.js';
import { isDNS1123Label } from './names.js';
import { child, index } from './path.js';
import { validateLocalNonReservedPath, validatePathNoBacksteps } from './paths.js';
import { compareQuantities, tryParseQuantity } from './quantity.js';

const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

/**
 * Every volume source, in the order upstream checks them: the first one set
 * counts, each further one is "more than 1 volume type".
 */
const VOLUME_SOURCES = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc',
  'flexVolume', 'configMap', 'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk',
  'storageos', 'projected', 'scaleIO', 'csi', 'ephemeral', 'image',
] as const;
type VolumeSourceName = (typeof VOLUME_SOURCES)[number];

/** ValidateVolumes: unique DNS-label names, exactly one source each. Returns the valid volumes by name. */
export function validateVolumes(volumes: Volume[] | undefined, field: string): { volumes: Map<string, Volume>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const valid = new Map<string, Volume>();
  (volumes ?? []).forEach((vol, i) => {
    const idxPath = index(field, i);
    const namePath = child(idxPath, 'name');
    const el = validateVolumeSource(vol, idxPath);
    if (!vol.name) el.push(required(namePath));
    else el.push(...invalidEach(namePath, vol.name, isDNS1123Label(vol.name)));
    if (valid.has(vol.name)) el.push(duplicate(namePath, vol.name));
    if (el.length === 0) valid.set(vol.name, vol);
    else errors.push(...el);
  });
  return { volumes: valid, errors };
}

function validateVolumeSource(vol: Volume, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  // Some sources (image) are newer than the typed package; look them up by name.
  const fields = vol as unknown as Record<string, unknown>;
  for (const source of VOLUME_SOURCES) {
    if (fields[source] === undefined || fields[source] === null) continue;
    // upstream's own misspelling for this one path
    const path = child(field, source === 'downwardAPI' && count > 0 ? 'downwarAPI' : source);
    if (count > 0) { errs.push(forbidden(path, 'may not specify more than 1 volume type')); continue; }
    count++;
    errs.push(...validateSource(source, vol, path));
  }
  if (count === 0) errs.push(required(field, 'must specify a volume type'));
  return errs;
}

function validateSource(source: VolumeSourceName, vol: Volume, path: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (source) {
    case 'emptyDir': {
      const limit = vol.emptyDir?.sizeLimit;
      const q = limit === undefined ? undefined : tryParseQuantity(String(limit));
      if (q && compareQuantities(q, '0') < 0) errs.push(forbidden(child(path, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      break;
    }
    case 'hostPath': {
      const hp = vol.hostPath!;
      if (!hp.path) return [required(child(path, 'path'))];
      errs.push(...validatePathNoBacksteps(hp.path, child(path, 'path')));
      if (hp.type !== undefined && !HOST_PATH_TYPES.includes(hp.type)) errs.push(notSupported(child(path, 'type'), hp.type, HOST_PATH_TYPES));
      break;
    }
    case 'secret': {
      const s = vol.secret!;
      if (!s.secretName) errs.push(required(child(path, 'secretName')));
      errs.push(...validateFileMode(s.defaultMode, child(path, 'defaultMode')));
      (s.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, index(child(path, 'items'), i))));
      break;
    }
    case 'configMap': {
      const c = vol.configMap!;
      if (!c.name) errs.push(required(child(path, 'name')));
      errs.push(...validateFileMode(c.defaultMode, child(path, 'defaultMode')));
      (c.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, index(child(path, 'items'), i))));
      break;
    }
    case 'persistentVolumeClaim':
      if (!vol.persistentVolumeClaim!.claimName) errs.push(required(child(path, 'claimName')));
      break;
    case 'downwardAPI':
      errs.push(...validateFileMode(vol.downwardAPI!.defaultMode, child(path, 'defaultMode')));
      // upstream validates downwardAPI items at the source's path, unindexed
      for (const file of vol.downwardAPI!.items ?? []) errs.push(...validateDownwardAPIVolumeFile(file, path));
      break;
    case 'projected':
      errs.push(...validateProjected(vol.projected!, path));
      break;
    case 'nfs': {
      const nfs = vol.nfs!;
      if (!nfs.server) errs.push(required(child(path, 'server')));
      if (!nfs.path) errs.push(required(child(path, 'path')));
      if (!nfs.path?.startsWith('/')) errs.push(invalid(child(path, 'path'), nfs.path ?? '', 'must be an absolute path'));
      break;
    }
    case 'csi':
      if (!vol.csi!.driver) errs.push(required(child(path, 'driver')));
      break;
    case 'gitRepo':
      if (!vol.gitRepo!.repository) errs.push(required(child(path, 'repository')));
      break;
    default:
      // Cloud and network volume plugins: bosun has none of them, so beyond
      // "one source per volume" there is nothing useful to check.
      break;
  }
  return errs;
}

function validateFileMode(mode: number | undefined, field: string): FieldError[] {
  return mode !== undefined && (mode > 0o777 || mode < 0) ? [invalid(field, mode, FILE_MODE_ERROR)] : [];
}

function validateKeyToPath(kp: KeyToPath, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!kp.key) errs.push(required(child(field, 'key')));
  if (!kp.path) errs.push(required(child(field, 'path')));
  errs.push(...validateLocalNonReservedPath(kp.path ?? '', child(field, 'path')));
  errs.push(...validateFileMode(kp.mode, child(field, 'mode')));
  return errs;
}

function validateDownwardAPIVolumeFile(file: DownwardAPIVolumeFile, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!file.path) errs.push(required(child(field, 'path')));
  errs.push(...validateLocalNonReservedPath(file.path ?? '', child(field, 'path')));
  if (file.fieldRef) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_DOWNWARD_API_FIELDS, child(field, 'fieldRef')));
    if (file.resourceFieldRef) errs.push(invalid(field, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (file.resourceFieldRef) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, child(field, 'resourceFieldRef'), true));
  } else {
    errs.push(required(field, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateFileMode(file.mode, child(field, 'mode')));
  return errs;
}

function validateProjected(projected: ProjectedVolumeSource, field: string): FieldError[] {
  const errs = validateFileMode(projected.defaultMode, child(field, 'defaultMode'));
  const paths = new Set<string>();
  const claim = (p: string | undefined, owner: string) => {
    if (!p) return;
    if (paths.has(p)) errs.push(invalid(field, owner, 'conflicting duplicate paths'));
    paths.add(p);
  };
  (projected.sources ?? []).forEach((source, i) => {
    const srcPath = index(child(field, 'sources'), i);
    let count = 0;
    if (source.secret) {
      count++;
      const p = child(srcPath, 'secret');
      if (!source.secret.name) errs.push(required(child(p, 'name')));
      (source.secret.items ?? []).forEach((kp, j) => { errs.push(...validateKeyToPath(kp, index(child(p, 'items'), j))); claim(kp.path, source.secret!.name ?? ''); });
    }
    if (source.configMap) {
      count++;
      const p = child(srcPath, 'configMap');
      if (!source.configMap.name) errs.push(required(child(p, 'name')));
      (source.configMap.items ?? []).forEach((kp, j) => { errs.push(...validateKeyToPath(kp, index(child(p, 'items'), j))); claim(kp.path, source.configMap!.name ?? ''); });
    }
    if (source.downwardAPI) {
      count++;
      const p = child(srcPath, 'downwardAPI');
      for (const file of source.downwardAPI.items ?? []) { errs.push(...validateDownwardAPIVolumeFile(file, p)); claim(file.path, ''); }
    }
    if (source.serviceAccountToken) {
      count++;
      const p = child(srcPath, 'serviceAccountToken');
      const sat = source.serviceAccountToken;
      const seconds = sat.expirationSeconds ?? 3600;
      if (seconds < 600) errs.push(invalid(child(p, 'expirationSeconds'), seconds, 'may not specify a duration less than 10 minutes'));
      if (seconds > 2 ** 32) errs.push(invalid(child(p, 'expirationSeconds'), seconds, 'may not specify a duration larger than 2^32 seconds'));
      if (!sat.path) errs.push(required(child(p, 'path')));
      else errs.push(...validateLocalNonReservedPath(sat.path, child(p, 'path')));
      claim(sat.path, '');
    }
    if (source.clusterTrustBundle) count++;
    if (count > 1) errs.push(forbidden(srcPath, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

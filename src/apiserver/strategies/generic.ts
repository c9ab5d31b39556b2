import { nameIsDNSSubdomain } from '../../api/validation/names.js';
import { validateObjectMeta } from '../../api/validation/metadata.js';
import { RESOURCES } from '../resources.js';
import type { Strategy } from '../strategy.js';
import { keepSpec, keepStatus, validateMetaUpdate } from './common.js';

/**
 * The strategy of a kind with no rules of its own: metadata validation
 * (names are DNS subdomains, as for custom resources) and, when the kind
 * has a /status subresource, the usual spec/status split.
 */
export function genericStrategy(group: string, resource: string): Strategy {
  const defs = RESOURCES.filter((r) => r.group === group && r.resource === resource);
  // unknown resources are namespaced, as most are; the registry decides the URL anyway
  const namespaced = defs.length === 0 || defs.some((d) => d.namespaced);
  const hasStatus = defs.some((d) => d.subresources?.includes('status'));
  return {
    ...(hasStatus ? { prepareForUpdate: keepStatus, prepareForStatusUpdate: keepSpec } : {}),
    validate: (obj) => validateObjectMeta(obj.metadata, { namespaced, nameFn: nameIsDNSSubdomain }),
    validateUpdate: validateMetaUpdate,
  };
}

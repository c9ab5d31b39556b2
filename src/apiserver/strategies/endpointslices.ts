import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { FieldError } from '../../api/status.js';
import { duplicate, invalidEach, notSupported, required, tooMany } from '../../api/validation/errors.js';
import { validateIPv4, validateIPv6, validateNonSpecialIP } from '../../api/validation/ip.js';
import { validateLabels } from '../../api/validation/labels.js';
import { validateImmutableField } from '../../api/validation/metadata.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../../api/validation/names.js';
import { child, index } from '../../api/validation/path.js';
import { SUPPORTED_PROTOCOLS } from '../../api/validation/ports.js';
import type { Strategy } from '../strategy.js';
import { validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';

type SliceObj = Obj<EndpointSlice>;
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 100;
const MAX_TOPOLOGY_LABELS = 16;

function validateFQDN(value: string, field: string): FieldError[] {
  const name = value.replace(/\.$/, '');
  if (!name) return [required(field)];
  const errs = invalidEach(field, name, isDNS1123Subdomain(name));
  if (errs.length) return errs;
  if (name.split('.').length < 2) return invalidEach(field, name, ['should be a domain with at least two segments separated by dots']);
  return [];
}

/** ValidateEndpointSlice. */
function validateSlice(slice: SliceObj): FieldError[] {
  const errs = validateNamespacedMeta(slice);
  const type = slice.addressType;
  if (!type) errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(type)) errs.push(notSupported('addressType', type, ADDRESS_TYPES));

  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) errs.push(tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  else endpoints.forEach((ep, i) => {
    const p = index('endpoints', i);
    const addrPath = child(p, 'addresses');
    if (!ep.addresses?.length) errs.push(required(addrPath, 'must contain at least 1 address'));
    else if (ep.addresses.length > MAX_ADDRESSES) errs.push(tooMany(addrPath, ep.addresses.length, MAX_ADDRESSES));
    (ep.addresses ?? []).forEach((a, j) => {
      const ap = index(addrPath, j);
      if (type === 'IPv4') errs.push(...validateIPv4(a, ap), ...validateNonSpecialIP(a, ap));
      else if (type === 'IPv6') errs.push(...validateIPv6(a, ap), ...validateNonSpecialIP(a, ap));
      else if (type === 'FQDN') errs.push(...validateFQDN(a, ap));
    });
    if (ep.nodeName !== undefined) errs.push(...invalidEach(child(p, 'nodeName'), ep.nodeName, isDNS1123Subdomain(ep.nodeName)));
    const topology = ep.deprecatedTopology ?? {};
    if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) errs.push(tooMany(child(p, 'deprecatedTopology'), Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
    errs.push(...validateLabels(topology, child(p, 'deprecatedTopology')));
    if (ep.hostname !== undefined) errs.push(...invalidEach(child(p, 'hostname'), ep.hostname, isDNS1123Label(ep.hostname)));
  });

  const ports = slice.ports ?? [];
  if (ports.length > MAX_PORTS) return [...errs, tooMany('ports', ports.length, MAX_PORTS)];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = index('ports', i);
    const name = port.name ?? '';
    if (name) errs.push(...invalidEach(child(p, 'name'), name, isDNS1123Label(name)));
    if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
    names.add(name);
    if (port.protocol === undefined) errs.push(required(child(p, 'protocol')));
    else if (!SUPPORTED_PROTOCOLS.includes(port.protocol)) errs.push(notSupported(child(p, 'protocol'), port.protocol, SUPPORTED_PROTOCOLS));
    if (port.appProtocol !== undefined) errs.push(...invalidEach(child(p, 'appProtocol'), port.appProtocol, isQualifiedName(port.appProtocol)));
  });
  return errs;
}

/** pkg/registry/discovery/endpointslice/strategy.go. */
export const endpointSliceStrategy: Strategy<SliceObj> = {
  /** SetDefaults_EndpointPort: an unnamed port is named "", protocol TCP. */
  defaults(slice) {
    for (const p of slice.ports ?? []) {
      p.name ??= '';
      p.protocol ??= 'TCP';
    }
  },
  validate: validateSlice,
  validateUpdate(slice, old) {
    return [...validateMetaUpdate(slice, old), ...validateImmutableField(slice.addressType, old.addressType, 'addressType')];
  },
};

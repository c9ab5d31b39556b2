import type { EndpointAddress, Endpoints } from 'kubernetes-types/core/v1';
import type { FieldError } from '../../api/status.js';
import { invalidEach, required } from '../../api/validation/errors.js';
import { validateIP, validateNonSpecialIP } from '../../api/validation/ip.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../../api/validation/names.js';
import { child, index } from '../../api/validation/path.js';
import { isValidPortNum, validateProtocol } from '../../api/validation/ports.js';
import type { Strategy } from '../strategy.js';
import { validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';

type EndpointsObj = Obj<Endpoints>;

function validateAddress(a: EndpointAddress, field: string): FieldError[] {
  const errs = validateIP(a.ip ?? '', child(field, 'ip'));
  if (a.hostname) errs.push(...invalidEach(child(field, 'hostname'), a.hostname, isDNS1123Label(a.hostname)));
  if (a.nodeName !== undefined) errs.push(...invalidEach(child(field, 'nodeName'), a.nodeName, isDNS1123Subdomain(a.nodeName)));
  errs.push(...validateNonSpecialIP(a.ip ?? '', child(field, 'ip')));
  return errs;
}

/** validateEndpointSubsets: every subset has an address; ports named when several. */
function validateSubsets(ep: EndpointsObj): FieldError[] {
  const errs: FieldError[] = [];
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = index('subsets', i);
    if (!ss.addresses?.length && !ss.notReadyAddresses?.length) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    (ss.addresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, index(child(p, 'addresses'), j))));
    (ss.notReadyAddresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, index(child(p, 'notReadyAddresses'), j))));
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      const pp = index(child(p, 'ports'), j);
      if (ports.length > 1 && !port.name) errs.push(required(child(pp, 'name')));
      else if (port.name) errs.push(...invalidEach(child(pp, 'name'), port.name, isDNS1123Label(port.name)));
      errs.push(...invalidEach(child(pp, 'port'), port.port, isValidPortNum(port.port)));
      errs.push(...validateProtocol(port.protocol, child(pp, 'protocol')));
      if (port.appProtocol !== undefined) errs.push(...invalidEach(child(pp, 'appProtocol'), port.appProtocol, isQualifiedName(port.appProtocol)));
    });
  });
  return errs;
}

/** pkg/registry/core/endpoint/strategy.go. */
export const endpointsStrategy: Strategy<EndpointsObj> = {
  defaults(ep) {
    for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) p.protocol ||= 'TCP';
  },
  validate: (ep) => [...validateNamespacedMeta(ep), ...validateSubsets(ep)],
  validateUpdate: validateMetaUpdate,
};

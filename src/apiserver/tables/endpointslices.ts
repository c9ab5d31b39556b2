/** `kubectl get endpointslices`, as upstream's printEndpointSlice. */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { age, ageColumn, column, definePrinter, listWithMore, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [
  nameColumn,
  column('AddressType', 'string', fieldDoc['EndpointSlice.addressType']),
  column('Ports', 'string', fieldDoc['EndpointSlice.ports']),
  column('Endpoints', 'string', fieldDoc['EndpointSlice.endpoints']),
  ageColumn,
];

export const endpointSlicesTable = definePrinter<EndpointSlice>(columns, (slice, now) => [
  nameOf(slice),
  slice.addressType,
  // A port with neither number nor name matches all ports: `*`.
  listWithMore((slice.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : p.name ?? '*'))),
  listWithMore((slice.endpoints ?? []).flatMap((e) => e.addresses)),
  age(slice, now),
]);

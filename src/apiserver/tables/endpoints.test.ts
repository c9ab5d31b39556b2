import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { endpointsTable } from './endpoints.js';
import { endpointSlicesTable } from './endpointslices.js';
import { ago, rowOf, SECOND } from './test-helpers.js';

const metadata = { name: 'web', namespace: 'default', creationTimestamp: ago(200 * SECOND) };

test('endpoints: the first three ip:port pairs, then how many more', () => {
  assert.deepEqual(endpointsTable.columns.map((c) => c.name), ['Name', 'Endpoints', 'Age']);
  const ep: Endpoints = {
    metadata,
    subsets: [{ addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }], ports: [{ port: 80 }, { port: 443 }] }],
  };
  assert.deepEqual(rowOf(endpointsTable, ep), ['web', '10.42.0.5:80,10.42.0.6:80,10.42.0.5:443 + 1 more...', '3m20s']);
  assert.equal(rowOf(endpointsTable, { metadata })[1], '<none>');
  const headless: Endpoints = { metadata, subsets: [{ addresses: [{ ip: '10.42.0.5' }] }, { addresses: [{ ip: 'fd00::5' }], ports: [{ port: 53 }] }] };
  assert.equal(rowOf(endpointsTable, headless)[1], '10.42.0.5,[fd00::5]:53');
  // Only not-ready addresses: a subset, but nothing to show.
  assert.equal(rowOf(endpointsTable, { metadata, subsets: [{ notReadyAddresses: [{ ip: '10.42.0.9' }], ports: [{ port: 80 }] }] })[1], '');
});

test('endpoint slices', () => {
  assert.deepEqual(endpointSlicesTable.columns.map((c) => c.name), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  const slice: EndpointSlice = {
    metadata: { ...metadata, name: 'web-abc12' }, addressType: 'IPv4',
    ports: [{ port: 80, name: 'http' }, { name: 'metrics' }, {}, { port: 9000 }],
    endpoints: [{ addresses: ['10.42.0.5'] }, { addresses: ['10.42.0.6', '10.42.0.7'] }],
  };
  assert.deepEqual(rowOf(endpointSlicesTable, slice), ['web-abc12', 'IPv4', '80,metrics,* + 1 more...', '10.42.0.5,10.42.0.6,10.42.0.7', '3m20s']);
  assert.deepEqual(rowOf(endpointSlicesTable, { metadata, addressType: 'IPv6', endpoints: [] }).slice(2, 4), ['<unset>', '<unset>']);
});

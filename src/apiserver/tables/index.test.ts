import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES } from '../resources.js';
import type { KubeObject } from '../strategy.js';
import { StatusError } from '../../api/status.js';
import { defaultTable, parseIncludeObject, tableFor, toTable } from './index.js';
import { podsTable } from './pods.js';
import { ago, NOW, rowOf, SECOND } from './test-helpers.js';

const metadata = { name: 'x', namespace: 'default', uid: 'u1', resourceVersion: '42', creationTimestamp: ago(200 * SECOND), labels: { app: 'x' } };

test('every served resource has upstream\'s printer; anything else the default', () => {
  const expected: Record<string, string[]> = {
    pods: ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
    services: ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector'],
    endpoints: ['Name', 'Endpoints', 'Age'],
    configmaps: ['Name', 'Data', 'Age'],
    secrets: ['Name', 'Type', 'Data', 'Age'],
    nodes: ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime'],
    namespaces: ['Name', 'Status', 'Age'],
    events: ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name'],
    replicationcontrollers: ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector'],
    serviceaccounts: ['Name', 'Secrets', 'Age'],
    deployments: ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector'],
    replicasets: ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector'],
    horizontalpodautoscalers: ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age'],
    endpointslices: ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'],
    leases: ['Name', 'Holder', 'Age'],
    priorityclasses: ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy'],
    poddisruptionbudgets: ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age'],
  };
  const seen = new Set<string>();
  for (const def of RESOURCES) {
    // Kinds added later may have no upstream printer; these are the ones bosun started with.
    if (!(def.resource in expected)) continue;
    seen.add(def.resource);
    const printer = tableFor(def.group, def.resource);
    assert.notEqual(printer, defaultTable, def.resource);
    assert.deepEqual(printer.columns.map((c) => c.name), expected[def.resource], def.resource);
    const names = printer.columns.filter((c) => c.format === 'name');
    assert.equal(names.length, 1, def.resource);
    for (const c of printer.columns) assert.ok(c.description.length > 10, `${def.resource} ${c.name}`);
  }
  assert.deepEqual([...seen].sort(), Object.keys(expected).sort());
  assert.equal(tableFor('', 'limitranges'), defaultTable);
  assert.equal(tableFor('apps', 'pods'), defaultTable);
});

test('the default table: NAME and CREATED AT as an RFC 3339 date', () => {
  assert.deepEqual(defaultTable.columns.map((c) => [c.name, c.type, c.format]), [['Name', 'string', 'name'], ['Created At', 'date', undefined]]);
  assert.deepEqual(rowOf(defaultTable, { metadata: { name: 'a', creationTimestamp: '2024-05-01T11:56:40Z' } }), ['a', '2024-05-01T11:56:40Z']);
  assert.deepEqual(rowOf(defaultTable, { metadata: { name: 'b' } }), ['b', '0001-01-01T00:00:00Z']);
});

test('the simple kinds', () => {
  const row = (resource: string, group: string, obj: object): unknown[] => rowOf(tableFor(group, resource), obj);
  assert.deepEqual(row('namespaces', '', { metadata, status: { phase: 'Terminating' } }), ['x', 'Terminating', '3m20s']);
  assert.deepEqual(row('configmaps', '', { metadata, data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), ['x', 3, '3m20s']);
  assert.deepEqual(row('configmaps', '', { metadata }), ['x', 0, '3m20s']);
  assert.deepEqual(row('secrets', '', { metadata, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }), ['x', 'kubernetes.io/tls', 2, '3m20s']);
  assert.deepEqual(row('secrets', '', { metadata }), ['x', 'Opaque', 0, '3m20s']);
  assert.deepEqual(row('serviceaccounts', '', { metadata, secrets: [{ name: 'x-token' }] }), ['x', 1, '3m20s']);
  assert.deepEqual(row('serviceaccounts', '', { metadata }), ['x', 0, '3m20s']);
  assert.deepEqual(row('leases', 'coordination.k8s.io', { metadata, spec: { holderIdentity: 'node-1' } }), ['x', 'node-1', '3m20s']);
  assert.deepEqual(row('leases', 'coordination.k8s.io', { metadata, spec: {} }), ['x', '', '3m20s']);
  assert.deepEqual(row('priorityclasses', 'scheduling.k8s.io', { metadata, value: 1000, globalDefault: true, preemptionPolicy: 'Never' }),
    ['x', 1000, true, '3m20s', 'Never']);
  assert.deepEqual(row('priorityclasses', 'scheduling.k8s.io', { metadata, value: -5 }), ['x', -5, false, '3m20s', '']);
});

test('toTable builds a meta.k8s.io/v1 Table with PartialObjectMetadata rows', () => {
  const pods = [
    { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [{ name: 'a' }] }, status: { phase: 'Succeeded' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, name: 'y' }, spec: { containers: [{ name: 'a' }] }, status: { phase: 'Running' } },
  ] as KubeObject[];
  const table = toTable(podsTable, pods, NOW, 'Metadata', { resourceVersion: '99', continue: 'tok', remainingItemCount: 3 });
  assert.equal(table.kind, 'Table');
  assert.equal(table.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(table.metadata, { resourceVersion: '99', continue: 'tok', remainingItemCount: 3 });
  assert.deepEqual(table.columnDefinitions[0], { ...podsTable.columns[0], format: 'name' });
  assert.equal(table.columnDefinitions[1].format, '');
  assert.equal(table.columnDefinitions.length, 9);
  assert.equal(table.rows.length, 2);
  assert.deepEqual(table.rows[0].cells, ['x', '0/1', 'Succeeded', '0', '3m20s', '<none>', '<none>', '<none>', '<none>']);
  assert.deepEqual(table.rows[0].conditions?.[0].reason, 'Succeeded');
  assert.equal('conditions' in table.rows[1], false);
  assert.deepEqual(table.rows[1].object, { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: pods[1].metadata });
  // A plain JSON round trip is what goes on the wire.
  assert.deepEqual(JSON.parse(JSON.stringify(table)).rows[1].object.kind, 'PartialObjectMetadata');
});

test('includeObject None and Object, no headers, v1beta1, and an empty list', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [] } } as KubeObject;
  assert.equal('object' in toTable(podsTable, [pod], NOW, 'None', { resourceVersion: '1' }).rows[0], false);
  assert.equal(toTable(podsTable, [pod], NOW, 'Object', { resourceVersion: '1' }).rows[0].object, pod);
  const watchEvent = toTable(podsTable, [pod], NOW, 'Metadata', { resourceVersion: '1' }, { noHeaders: true, apiVersion: 'meta.k8s.io/v1beta1' });
  assert.deepEqual(watchEvent.columnDefinitions, []);
  assert.equal(watchEvent.apiVersion, 'meta.k8s.io/v1beta1');
  assert.equal((watchEvent.rows[0].object as { apiVersion: string }).apiVersion, 'meta.k8s.io/v1beta1');
  const empty = toTable(podsTable, [], NOW, 'Metadata', { resourceVersion: '7' });
  assert.deepEqual([empty.rows, empty.metadata], [[], { resourceVersion: '7' }]);
});

test('includeObject parameter', () => {
  assert.equal(parseIncludeObject(null), 'Metadata');
  assert.equal(parseIncludeObject(''), 'Metadata');
  assert.equal(parseIncludeObject('Object'), 'Object');
  assert.equal(parseIncludeObject('None'), 'None');
  assert.throws(() => parseIncludeObject('All'), (e: unknown) =>
    e instanceof StatusError && e.code === 400 && e.message === 'unrecognized includeObject value: "All"');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1';
import { nodesTable } from './nodes.js';
import { ago, cellsOf, rowOf, SECOND } from './test-helpers.js';

const DAY = 24 * 3600 * SECOND;
const nodeInfo = {
  architecture: 'amd64', bootID: '', containerRuntimeVersion: 'containerd://1.6.20', kernelVersion: '6.1.0-18-amd64',
  kubeProxyVersion: '', kubeletVersion: 'v1.30.0-bosun', machineID: '', operatingSystem: 'linux', osImage: 'Debian GNU/Linux 12 (bookworm)', systemUUID: '',
};

test('node columns', () => {
  assert.deepEqual(nodesTable.columns.map((c) => [c.name, c.priority]), [
    ['Name', 0], ['Status', 0], ['Roles', 0], ['Age', 0], ['Version', 0],
    ['Internal-IP', 1], ['External-IP', 1], ['OS-Image', 1], ['Kernel-Version', 1], ['Container-Runtime', 1],
  ]);
});

test('a cordoned control-plane node', () => {
  const node: Node = {
    metadata: {
      name: 'node-1', creationTimestamp: ago(2 * DAY + 3 * 3600 * SECOND),
      labels: { 'node-role.kubernetes.io/master': '', 'node-role.kubernetes.io/control-plane': 'true', 'kubernetes.io/hostname': 'node-1' },
    },
    spec: { unschedulable: true, podCIDR: '10.42.0.0/24' },
    status: {
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
      addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo,
    },
  };
  assert.deepEqual(rowOf(nodesTable, node), [
    'node-1', 'Ready,SchedulingDisabled', 'control-plane,master', '2d3h', 'v1.30.0-bosun',
    '192.168.1.10', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-18-amd64', 'containerd://1.6.20',
  ]);
});

test('not ready, unknown, legacy role label, empty node info', () => {
  const notReady = cellsOf(nodesTable, {
    metadata: { name: 'n2', labels: { 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/': '' } },
    status: { conditions: [{ type: 'Ready', status: 'Unknown' }], addresses: [{ type: 'ExternalIP', address: '203.0.113.5' }] },
  });
  assert.deepEqual([notReady.Status, notReady.Roles, notReady['External-IP'], notReady['Internal-IP']], ['NotReady', 'worker', '203.0.113.5', '<none>']);
  const fresh = cellsOf(nodesTable, { metadata: { name: 'n3' } });
  assert.deepEqual([fresh.Status, fresh.Roles, fresh.Age, fresh.Version, fresh['OS-Image'], fresh['Kernel-Version'], fresh['Container-Runtime']],
    ['Unknown', '<none>', '<unknown>', '', '<unknown>', '<unknown>', '<unknown>']);
});

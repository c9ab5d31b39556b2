import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { ReplicationController } from 'kubernetes-types/core/v1';
import { deploymentsTable } from './deployments.js';
import { replicaSetsTable } from './replicasets.js';
import { replicationControllersTable } from './replicationcontrollers.js';
import { ago, rowOf, SECOND } from './test-helpers.js';

const metadata = { name: 'web', namespace: 'default', creationTimestamp: ago(200 * SECOND) };
const template = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] },
};

test('deployment columns', () => {
  assert.deepEqual(deploymentsTable.columns.map((c) => [c.name, c.type, c.priority]), [
    ['Name', 'string', 0], ['Ready', 'string', 0], ['Up-to-date', 'string', 0], ['Available', 'string', 0], ['Age', 'string', 0],
    ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1],
  ]);
});

test('a ready deployment', () => {
  const d: Deployment = {
    metadata, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
    status: { replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3 },
  };
  assert.deepEqual(rowOf(deploymentsTable, d), ['web', '3/3', 3, 3, '3m20s', 'nginx,log', 'nginx:1.25,busybox', 'app=web']);
});

test('a deployment rolling out, and one just created', () => {
  const rolling: Deployment = {
    metadata, spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, template },
    status: { replicas: 4, readyReplicas: 2, updatedReplicas: 1, availableReplicas: 2 },
  };
  assert.deepEqual(rowOf(deploymentsTable, rolling).slice(1, 4), ['2/3', 1, 2]);
  assert.equal(rowOf(deploymentsTable, rolling)[7], 'app=web,tier in (a,b)');
  const fresh: Deployment = { metadata, spec: { selector: { matchLabels: { app: 'web' } }, template } };
  assert.deepEqual(rowOf(deploymentsTable, fresh).slice(1, 4), ['0/1', 0, 0]);
  const bad: Deployment = { metadata, spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] }, template } };
  assert.equal(rowOf(deploymentsTable, bad)[7], '<invalid>');
});

test('replica sets and replication controllers', () => {
  assert.deepEqual(replicaSetsTable.columns.map((c) => c.name), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(replicaSetsTable.columns.slice(1, 4).map((c) => c.type), ['integer', 'integer', 'integer']);
  const rs: ReplicaSet = {
    metadata: { ...metadata, name: 'web-5d4f' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f' } }, template },
    status: { replicas: 3, readyReplicas: 2 },
  };
  assert.deepEqual(rowOf(replicaSetsTable, rs), ['web-5d4f', 3, 3, 2, '3m20s', 'nginx,log', 'nginx:1.25,busybox', 'app=web,pod-template-hash=5d4f']);
  assert.equal(rowOf(replicaSetsTable, { ...rs, spec: { ...rs.spec, selector: {} } })[7], '<none>');

  assert.deepEqual(replicationControllersTable.columns.map((c) => c.name), replicaSetsTable.columns.map((c) => c.name));
  const rc: ReplicationController = { metadata, spec: { replicas: 2, selector: { app: 'web' }, template }, status: { replicas: 2 } };
  assert.deepEqual(rowOf(replicationControllersTable, rc), ['web', 2, 2, 0, '3m20s', 'nginx,log', 'nginx:1.25,busybox', 'app=web']);
  assert.deepEqual(rowOf(replicationControllersTable, { metadata, spec: {}, status: { replicas: 0 } }).slice(5), ['', '', '<none>']);
});

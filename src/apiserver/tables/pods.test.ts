import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1';
import { podsTable } from './pods.js';
import { ago, cellsOf, MINUTE, rowOf, SECOND } from './test-helpers.js';
import type { KubeObject } from '../strategy.js';

const status = (name: string, state: ContainerStatus['state'], extra: Partial<ContainerStatus> = {}): ContainerStatus =>
  ({ name, image: 'busybox', imageID: '', ready: false, restartCount: 0, state, ...extra });

const pod = (spec: Partial<Pod['spec']>, podStatus: Pod['status'], meta: Pod['metadata'] = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(200 * SECOND), ...meta },
  spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec },
  status: podStatus,
});

const running = { running: { startedAt: ago(MINUTE) } };

test('columns are upstream\'s, wide ones at priority 1', () => {
  assert.deepEqual(podsTable.columns.map((c) => [c.name, c.type, c.priority]), [
    ['Name', 'string', 0], ['Ready', 'string', 0], ['Status', 'string', 0], ['Restarts', 'string', 0], ['Age', 'string', 0],
    ['IP', 'string', 1], ['Node', 'string', 1], ['Nominated Node', 'string', 1], ['Readiness Gates', 'string', 1],
  ]);
  assert.equal(podsTable.columns[0].format, 'name');
  assert.match(podsTable.columns[4].description, /^CreationTimestamp is a timestamp/);
});

test('a pod whose container is still being created', () => {
  const p = pod({ nodeName: 'node-1' }, { phase: 'Pending', containerStatuses: [status('app', { waiting: { reason: 'ContainerCreating' } })] });
  assert.deepEqual(rowOf(podsTable, p), ['web', '0/1', 'ContainerCreating', '0', '3m20s', '<none>', 'node-1', '<none>', '<none>']);
  assert.equal(podsTable.rowConditions?.(p as unknown as KubeObject), undefined);
});

test('a running pod with restarts shows when it last restarted', () => {
  const p = pod({ nodeName: 'node-1' }, {
    phase: 'Running', podIP: '10.42.0.7', podIPs: [{ ip: '10.42.0.7' }], conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [status('app', running, { ready: true, restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * MINUTE) } } })],
  });
  assert.deepEqual(rowOf(podsTable, p), ['web', '1/1', 'Running', '2 (5m ago)', '3m20s', '10.42.0.7', 'node-1', '<none>', '<none>']);
});

test('a crash-looping container', () => {
  const p = pod({}, {
    phase: 'Running',
    containerStatuses: [status('app', { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
      { restartCount: 5, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(30 * SECOND) } } })],
  });
  const row = cellsOf(podsTable, p);
  assert.equal(row.Status, 'CrashLoopBackOff');
  assert.equal(row.Restarts, '5 (30s ago)');
  assert.equal(row.Ready, '0/1');
});

test('terminated containers without a reason show their exit code or signal', () => {
  assert.equal(cellsOf(podsTable, pod({}, { phase: 'Running', containerStatuses: [status('app', { terminated: { exitCode: 137 } })] })).Status, 'ExitCode:137');
  assert.equal(cellsOf(podsTable, pod({}, { phase: 'Running', containerStatuses: [status('app', { terminated: { exitCode: 0, signal: 9 } })] })).Status, 'Signal:9');
});

test('a pod being deleted is Terminating; on a lost node, Unknown', () => {
  const running1 = { phase: 'Running', containerStatuses: [status('app', running, { ready: true })] };
  assert.equal(cellsOf(podsTable, pod({}, running1, { deletionTimestamp: ago(SECOND) })).Status, 'Terminating');
  assert.equal(cellsOf(podsTable, pod({}, { ...running1, reason: 'NodeLost' }, { deletionTimestamp: ago(SECOND) })).Status, 'Unknown');
  // A finished pod keeps its final status while it is deleted.
  const done = { phase: 'Succeeded', containerStatuses: [status('app', { terminated: { exitCode: 0, reason: 'Completed' } })] };
  assert.equal(cellsOf(podsTable, pod({}, done, { deletionTimestamp: ago(SECOND) })).Status, 'Completed');
});

test('a completed pod, marked Completed in its row conditions', () => {
  const p = pod({}, { phase: 'Succeeded', containerStatuses: [status('app', { terminated: { exitCode: 0, reason: 'Completed' } })] });
  assert.deepEqual(rowOf(podsTable, p).slice(0, 4), ['web', '0/1', 'Completed', '0']);
  assert.deepEqual(podsTable.rowConditions?.(p as unknown as KubeObject),
    [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  const failed = pod({}, { phase: 'Failed', reason: 'Evicted', message: 'low on memory' });
  assert.equal(cellsOf(podsTable, failed).Status, 'Evicted');
  assert.deepEqual(podsTable.rowConditions?.(failed as unknown as KubeObject),
    [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
});

test('one container completed while another runs: Running if ready, else NotReady', () => {
  const statuses = [status('a', running, { ready: true }), status('b', { terminated: { exitCode: 0, reason: 'Completed' } })];
  const spec = { containers: [{ name: 'a' }, { name: 'b' }] };
  assert.equal(cellsOf(podsTable, pod(spec, { phase: 'Running', containerStatuses: statuses })).Status, 'NotReady');
  assert.equal(cellsOf(podsTable, pod(spec, { phase: 'Running', containerStatuses: statuses, conditions: [{ type: 'Ready', status: 'True' }] })).Status, 'Running');
});

test('init containers: progress, waiting reasons and failures', () => {
  const spec = { initContainers: [{ name: 'init-a' }, { name: 'init-b' }] };
  const done = status('init-a', { terminated: { exitCode: 0, reason: 'Completed' } });
  const statusOf = (second: ContainerStatus): unknown => cellsOf(podsTable, pod(spec, {
    phase: 'Pending', initContainerStatuses: [done, second],
    containerStatuses: [status('app', { waiting: { reason: 'PodInitializing' } })],
  })).Status;
  assert.equal(statusOf(status('init-b', running)), 'Init:1/2');
  assert.equal(statusOf(status('init-b', { waiting: { reason: 'PodInitializing' } })), 'Init:1/2');
  assert.equal(statusOf(status('init-b', { waiting: { reason: 'ImagePullBackOff' } })), 'Init:ImagePullBackOff');
  assert.equal(statusOf(status('init-b', { terminated: { exitCode: 1, reason: 'Error' } })), 'Init:Error');
  assert.equal(statusOf(status('init-b', { terminated: { exitCode: 2 } })), 'Init:ExitCode:2');
  assert.equal(statusOf(status('init-b', { terminated: { exitCode: 2, signal: 15 } })), 'Init:Signal:15');
  // While initializing, restarts are the init containers'.
  const restarting = cellsOf(podsTable, pod(spec, {
    phase: 'Pending',
    initContainerStatuses: [status('init-a', { waiting: { reason: 'CrashLoopBackOff' } },
      { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(10 * SECOND) } } })],
  }));
  assert.deepEqual([restarting.Status, restarting.Restarts, restarting.Ready], ['Init:CrashLoopBackOff', '3 (10s ago)', '0/1']);
});

test('a started sidecar counts as a ready container', () => {
  const p = pod({ initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] }, {
    phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
    initContainerStatuses: [status('proxy', running, { started: true, ready: true, restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(2 * MINUTE) } } })],
    containerStatuses: [status('app', running, { ready: true })],
  });
  const row = cellsOf(podsTable, p);
  assert.deepEqual([row.Ready, row.Status, row.Restarts], ['2/2', 'Running', '1 (2m ago)']);
});

test('scheduling gates, readiness gates, nominated node and IPs', () => {
  const gated = pod({ schedulingGates: [{ name: 'wait' }] }, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] });
  assert.equal(cellsOf(podsTable, gated).Status, 'SchedulingGated');

  const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] }, {
    phase: 'Running', nominatedNodeName: 'node-2', podIPs: [{ ip: 'fd00::7' }, { ip: '10.42.0.7' }],
    conditions: [{ type: 'example.com/lb', status: 'True' }, { type: 'example.com/dns', status: 'False' }],
  });
  const row = cellsOf(podsTable, p);
  assert.deepEqual([row.IP, row.Node, row['Nominated Node'], row['Readiness Gates']], ['fd00::7', '<none>', 'node-2', '1/2']);
});

test('a pod without a creation timestamp has an unknown age', () => {
  const p = pod({}, {}, { creationTimestamp: undefined });
  assert.equal(cellsOf(podsTable, p).Age, '<unknown>');
});

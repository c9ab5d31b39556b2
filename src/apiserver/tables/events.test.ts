import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from 'kubernetes-types/core/v1';
import { eventsTable } from './events.js';
import { ago, MINUTE, rowOf, SECOND } from './test-helpers.js';

test('event columns: LAST SEEN TYPE REASON OBJECT MESSAGE, the rest wide', () => {
  assert.deepEqual(eventsTable.columns.map((c) => [c.name, c.priority]), [
    ['Last Seen', 0], ['Type', 0], ['Reason', 0], ['Object', 0], ['Subobject', 1], ['Source', 1],
    ['Message', 0], ['First Seen', 1], ['Count', 1], ['Name', 1],
  ]);
  assert.equal(eventsTable.columns[9].format, 'name');
});

test('a repeated core/v1 event', () => {
  const e: Event = {
    metadata: { name: 'web.17c', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{app}' },
    reason: 'BackOff', type: 'Warning', message: '  Back-off restarting failed container\n', count: 7,
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: ago(10 * MINUTE), lastTimestamp: ago(45 * SECOND),
  };
  assert.deepEqual(rowOf(eventsTable, e), [
    '45s', 'Warning', 'BackOff', 'pod/web', 'spec.containers{app}', 'kubelet, node-1', 'Back-off restarting failed container', '10m', 7, 'web.17c',
  ]);
});

test('events.k8s.io-style events: eventTime, series, reporting fields, no count', () => {
  const single: Event = {
    metadata: { name: 'e1' }, involvedObject: { kind: 'Node' }, reason: 'Starting', type: 'Normal',
    eventTime: '2024-05-01T11:59:30.123456Z', reportingComponent: 'kubelet', reportingInstance: '',
  };
  assert.deepEqual(rowOf(eventsTable, single), ['29s', 'Normal', 'Starting', 'node', '', 'kubelet', '', '29s', 1, 'e1']);

  const series: Event = {
    ...single, series: { count: 4, lastObservedTime: ago(5 * SECOND) }, source: { component: 'scheduler' }, reportingInstance: 'srv-1',
  };
  const row = rowOf(eventsTable, series);
  assert.deepEqual([row[0], row[5], row[7], row[8]], ['5s', 'scheduler, srv-1', '29s', 4]);

  const timeless = rowOf(eventsTable, { metadata: { name: 'e2' }, involvedObject: {} });
  assert.deepEqual([timeless[0], timeless[3], timeless[7]], ['<unknown>', '', '<unknown>']);
});

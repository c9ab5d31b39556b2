import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState, Status } from '../framework.js';
import { nodeInfos, testHandle, testNode, testPod } from '../testing.js';
import { DefaultPreemption } from './default-preemption.js';
import { NodeResourcesFit } from './node-resources-fit.js';

test('picks the node whose victims have the lowest priority and keeps what need not go', async () => {
  const infos = nodeInfos([testNode('a', { cpu: '2' }), testNode('b', { cpu: '2' })], [
    testPod('a-mid', { nodeName: 'a', cpu: '1', priority: 50 }),
    testPod('a-low', { nodeName: 'a', cpu: '1', priority: 10 }),
    testPod('b-mid', { nodeName: 'b', cpu: '2', priority: 50 }),
  ]);
  const fit = new NodeResourcesFit();
  const dp = new DefaultPreemption(testHandle(infos, [fit]));
  const pod = testPod('p', { cpu: '1', priority: 100 });
  const statuses = new Map([['a', Status.unschedulable('Insufficient cpu')], ['b', Status.unschedulable('Insufficient cpu')]]);
  const r = await dp.postFilter(new CycleState(), pod, statuses);
  assert.ok(r.status.isSuccess());
  assert.equal(r.result?.nominatedNodeName, 'a');
});

test('no lower-priority pods, or unresolvable nodes: upstream\'s message', async () => {
  const infos = nodeInfos([testNode('a', { cpu: '1' }), testNode('t', { cpu: '8' })], [testPod('same', { nodeName: 'a', cpu: '1', priority: 100 })]);
  const dp = new DefaultPreemption(testHandle(infos, [new NodeResourcesFit()]));
  const statuses = new Map([['a', Status.unschedulable('Insufficient cpu')], ['t', Status.unschedulableAndUnresolvable('node(s) had untolerated taint {k: }')]]);
  const r = await dp.postFilter(new CycleState(), testPod('p', { cpu: '1', priority: 100 }), statuses);
  assert.equal(r.status.message(), 'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod., 1 Preemption is not helpful for scheduling.');
  const never = await dp.postFilter(new CycleState(), testPod('n', { priority: 1000, spec: { preemptionPolicy: 'Never' } }), statuses);
  assert.equal(never.status.message(), 'not eligible due to preemptionPolicy=Never.');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { CycleState, Status } from '../framework.js';
import { nodeInfos, testHandle, testNode, testPod } from '../testing.js';
import { PodInfo } from '../node-info.js';
import { DefaultPreemption, filterPodsWithPDBViolation } from './default-preemption.js';
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

test('PodDisruptionBudgets steer preemption to the node whose victim no budget protects', async () => {
  const infos = nodeInfos([testNode('a', { cpu: '1' }), testNode('b', { cpu: '1' })], [
    testPod('a-db', { nodeName: 'a', cpu: '1', priority: 10, labels: { app: 'db' } }),
    // A higher priority than a-db, so without budgets node b is the worse pick.
    testPod('b-web', { nodeName: 'b', cpu: '1', priority: 20, labels: { app: 'web' } }),
  ]);
  const pdb = (name: string, app: string, disruptionsAllowed: number): PodDisruptionBudget => ({
    metadata: { name, namespace: 'default' },
    spec: { selector: { matchLabels: { app } } },
    status: { disruptionsAllowed, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
  });
  const statuses = new Map([['a', Status.unschedulable('Insufficient cpu')], ['b', Status.unschedulable('Insufficient cpu')]]);
  const pod = testPod('p', { cpu: '1', priority: 100 });
  // No budget: a's victim has the lower priority.
  const plain = await new DefaultPreemption(testHandle(infos, [new NodeResourcesFit()])).postFilter(new CycleState(), pod, statuses);
  assert.equal(plain.result?.nominatedNodeName, 'a');
  // a's victim is protected (no disruption allowed): b wins despite its higher-priority victim.
  const guarded = await new DefaultPreemption(testHandle(infos, [new NodeResourcesFit()], [pdb('db', 'db', 0), pdb('web', 'web', 1)])).postFilter(new CycleState(), pod, statuses);
  assert.ok(guarded.status.isSuccess());
  assert.equal(guarded.result?.nominatedNodeName, 'b');
  // Best effort: every victim protected still preempts, on the usual criteria.
  const allGuarded = await new DefaultPreemption(testHandle(infos, [new NodeResourcesFit()], [pdb('db', 'db', 0), pdb('web', 'web', 0)])).postFilter(new CycleState(), pod, statuses);
  assert.equal(allGuarded.result?.nominatedNodeName, 'a');
});

test('filterPodsWithPDBViolation counts victims already chosen against the same budget', () => {
  const pods = ['x1', 'x2', 'x3'].map((n) => new PodInfo(testPod(n, { labels: { app: 'x' } })));
  const other = new PodInfo(testPod('y', { labels: { app: 'x' }, namespace: 'other' }));
  const unlabelled = new PodInfo(testPod('z'));
  const budget: PodDisruptionBudget = {
    metadata: { name: 'x', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'x' } } },
    status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptedPods: { x3: '2026-01-01T00:00:00Z' } },
  };
  // Empty selector: a budget selecting nothing, as upstream.
  const empty: PodDisruptionBudget = { metadata: { name: 'e', namespace: 'default' }, spec: { selector: {} }, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } };
  const r = filterPodsWithPDBViolation([...pods, other, unlabelled], [budget, empty]);
  assert.deepEqual(r.violating.map((p) => p.pod.metadata?.name), ['x2']);
  assert.deepEqual(r.nonViolating.map((p) => p.pod.metadata?.name), ['x1', 'x3', 'y', 'z']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework.js';
import { podRequests } from '../resource.js';
import { filterAll, nodeInfos, testNode, testPod } from '../testing.js';
import { NodeResourcesFit } from './node-resources-fit.js';
import { NodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.js';

test('filter: cpu, memory, pod count and extended resources, with upstream reasons', () => {
  const infos = nodeInfos([
    testNode('a', { cpu: '2', memory: '1Gi' }),
    testNode('b', { cpu: '4', memory: '8Gi', pods: '1' }),
    testNode('c', { cpu: '4', memory: '8Gi', extra: { 'example.com/gpu': '1' } }),
  ], [testPod('x', { nodeName: 'b' })]);
  const fit = new NodeResourcesFit();
  assert.deepEqual(filterAll(fit, testPod('p', { cpu: '3', memory: '2Gi' }), infos), { a: 'Insufficient cpu, Insufficient memory', b: 'Too many pods', c: '' });
  const gpu = testPod('g', { cpu: '1', spec: { containers: [{ name: 'c', resources: { requests: { cpu: '1', 'example.com/gpu': '1' } } }] } });
  assert.deepEqual(filterAll(fit, gpu, infos), { a: 'Insufficient example.com/gpu', b: 'Too many pods, Insufficient example.com/gpu', c: '' });
  assert.deepEqual(filterAll(new NodeResourcesFit({ ignoredResources: ['example.com/gpu'] }), gpu, infos), { a: '', b: 'Too many pods', c: '' });
});

test('init containers count as max(sum of app containers, largest init container) plus overhead; sidecars add up', () => {
  const pod = testPod('p', { spec: {
    containers: [{ name: 'a', resources: { requests: { cpu: '100m' } } }, { name: 'b', resources: { requests: { cpu: '200m' } } }],
    initContainers: [{ name: 'i1', resources: { requests: { cpu: '500m', memory: '1Gi' } } }, { name: 'i2', resources: { requests: { cpu: '250m' } } }],
    overhead: { cpu: '10m' },
  } });
  const r = podRequests(pod);
  assert.equal(r.milliCPU, 510);
  assert.equal(r.memory, 1024 ** 3);
  const sidecar = testPod('s', { spec: {
    containers: [{ name: 'a', resources: { requests: { cpu: '100m' } } }],
    initContainers: [{ name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '300m' } } }, { name: 'after', resources: { requests: { cpu: '350m' } } }],
  } });
  // App + sidecar = 400m; the later init container runs beside the sidecar: 650m.
  assert.equal(podRequests(sidecar).milliCPU, 650);
});

test('scoring: LeastAllocated prefers the emptier node, MostAllocated the fuller, RequestedToCapacityRatio follows its shape', () => {
  const infos = nodeInfos([testNode('empty', { cpu: '4', memory: '8Gi' }), testNode('busy', { cpu: '4', memory: '8Gi' })],
    [testPod('x', { nodeName: 'busy', cpu: '2', memory: '4Gi' })]);
  const pod = testPod('p', { cpu: '1', memory: '2Gi' });
  const score = (plugin: NodeResourcesFit) => infos.map((n) => plugin.score(new CycleState(), pod, n));
  assert.deepEqual(score(new NodeResourcesFit()), [75, 25]);
  assert.deepEqual(score(new NodeResourcesFit({ scoringStrategy: { type: 'MostAllocated' } })), [25, 75]);
  const rtcr = new NodeResourcesFit({ scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }] } } });
  assert.deepEqual(score(rtcr), [75, 25]);
});

test('BalancedAllocation prefers even cpu/memory use', () => {
  const infos = nodeInfos([testNode('a', { cpu: '4', memory: '4Gi' })]);
  const ba = new NodeResourcesBalancedAllocation();
  assert.equal(ba.score(new CycleState(), testPod('even', { cpu: '2', memory: '2Gi' }), infos[0]), 100);
  assert.equal(ba.score(new CycleState(), testPod('odd', { cpu: '2', memory: '0' }), infos[0]), 75);
});

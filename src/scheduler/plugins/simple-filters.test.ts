import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState, type NodeScore } from '../framework.js';
import { filterAll, nodeInfos, testNode, testPod } from '../testing.js';
import { NodeName } from './node-name.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import { NodePorts } from './node-ports.js';
import { TaintToleration } from './taint-toleration.js';
import { ImageLocality } from './image-locality.js';
import { testHandle } from '../testing.js';

test('NodeName', () => {
  const infos = nodeInfos([testNode('a'), testNode('b')]);
  assert.deepEqual(filterAll(new NodeName(), testPod('p', { spec: { nodeName: 'b' } }), infos), { a: "node(s) didn't match the requested node name", b: '' });
});

test('NodeUnschedulable: cordoned nodes unless tolerated', () => {
  const infos = nodeInfos([testNode('a', { unschedulable: true }), testNode('b')]);
  assert.deepEqual(filterAll(new NodeUnschedulable(), testPod('p'), infos), { a: 'node(s) were unschedulable', b: '' });
  const tolerant = testPod('t', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
  assert.deepEqual(filterAll(new NodeUnschedulable(), tolerant, infos), { a: '', b: '' });
});

test('NodePorts: same protocol/port conflicts on the same IP or 0.0.0.0', () => {
  const withPort = (name: string, port: number, ip?: string, nodeName?: string) =>
    testPod(name, { nodeName, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: port, protocol: 'TCP', ...(ip ? { hostIP: ip } : {}) }] }] } });
  const infos = nodeInfos([testNode('a'), testNode('b'), testNode('c')], [withPort('x', 8080, undefined, 'a'), withPort('y', 8080, '10.0.0.1', 'b')]);
  const msg = "node(s) didn't have free ports for the requested pod ports";
  assert.deepEqual(filterAll(new NodePorts(), withPort('p', 8080), infos), { a: msg, b: msg, c: '' });
  assert.deepEqual(filterAll(new NodePorts(), withPort('q', 8080, '10.0.0.2'), infos), { a: msg, b: '', c: '' });
  assert.deepEqual(filterAll(new NodePorts(), withPort('r', 9090), infos), { a: '', b: '', c: '' });
});

test('TaintToleration: NoSchedule/NoExecute filter with upstream wording; PreferNoSchedule scores', () => {
  const infos = nodeInfos([
    testNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
    testNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] }),
    testNode('soft', { taints: [{ key: 'spot', value: 'yes', effect: 'PreferNoSchedule' }] }),
    testNode('plain'),
  ]);
  const tt = new TaintToleration();
  assert.deepEqual(filterAll(tt, testPod('p'), infos), {
    cp: 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }', gpu: 'node(s) had untolerated taint {dedicated: gpu}', soft: '', plain: '',
  });
  const tol = testPod('t', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute' }, { operator: 'Exists', effect: 'NoSchedule' }] } });
  assert.deepEqual(filterAll(tt, tol, infos), { cp: '', gpu: '', soft: '', plain: '' });
  const state = new CycleState();
  tt.preScore(state, testPod('p'));
  const scores: NodeScore[] = infos.slice(2).map((n) => ({ name: n.name, score: tt.score(state, testPod('p'), n) }));
  tt.normalizeScore(state, testPod('p'), scores);
  assert.deepEqual(scores.map((s) => s.score), [0, 100]);
});

test('ImageLocality prefers nodes holding the image', () => {
  const big = 500 * 1024 * 1024;
  const infos = nodeInfos([testNode('has', { images: [{ names: ['docker.io/library/nginx:1.25', 'nginx:1.25'], sizeBytes: big }] }), testNode('none')]);
  const il = new ImageLocality(testHandle(infos));
  const pod = testPod('p', { spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } });
  il.preScore();
  const [a, b] = infos.map((n) => il.score(new CycleState(), pod, n));
  assert.ok(a > b, `${a} > ${b}`);
  assert.equal(b, 0);
});

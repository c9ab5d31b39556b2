import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeSelectorRequirement } from 'kubernetes-types/core/v1';
import { CycleState, type NodeScore } from '../framework.js';
import { filterAll, nodeInfos, testNode, testPod } from '../testing.js';
import { NodeAffinity } from './node-affinity.js';

const MSG = "node(s) didn't match Pod's node affinity/selector";
const infos = nodeInfos([
  testNode('a', { labels: { zone: 'z1', gen: '3', ssd: 'true' } }),
  testNode('b', { labels: { zone: 'z2', gen: '5' } }),
  testNode('c', { labels: { zone: 'z3' } }),
]);
const fits = (expr: NodeSelectorRequirement[]) => {
  const pod = testPod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: expr }] } } } } });
  return Object.entries(filterAll(new NodeAffinity(), pod, infos)).filter(([, m]) => m === '').map(([n]) => n);
};

test('every operator: In, NotIn, Exists, DoesNotExist, Gt, Lt', () => {
  assert.deepEqual(fits([{ key: 'zone', operator: 'In', values: ['z1', 'z3'] }]), ['a', 'c']);
  assert.deepEqual(fits([{ key: 'zone', operator: 'NotIn', values: ['z1'] }]), ['b', 'c']);
  assert.deepEqual(fits([{ key: 'ssd', operator: 'Exists' }]), ['a']);
  assert.deepEqual(fits([{ key: 'ssd', operator: 'DoesNotExist' }]), ['b', 'c']);
  assert.deepEqual(fits([{ key: 'gen', operator: 'Gt', values: ['3'] }]), ['b']);
  assert.deepEqual(fits([{ key: 'gen', operator: 'Lt', values: ['4'] }]), ['a']);
  assert.deepEqual(fits([{ key: 'gen', operator: 'Gt', values: ['1'] }, { key: 'zone', operator: 'In', values: ['z2'] }]), ['b']);
});

test('nodeSelector and terms ORed; the message is upstream\'s', () => {
  const pod = testPod('p', { spec: { nodeSelector: { zone: 'z2' } } });
  assert.deepEqual(filterAll(new NodeAffinity(), pod, infos), { a: MSG, b: '', c: MSG });
  const or = testPod('o', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
    { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] },
  ] } } } } });
  assert.deepEqual(filterAll(new NodeAffinity(), or, infos), { a: '', b: MSG, c: '' });
});

test('preferred terms score by weight, normalised to 100', () => {
  const pod = testPod('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] } },
    { weight: 30, preference: { matchExpressions: [{ key: 'gen', operator: 'Exists' }] } },
  ] } } } });
  const na = new NodeAffinity();
  const state = new CycleState();
  na.preScore(state, pod);
  const scores: NodeScore[] = infos.map((n) => ({ name: n.name, score: na.score(state, pod, n) }));
  na.normalizeScore(state, pod, scores);
  assert.deepEqual(scores.map((s) => s.score), [100, 75, 0]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodAffinityTerm } from 'kubernetes-types/core/v1';
import { CycleState, type NodeScore } from '../framework.js';
import { filterAll, nodeInfos, testHandle, testNode, testPod } from '../testing.js';
import { InterPodAffinity } from './inter-pod-affinity.js';

const zone = (z: string) => ({ 'topology.kubernetes.io/zone': z });
const term = (labels: Record<string, string>, topologyKey = 'topology.kubernetes.io/zone'): PodAffinityTerm => ({ labelSelector: { matchLabels: labels }, topologyKey });
const nodes = () => [testNode('a1', { labels: zone('a') }), testNode('a2', { labels: zone('a') }), testNode('b1', { labels: zone('b') })];

test('required affinity: only domains with a matching pod; the first pod of a self-matching group goes anywhere', () => {
  const infos = nodeInfos(nodes(), [testPod('db', { nodeName: 'a1', labels: { app: 'db' } })]);
  const ipa = new InterPodAffinity(testHandle(infos));
  const pod = testPod('web', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } } } });
  assert.deepEqual(filterAll(ipa, pod, infos), { a1: '', a2: '', b1: "node(s) didn't match pod affinity rules" });
  const first = testPod('c', { labels: { app: 'cache' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cache' })] } } } });
  assert.deepEqual(filterAll(ipa, first, infos), { a1: '', a2: '', b1: '' });
});

test('required anti-affinity, the incoming pod\'s and existing pods\' (symmetric)', () => {
  const infos = nodeInfos(nodes(), [
    testPod('w1', { nodeName: 'a1', labels: { app: 'web' } }),
    testPod('lonely', { nodeName: 'b1', labels: { app: 'lonely' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, 'kubernetes.io/hostname')] } } } }),
  ]);
  const ipa = new InterPodAffinity(testHandle(infos));
  const pod = testPod('w2', { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' })] } } } });
  assert.deepEqual(filterAll(ipa, pod, infos), {
    a1: "node(s) didn't match pod anti-affinity rules", a2: "node(s) didn't match pod anti-affinity rules", b1: "node(s) didn't satisfy existing pods anti-affinity rules",
  });
});

test('preferred affinity scores the domain with matching pods higher, preferred anti-affinity lower', () => {
  const infos = nodeInfos(nodes(), [testPod('db', { nodeName: 'a1', labels: { app: 'db' } })]);
  const ipa = new InterPodAffinity(testHandle(infos));
  const score = (pod: ReturnType<typeof testPod>) => {
    const state = new CycleState();
    ipa.preScore(state, pod);
    const s: NodeScore[] = infos.map((n) => ({ name: n.name, score: ipa.score(state, pod, n) }));
    ipa.normalizeScore(state, pod, s);
    return s.map((x) => x.score);
  };
  assert.deepEqual(score(testPod('near', { spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term({ app: 'db' }) }] } } } })), [100, 100, 0]);
  assert.deepEqual(score(testPod('far', { spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term({ app: 'db' }) }] } } } })), [0, 0, 100]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TopologySpreadConstraint } from 'kubernetes-types/core/v1';
import { CycleState, type NodeScore } from '../framework.js';
import { filterAll, nodeInfos, testHandle, testNode, testPod } from '../testing.js';
import { PodTopologySpread } from './pod-topology-spread.js';

const zone = (z: string) => ({ 'topology.kubernetes.io/zone': z });
const spread = (o: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...o,
});
const web = (name: string, nodeName?: string) => testPod(name, { nodeName, labels: { app: 'web' } });

test('DoNotSchedule: skew over zones, missing label, minDomains', () => {
  const nodes = [testNode('a1', { labels: zone('a') }), testNode('a2', { labels: zone('a') }), testNode('b1', { labels: zone('b') }), testNode('x')];
  const infos = nodeInfos(nodes, [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')]);
  const pts = new PodTopologySpread(testHandle(infos));
  const pod = testPod('p', { labels: { app: 'web' }, spec: { topologySpreadConstraints: [spread()] } });
  assert.deepEqual(filterAll(pts, pod, infos), {
    a1: "node(s) didn't match pod topology spread constraints", a2: "node(s) didn't match pod topology spread constraints", b1: '',
    x: "node(s) didn't match pod topology spread constraints (missing required label)",
  });
  const skew2 = testPod('q', { labels: { app: 'web' }, spec: { topologySpreadConstraints: [spread({ maxSkew: 2 })] } });
  assert.equal(filterAll(pts, skew2, infos).a1, '');
  // Three domains wanted, two exist: the global minimum counts as 0, so zone b (1 pod) is already at skew 1+1.
  const minDomains = testPod('r', { labels: { app: 'web' }, spec: { topologySpreadConstraints: [spread({ minDomains: 3 })] } });
  const r = filterAll(pts, minDomains, infos);
  assert.equal(r.b1, "node(s) didn't match pod topology spread constraints");
});

test('nodeAffinityPolicy Honor: nodes the pod cannot go to do not count as domains', () => {
  const nodes = [testNode('a1', { labels: { ...zone('a'), pool: 'x' } }), testNode('b1', { labels: { ...zone('b'), pool: 'y' } })];
  const infos = nodeInfos(nodes, [web('w1', 'a1')]);
  const pts = new PodTopologySpread(testHandle(infos));
  const pod = testPod('p', { labels: { app: 'web' }, spec: { nodeSelector: { pool: 'x' }, topologySpreadConstraints: [spread()] } });
  assert.equal(filterAll(pts, pod, infos).a1, '');
});

test('ScheduleAnyway scores the emptier domain higher', () => {
  const nodes = [testNode('a1', { labels: zone('a') }), testNode('b1', { labels: zone('b') })];
  const infos = nodeInfos(nodes, [web('w1', 'a1'), web('w2', 'a1')]);
  const pts = new PodTopologySpread(testHandle(infos));
  const pod = testPod('p', { labels: { app: 'web' }, spec: { topologySpreadConstraints: [spread({ whenUnsatisfiable: 'ScheduleAnyway' })] } });
  const state = new CycleState();
  assert.ok(pts.preScore(state, pod).isSuccess());
  const scores: NodeScore[] = infos.map((n) => ({ name: n.name, score: pts.score(state, pod, n) }));
  pts.normalizeScore(state, pod, scores);
  assert.ok(scores[1].score > scores[0].score, JSON.stringify(scores));
});

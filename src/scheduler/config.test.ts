import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadSchedulerConfiguration, parseSchedulerConfiguration, resolveProfiles } from './config.js';
import { numFeasibleNodesToFind } from './scheduler.js';
import { Framework } from './runtime.js';
import { inTreeRegistry } from './registry.js';
import { nodeInfos, testHandle } from './testing.js';

test('the default profile has upstream\'s plugins and weights', () => {
  const [p] = resolveProfiles();
  assert.equal(p.schedulerName, 'default-scheduler');
  assert.equal(p.weights.get('TaintToleration'), 3);
  assert.equal(p.weights.get('PodTopologySpread'), 2);
  assert.ok(p.plugins.includes('DefaultPreemption'));
});

test('a KubeSchedulerConfiguration file: profiles, disabled plugins, weights and plugin args', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sched-config-'));
  try {
    const path = join(dir, 'config.yaml');
    await writeFile(path, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 20
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    multiPoint:
      disabled: [{ name: ImageLocality }]
    score:
      disabled: [{ name: NodeResourcesBalancedAllocation }]
      enabled: [{ name: NodeResourcesFit, weight: 5 }]
  pluginConfig:
  - name: NodeResourcesFit
    args: { scoringStrategy: { type: MostAllocated } }
`);
    const profiles = resolveProfiles(await loadSchedulerConfiguration(path));
    assert.deepEqual(profiles.map((p) => p.schedulerName), ['default-scheduler', 'bin-packer']);
    const bp = profiles[1];
    assert.equal(bp.percentageOfNodesToScore, 20);
    assert.ok(!bp.plugins.includes('ImageLocality'));
    assert.equal(bp.weights.get('NodeResourcesFit'), 5);
    const fwk = new Framework(bp, inTreeRegistry(), testHandle(nodeInfos([])));
    const scoring = fwk.scorePlugins.map((s) => s.plugin.name());
    assert.ok(!scoring.includes('NodeResourcesBalancedAllocation'));
    assert.ok(scoring.includes('NodeResourcesFit'));
    assert.ok(fwk.filterPlugins.some((p) => p.name() === 'NodeResourcesBalancedAllocation') === false);
  } finally { await rm(dir, { recursive: true, force: true }); }
});

test('bad configurations are refused', () => {
  assert.throws(() => parseSchedulerConfiguration('kind: Deployment'), ConfigError);
  assert.throws(() => parseSchedulerConfiguration('profiles: [{schedulerName: a}, {schedulerName: a}]'), /Duplicate value/);
  assert.throws(() => resolveProfiles({ percentageOfNodesToScore: 150 }), /not in valid range/);
  assert.throws(() => new Framework(resolveProfiles({ profiles: [{ plugins: { multiPoint: { enabled: [{ name: 'NoSuchPlugin' }] } } }] })[0], inTreeRegistry(), testHandle([])), /does not exist/);
});

test('numFeasibleNodesToFind is upstream\'s adaptive percentage', () => {
  assert.equal(numFeasibleNodesToFind(0, 50), 50);
  assert.equal(numFeasibleNodesToFind(0, 1000), 420);
  assert.equal(numFeasibleNodesToFind(0, 5000), 500);
  assert.equal(numFeasibleNodesToFind(0, 10000), 500);
  assert.equal(numFeasibleNodesToFind(10, 500), 100);
  assert.equal(numFeasibleNodesToFind(100, 5000), 5000);
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { deployments, events, pods, replicasets } from '../../src/client/index.js';
import { isPodReady } from '../../src/controllers/util/pods.js';
import { startControllerEnv, eventually, type ControllerEnv } from './env.js';

const manifest = (name: string, replicas: number, image: string, extra: Record<string, unknown> = {}, podLabels: Record<string, string> = {}) => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, ...podLabels } }, spec: { containers: [{ name: 'app', image }] } },
    ...extra,
  },
});

describe('Deployment controller with the real kubectl', () => {
  let env: ControllerEnv;
  before(async () => { env = await startControllerEnv({ kubelet: { readyDelayMs: 150 } }); });
  after(async () => { await env.stop(); });

  const kubectl = async (...args: string[]) => env.ts.kubectl(args);
  const ok = async (...args: string[]) => {
    const r = await env.ts.kubectl(args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  it('rolls from image A to B within maxSurge/maxUnavailable at every observed moment', async () => {
    const r = await env.ts.kubectl(['apply', '-f', '-'], manifest('web', 4, 'nginx:1.0', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    assert.equal(r.code, 0, r.stderr);
    await ok('rollout', 'status', 'deployment/web', '--timeout=30s');
    const rsList = (await env.client.list(replicasets, { namespace: 'default', labelSelector: 'app=web' })).items;
    assert.equal(rsList.length, 1);
    const rs1 = rsList[0];
    const hash = rs1.metadata!.labels!['pod-template-hash'];
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs1.metadata!.name, `web-${hash}`);
    assert.equal(rs1.spec!.selector.matchLabels!['pod-template-hash'], hash);
    assert.equal(rs1.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs1.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '4');
    assert.equal(rs1.metadata!.annotations!['deployment.kubernetes.io/max-replicas'], '5');

    // Watch every pod change while rolling and check the bounds on each observed state.
    const abort = new AbortController();
    const state = new Map<string, Pod>();
    const list = await env.client.list(pods, { namespace: 'default', labelSelector: 'app=web' });
    for (const p of list.items) state.set(p.metadata!.name!, p);
    let minAvailable = Infinity;
    let maxPods = 0;
    let observations = 0;
    const watching = env.client.watch(pods, { namespace: 'default', labelSelector: 'app=web', resourceVersion: list.metadata.resourceVersion, signal: abort.signal }, (e) => {
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') state.delete(e.object.metadata!.name!); else state.set(e.object.metadata!.name!, e.object);
      const live = [...state.values()].filter((p) => !p.metadata?.deletionTimestamp);
      observations++;
      minAvailable = Math.min(minAvailable, live.filter(isPodReady).length);
      maxPods = Math.max(maxPods, live.length);
    });
    await ok('set', 'image', 'deployment/web', 'app=nginx:2.0');
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    await watching.catch(() => {});
    assert.ok(observations > 8, `saw ${observations} changes`);
    assert.ok(minAvailable >= 3, `available dipped to ${minAvailable}`);
    assert.ok(maxPods <= 5, `pods peaked at ${maxPods}`);

    const d = await env.client.get(deployments, 'default', 'web');
    assert.equal(d.status?.updatedReplicas, 4);
    assert.equal(d.status?.availableReplicas, 4);
    assert.equal(d.status?.observedGeneration, d.metadata?.generation);
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
    const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'NewReplicaSetAvailable');
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.reason, 'MinimumReplicasAvailable');
    const evs = (await env.client.list(events, { namespace: 'default' })).items.filter((e) => e.reason === 'ScalingReplicaSet');
    assert.ok(evs.some((e) => /^Scaled up replica set web-\w+ to 1$/.test(e.message ?? '')), evs.map((e) => e.message).join('\n'));
    assert.ok(evs.some((e) => /^Scaled down replica set web-\w+ to \d+ from \d+$/.test(e.message ?? '')));
  });

  it('shows history and undoes to revision 1, reusing its ReplicaSet', async () => {
    const history = await ok('rollout', 'history', 'deployment/web');
    assert.match(history, /REVISION/);
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);
    const rev1 = await ok('rollout', 'history', 'deployment/web', '--revision=1');
    assert.match(rev1, /nginx:1\.0/);
    const rsBefore = (await env.client.list(replicasets, { namespace: 'default', labelSelector: 'app=web' })).items;
    const old = rsBefore.find((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1')!;
    await ok('rollout', 'undo', 'deployment/web');
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    const d = await env.client.get(deployments, 'default', 'web');
    assert.equal(d.spec?.template.spec?.containers[0].image, 'nginx:1.0');
    const rsAfter = (await env.client.list(replicasets, { namespace: 'default', labelSelector: 'app=web' })).items;
    assert.equal(rsAfter.length, 2, 'the old ReplicaSet is reused, not duplicated');
    const reused = rsAfter.find((rs) => rs.metadata?.uid === old.metadata?.uid)!;
    assert.equal(reused.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(reused.spec?.replicas, 4);
    assert.match(await ok('rollout', 'history', 'deployment/web'), /^3\s/m);
    await ok('rollout', 'undo', 'deployment/web', '--to-revision=2');
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    assert.equal((await env.client.get(deployments, 'default', 'web')).spec?.template.spec?.containers[0].image, 'nginx:2.0');
  });

  it('scales, pauses, resumes and restarts', async () => {
    await ok('scale', 'deployment/web', '--replicas=6');
    await ok('rollout', 'status', 'deployment/web', '--timeout=30s');
    assert.equal((await env.client.get(deployments, 'default', 'web')).status?.availableReplicas, 6);
    await ok('rollout', 'pause', 'deployment/web');
    await ok('set', 'image', 'deployment/web', 'app=nginx:3.0');
    await new Promise((r) => setTimeout(r, 500));
    const paused = await env.client.get(deployments, 'default', 'web');
    assert.equal(paused.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'DeploymentPaused');
    const images = (await env.client.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items.map((p) => p.spec?.containers[0].image);
    assert.ok(!images.includes('nginx:3.0'), 'a paused deployment does not roll');
    await ok('rollout', 'resume', 'deployment/web');
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    await ok('rollout', 'restart', 'deployment/web');
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    const d = await env.client.get(deployments, 'default', 'web');
    assert.ok(d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']);
    const live = (await env.client.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    assert.equal(live.length, 6);
    assert.ok(live.every((p) => p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']));
  });

  it('scales proportionally in the middle of a rollout', async () => {
    await env.ts.kubectl(['apply', '-f', '-'], manifest('prop', 10, 'nginx:1.0', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
    await ok('rollout', 'status', 'deployment/prop', '--timeout=30s');
    // The new pods never become ready, so the rollout stalls with two ReplicaSets.
    await ok('patch', 'deployment/prop', '--type=merge', '-p', JSON.stringify({ spec: { template: { metadata: { labels: { app: 'prop', 'bosun.test/never-ready': 'x' } } } } }));
    await eventually('stalled rollout', async () => {
      const sets = (await env.client.list(replicasets, { namespace: 'default', labelSelector: 'app=prop' })).items;
      const total = sets.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      return sets.length === 2 && total === 13 ? sets : undefined;
    });
    await ok('scale', 'deployment/prop', '--replicas=20');
    const sets = await eventually('proportional', async () => {
      const s = (await env.client.list(replicasets, { namespace: 'default', labelSelector: 'app=prop' })).items;
      const total = s.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      return total === 23 ? s : undefined;
    });
    const sizes = sets.map((rs) => rs.spec?.replicas ?? 0).sort((a, b) => a - b);
    // 8 old + 5 new at 13 → 23: both grow (≈ 14 and 9).
    assert.ok(sizes[0] > 5 && sizes[1] > 8, `sizes ${sizes}`);
    for (const rs of sets) assert.equal(rs.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '20');
    await ok('delete', 'deployment/prop');
  });

  it('reports ProgressDeadlineExceeded for pods that never become ready; rollout status fails', async () => {
    await env.ts.kubectl(['apply', '-f', '-'], manifest('stuck', 2, 'nginx:1.0', { progressDeadlineSeconds: 3 }, { 'bosun.test/never-ready': 'yes' }));
    const status = await kubectl('rollout', 'status', 'deployment/stuck', '--timeout=30s');
    assert.notEqual(status.code, 0);
    assert.match(status.stderr, /exceeded its progress deadline/);
    const d = await env.client.get(deployments, 'default', 'stuck');
    const c = d.status?.conditions?.find((x) => x.type === 'Progressing');
    assert.equal(c?.status, 'False');
    assert.equal(c?.reason, 'ProgressDeadlineExceeded');
    assert.match(c?.message ?? '', /^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
    assert.equal(d.status?.conditions?.find((x) => x.type === 'Available')?.status, 'False');
  });

  it('Recreate stops every old pod before starting new ones', async () => {
    await env.ts.kubectl(['apply', '-f', '-'], manifest('rec', 3, 'nginx:1.0', { strategy: { type: 'Recreate' } }));
    await ok('rollout', 'status', 'deployment/rec', '--timeout=30s');
    const abort = new AbortController();
    const list = await env.client.list(pods, { namespace: 'default', labelSelector: 'app=rec' });
    const live = new Map<string, string>();
    for (const p of list.items) live.set(p.metadata!.name!, p.spec!.containers[0].image!);
    let mixed = false;
    const watching = env.client.watch(pods, { namespace: 'default', labelSelector: 'app=rec', resourceVersion: list.metadata.resourceVersion, signal: abort.signal }, (e) => {
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') live.delete(e.object.metadata!.name!); else live.set(e.object.metadata!.name!, e.object.spec!.containers[0].image!);
      if (new Set(live.values()).size > 1) mixed = true;
    });
    await ok('set', 'image', 'deployment/rec', 'app=nginx:2.0');
    await ok('rollout', 'status', 'deployment/rec', '--timeout=60s');
    abort.abort();
    await watching.catch(() => {});
    assert.equal(mixed, false, 'old and new pods never coexist');
    assert.deepEqual([...new Set(live.values())], ['nginx:2.0']);
  });

  it('cleans up ReplicaSets beyond revisionHistoryLimit', async () => {
    await env.ts.kubectl(['apply', '-f', '-'], manifest('hist', 1, 'nginx:1', { revisionHistoryLimit: 1 }));
    for (const tag of ['2', '3', '4']) {
      await ok('set', 'image', 'deployment/hist', `app=nginx:${tag}`);
      await ok('rollout', 'status', 'deployment/hist', '--timeout=30s');
    }
    await eventually('history trimmed', async () => (await env.client.list(replicasets, { namespace: 'default', labelSelector: 'app=hist' })).items.length === 2);
  });
});

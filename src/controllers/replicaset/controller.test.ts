import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { events, namespaces, pods, replicasets, isConflict } from '../../client/index.js';
import { startControllerEnv, eventually, type ControllerEnv } from '../../../test/controllers/env.js';

const rs = (name: string, replicas: number, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    ...extra,
  },
});

const activePods = async (env: ControllerEnv, app: string): Promise<Pod[]> =>
  (await env.client.list(pods, { namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);

describe('ReplicaSet controller', () => {
  let env: ControllerEnv;
  before(async () => { env = await startControllerEnv(); });
  after(async () => { await env.stop(); });

  it('creates replicas pods with owner references and reports status', async () => {
    await env.client.create(replicasets, rs('web', 3));
    const ready = await eventually('3 available', async () => {
      const cur = await env.client.get(replicasets, 'default', 'web');
      return cur.status?.availableReplicas === 3 && cur.status.readyReplicas === 3 && cur.status.fullyLabeledReplicas === 3 && cur.status.observedGeneration === cur.metadata?.generation ? cur : undefined;
    });
    const list = await activePods(env, 'web');
    assert.equal(list.length, 3);
    for (const p of list) {
      assert.match(p.metadata!.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      const ref = p.metadata!.ownerReferences![0];
      assert.deepEqual([ref.kind, ref.name, ref.uid, ref.controller, ref.blockOwnerDeletion], ['ReplicaSet', 'web', ready.metadata!.uid, true, true]);
    }
    const evs = await eventually('SuccessfulCreate events', async () => {
      const items = (await env.client.list(events, { namespace: 'default' })).items.filter((e) => e.involvedObject.name === 'web' && e.reason === 'SuccessfulCreate');
      return items.length === 3 ? items : undefined;
    });
    assert.match(evs[0].message!, /^Created pod: web-/);
    assert.equal(evs[0].source?.component, 'replicaset-controller');
  });

  it('replaces killed pods and deletes surplus after a scale-down', async () => {
    const before = await activePods(env, 'web');
    await env.client.delete(pods, 'default', before[0].metadata!.name!);
    await env.client.delete(pods, 'default', before[1].metadata!.name!);
    await eventually('replaced', async () => {
      const now = await activePods(env, 'web');
      return now.length === 3 && now.filter((p) => before.some((b) => b.metadata?.uid === p.metadata?.uid)).length === 1;
    });
    const cur = await env.client.get(replicasets, 'default', 'web');
    await env.client.update(replicasets, { ...cur, spec: { ...cur.spec!, replicas: 1 } });
    await eventually('scaled to 1', async () => (await activePods(env, 'web')).length === 1 && (await env.client.get(replicasets, 'default', 'web')).status?.replicas === 1);
    await eventually('SuccessfulDelete', async () => (await env.client.list(events, { namespace: 'default' })).items.some((e) => e.reason === 'SuccessfulDelete' && e.message?.startsWith('Deleted pod: web-')));
  });

  it('adopts matching orphans and releases pods that stop matching', async () => {
    await env.client.create(pods, { metadata: { name: 'orphan', namespace: 'default', labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const set = await env.client.create(replicasets, rs('adopt', 2));
    await eventually('adopted', async () => {
      const p = await env.client.get(pods, 'default', 'orphan');
      return p.metadata?.ownerReferences?.[0]?.uid === set.metadata?.uid;
    });
    await eventually('2 pods', async () => (await activePods(env, 'adopt')).length === 2);
    await env.client.patch(pods, 'default', 'orphan', { metadata: { labels: { app: 'gone' } } }, 'merge-patch');
    await eventually('released', async () => !(await env.client.get(pods, 'default', 'orphan')).metadata?.ownerReferences?.length);
    await eventually('replaced after release', async () => (await activePods(env, 'adopt')).length === 2);
    await env.client.delete(pods, 'default', 'orphan');
  });

  it('never creates more than replicas while its own creates are in flight', async () => {
    await env.client.create(replicasets, rs('burst', 20));
    const seen = new Set<string>();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const all = (await env.client.list(pods, { namespace: 'default', labelSelector: 'app=burst' })).items;
      for (const p of all) seen.add(p.metadata!.uid!);
      const cur = await env.client.get(replicasets, 'default', 'burst');
      if (cur.status?.availableReplicas === 20) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(seen.size, 20);
  });

  it('survives concurrent writers: a reconcile that hits 409 retries and converges', async () => {
    // Bump the ReplicaSet's resourceVersion repeatedly while it works, so its status writes conflict.
    await env.client.create(replicasets, rs('conflict', 5, { minReadySeconds: 1 }));
    for (let i = 0; i < 20; i++) {
      try {
        await env.client.patch(replicasets, 'default', 'conflict', { metadata: { annotations: { poke: String(i) } } }, 'merge-patch');
      } catch (err) { if (!isConflict(err)) throw err; }
      await new Promise((r) => setTimeout(r, 20));
    }
    await eventually('converged', async () => {
      const cur = await env.client.get(replicasets, 'default', 'conflict');
      return cur.status?.availableReplicas === 5 && cur.status.observedGeneration === cur.metadata?.generation;
    });
    assert.equal((await activePods(env, 'conflict')).length, 5);
  });

  it('reports ReplicaFailure and FailedCreate when the server refuses its pods', async () => {
    // A namespace stuck Terminating (no namespace controller here) refuses creates with 403.
    const local = await startControllerEnv({ manager: { controllers: ['replicaset'] } });
    try {
      await local.client.create(namespaces, { metadata: { name: 'doomed' } });
      const bad = rs('bad', 2);
      bad.metadata!.namespace = 'doomed';
      await local.client.create(replicasets, { ...bad, spec: { ...bad.spec!, replicas: 0 } });
      await local.client.delete(namespaces, undefined, 'doomed');
      await local.client.patch(replicasets, 'doomed', 'bad', { spec: { replicas: 2 } }, 'merge-patch');
      const cond = await eventually('ReplicaFailure', async () =>
        (await local.client.get(replicasets, 'doomed', 'bad')).status?.conditions?.find((c) => c.type === 'ReplicaFailure'));
      assert.equal(cond.status, 'True');
      assert.equal(cond.reason, 'FailedCreate');
      // (The FailedCreate event cannot be written either: the namespace refuses it too.)
    } finally {
      await local.stop();
    }
  });

  it('counts a pod available only minReadySeconds after it became ready', async () => {
    await env.client.create(replicasets, rs('slow', 2, { minReadySeconds: 2 }));
    await eventually('ready but not yet available', async () => {
      const cur = await env.client.get(replicasets, 'default', 'slow');
      return cur.status?.readyReplicas === 2 && (cur.status.availableReplicas ?? 0) === 0;
    });
    await eventually('available after minReadySeconds', async () => (await env.client.get(replicasets, 'default', 'slow')).status?.availableReplicas === 2, 10_000);
  });
});

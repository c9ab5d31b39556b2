import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type KubeObject, type ResourceDescriptor, configmaps, deployments, namespaces, nodes, pods, replicasets, replicationcontrollers } from '../../src/client/index.js';
import { startControllerEnv, eventually, type ControllerEnv } from './env.js';

const deploymentYaml = (name: string, namespace = 'default', replicas = 2) => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name, namespace },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
});

describe('garbage collection, namespaces, ReplicationControllers and pod GC with the real kubectl', () => {
  let env: ControllerEnv;
  before(async () => { env = await startControllerEnv(); });
  after(async () => { await env.stop(); });

  const ok = async (args: string[], input?: string) => {
    const r = await env.ts.kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const countOf = async (app: string, namespace = 'default') => ({
    rs: (await env.client.list(replicasets, { namespace, labelSelector: `app=${app}` })).items.length,
    pods: (await env.client.list(pods, { namespace, labelSelector: `app=${app}` })).items.length,
  });

  it('background (default): kubectl delete deployment leaves no ReplicaSet or pod', async () => {
    await ok(['apply', '-f', '-'], deploymentYaml('bg'));
    await ok(['rollout', 'status', 'deployment/bg', '--timeout=30s']);
    await ok(['delete', 'deployment', 'bg']);
    await eventually('all gone', async () => { const c = await countOf('bg'); return c.rs === 0 && c.pods === 0; });
  });

  it('orphan: --cascade=orphan keeps the ReplicaSet and pods, without the owner reference', async () => {
    await ok(['apply', '-f', '-'], deploymentYaml('orph'));
    await ok(['rollout', 'status', 'deployment/orph', '--timeout=30s']);
    await ok(['delete', 'deployment', 'orph', '--cascade=orphan']);
    await eventually('deployment gone', async () => !(await env.client.list(deployments, { namespace: 'default' })).items.some((d) => d.metadata?.name === 'orph'));
    await new Promise((r) => setTimeout(r, 500));
    const sets = (await env.client.list(replicasets, { namespace: 'default', labelSelector: 'app=orph' })).items;
    assert.equal(sets.length, 1);
    assert.ok(!sets[0].metadata?.ownerReferences?.length, 'owner reference removed');
    assert.equal((await countOf('orph')).pods, 2);
    await ok(['delete', 'rs', sets[0].metadata!.name!]);
    await eventually('pods follow their RS', async () => (await countOf('orph')).pods === 0);
  });

  it('foreground: --cascade=foreground deletes dependents before the owner', async () => {
    await ok(['apply', '-f', '-'], deploymentYaml('fg', 'default', 3));
    await ok(['rollout', 'status', 'deployment/fg', '--timeout=30s']);
    const r = await env.ts.kubectl(['delete', 'deployment', 'fg', '--cascade=foreground', '--wait=true', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    const c = await countOf('fg');
    assert.deepEqual(c, { rs: 0, pods: 0 }, 'dependents are gone once the owner is');
  });

  it('foreground through the API: the owner stays with its finalizer until its dependents are gone', async () => {
    await ok(['apply', '-f', '-'], deploymentYaml('fg2', 'default', 2));
    await ok(['rollout', 'status', 'deployment/fg2', '--timeout=30s']);
    // A blocking dependent the GC cannot delete at once: a configmap with a foreign finalizer.
    const d = await env.client.get(deployments, 'default', 'fg2');
    await env.client.create(configmaps, { metadata: { name: 'held', namespace: 'default', finalizers: ['test/hold'], ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'fg2', uid: d.metadata!.uid!, blockOwnerDeletion: true }] } });
    await env.client.delete(deployments, 'default', 'fg2', { propagationPolicy: 'Foreground' });
    await eventually('pods gone', async () => (await countOf('fg2')).pods === 0 && (await countOf('fg2')).rs === 0);
    const still = await env.client.get(deployments, 'default', 'fg2');
    assert.ok(still.metadata?.finalizers?.includes('foregroundDeletion'));
    const cm = await env.client.get(configmaps, 'default', 'held');
    assert.ok(cm.metadata?.deletionTimestamp, 'the blocking dependent is being deleted');
    await env.client.patch(configmaps, 'default', 'held', { metadata: { finalizers: null } }, 'merge-patch');
    await eventually('owner gone', async () => !(await env.client.list(deployments, { namespace: 'default' })).items.some((x) => x.metadata?.name === 'fg2'));
  });

  it('a ReplicationController scales up and down with kubectl scale', async () => {
    await env.client.create(replicationcontrollers, {
      metadata: { name: 'rc', namespace: 'default' },
      spec: { replicas: 2, selector: { app: 'rc' }, template: { metadata: { labels: { app: 'rc' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    const ready = (n: number) => eventually(`${n} ready`, async () => {
      const rc = await env.client.get(replicationcontrollers, 'default', 'rc');
      const live = (await env.client.list(pods, { namespace: 'default', labelSelector: 'app=rc' })).items.filter((p) => !p.metadata?.deletionTimestamp);
      return rc.status?.readyReplicas === n && rc.status.availableReplicas === n && live.length === n;
    });
    await ready(2);
    await ok(['scale', 'rc/rc', '--replicas=5']);
    await ready(5);
    await ok(['scale', 'rc/rc', '--replicas=1']);
    await ready(1);
    const p = (await env.client.list(pods, { namespace: 'default', labelSelector: 'app=rc' })).items[0];
    assert.equal(p.metadata?.ownerReferences?.[0].kind, 'ReplicationController');
    await ok(['delete', 'rc', 'rc']);
    await eventually('rc pods gone', async () => (await env.client.list(pods, { namespace: 'default', labelSelector: 'app=rc' })).items.length === 0);
  });

  it('kubectl delete namespace returns, and everything in it is gone', async () => {
    await ok(['create', 'namespace', 'team']);
    await ok(['apply', '-f', '-'], deploymentYaml('app', 'team', 3));
    await ok(['-n', 'team', 'create', 'configmap', 'settings', '--from-literal=a=b']);
    await ok(['-n', 'team', 'rollout', 'status', 'deployment/app', '--timeout=30s']);
    const r = await env.ts.kubectl(['delete', 'namespace', 'team', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    const names = (await env.client.list(namespaces)).items.map((n) => n.metadata?.name);
    assert.ok(!names.includes('team'));
    for (const res of [pods, replicasets, deployments, configmaps] as ResourceDescriptor<KubeObject>[]) {
      assert.equal((await env.client.list(res, { namespace: 'team' })).items.length, 0, res.resource);
    }
  });

  it('pod GC deletes pods bound to a node that does not exist', async () => {
    await env.client.create(nodes, { metadata: { name: 'ghost' } });
    await env.client.create(pods, { metadata: { name: 'on-ghost', namespace: 'default' }, spec: { nodeName: 'ghost', containers: [{ name: 'c', image: 'nginx' }] } });
    await env.client.delete(nodes, undefined, 'ghost');
    await eventually('orphaned pod deleted', async () => !(await env.client.list(pods, { namespace: 'default' })).items.some((p) => p.metadata?.name === 'on-ghost'), 15_000);
  });

  it('pod GC deletes the oldest terminated pods beyond --terminated-pod-gc-threshold', async () => {
    const local = await startControllerEnv({ manager: { controllers: ['podgc'], podGC: { terminatedPodGcThreshold: 2, periodMs: 200, quarantineMs: 1000 } }, kubelet: false });
    try {
      for (let i = 0; i < 4; i++) {
        const p = await local.client.create(pods, { metadata: { name: `done-${i}`, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
        await local.client.updateStatus(pods, { ...p, status: { phase: 'Failed' } });
        await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has second precision
      }
      const left = await eventually('2 left', async () => {
        const names = (await local.client.list(pods, { namespace: 'default' })).items.map((p) => p.metadata!.name!).sort();
        return names.length === 2 ? names : undefined;
      });
      assert.deepEqual(left, ['done-2', 'done-3']);
    } finally {
      await local.stop();
    }
  });
});

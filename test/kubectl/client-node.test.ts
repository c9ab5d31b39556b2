import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The official JavaScript client, unmodified, against bosun. */
describe('@kubernetes/client-node against bosun', () => {
  let ts: TestServer;
  let kc: k8s.KubeConfig;

  before(async () => {
    ts = await startTestServer();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(ts.kubeconfig);
  });
  after(async () => { await ts.stop(); });

  it('creates and lists pods with a label selector', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const [name, app] of [['a', 'web'], ['b', 'web'], ['c', 'db']]) {
      await core.createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name, labels: { app } }, spec: { containers: [{ name: 'main', image: '127.0.0.1:5000/busybox:1' }] } },
      });
    }
    const web = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
    assert.deepEqual(web.items.map((p) => p.metadata?.name).sort(), ['a', 'b']);
    assert.equal(web.items[0].spec?.restartPolicy, 'Always');
    const all = await core.listPodForAllNamespaces();
    assert.equal(all.items.length, 3);
    const ns = await core.listNamespace();
    assert.deepEqual(ns.items.map((n) => n.metadata?.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('reports a missing object as a 404 ApiException', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await assert.rejects(core.readNamespacedPod({ namespace: 'default', name: 'nope' }), (err: unknown) => {
      assert.ok(err instanceof k8s.ApiException);
      assert.equal(err.code, 404);
      return true;
    });
  });

  it('watches: sees a later add, change and delete in order', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const controller = await watch.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: list.metadata?.resourceVersion },
      (type: string, obj: k8s.V1ConfigMap) => { events.push(`${type} ${obj.metadata?.name} ${obj.data?.k ?? ''}`.trim()); },
      () => {});
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'w' }, data: { k: '1' } } });
      await core.patchNamespacedConfigMap({ namespace: 'default', name: 'w', body: { data: { k: '2' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'w' });
      const deadline = Date.now() + 10_000;
      while (events.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(events, ['ADDED w 1', 'MODIFIED w 2', 'DELETED w 2']);
    } finally {
      controller.abort();
    }
  });

  it('runs an informer (list + watch) that follows changes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default' }));
    const added: string[] = [];
    informer.on('add', (pod: k8s.V1Pod) => added.push(pod.metadata!.name!));
    await informer.start();
    try {
      await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'late' }, spec: { containers: [{ name: 'main', image: '127.0.0.1:5000/busybox:1' }] } } });
      const deadline = Date.now() + 10_000;
      while (!added.includes('late') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(added.includes('late'), `informer saw ${added.join(',')}`);
      assert.deepEqual(informer.list().map((p) => p.metadata?.name).sort(), ['a', 'b', 'c', 'late']);
    } finally {
      await informer.stop();
    }
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Client, events, leases, pods, replicasets } from '../../src/client/index.js';
import { controllerManagerLoop } from '../../src/controllers/index.js';
import { runControlLoops } from '../../src/server/control-plane.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { FakeKubelet } from '../helpers/fake-kubelet.js';
import { eventually } from './env.js';

describe('two controller-managers under leader election', () => {
  let ts: TestServer;
  let client: Client;
  let kubelet: FakeKubelet;
  before(async () => {
    ts = await startTestServer();
    client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
    kubelet = new FakeKubelet(client);
    await kubelet.start();
  });
  after(async () => { await kubelet.stop(); client.close(); await ts.stop(); });

  it('never both act, and the other takes over when the leader stops', async () => {
    const timings = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };
    const a = new AbortController();
    const b = new AbortController();
    const clientA = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0, userAgent: 'manager-a' });
    const clientB = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0, userAgent: 'manager-b' });
    const runA = runControlLoops([controllerManagerLoop], clientA, { signal: a.signal, metrics: new Registry(), identity: 'manager-a', timings, log: () => {} });
    const runB = runControlLoops([controllerManagerLoop], clientB, { signal: b.signal, metrics: new Registry(), identity: 'manager-b', timings, log: () => {} });
    try {
      const leader = await eventually('a leader', async () => (await client.get(leases, 'kube-system', 'bosun-controller-manager')).spec?.holderIdentity);
      await client.create(replicasets, {
        metadata: { name: 'le', namespace: 'default' },
        spec: { replicas: 10, selector: { matchLabels: { app: 'le' } }, template: { metadata: { labels: { app: 'le' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      });
      await eventually('10 available', async () => (await client.get(replicasets, 'default', 'le')).status?.availableReplicas === 10);
      await new Promise((r) => setTimeout(r, 500));
      // Two active managers would both have created pods: exactly 10 were ever made.
      const created = (await client.list(events, { namespace: 'default' })).items.filter((e) => e.reason === 'SuccessfulCreate' && e.involvedObject.name === 'le');
      assert.equal(created.reduce((n, e) => n + (e.count ?? 1), 0), 10);
      assert.equal((await client.list(pods, { namespace: 'default', labelSelector: 'app=le' })).items.length, 10);

      // The leader steps down: the other takes over and keeps reconciling.
      (leader === 'manager-a' ? a : b).abort();
      await eventually('new leader', async () => {
        const holder = (await client.get(leases, 'kube-system', 'bosun-controller-manager')).spec?.holderIdentity;
        return holder && holder !== leader;
      }, 15_000);
      await client.patch(replicasets, 'default', 'le', { spec: { replicas: 3 } }, 'merge-patch');
      await eventually('scaled by the new leader', async () => (await client.list(pods, { namespace: 'default', labelSelector: 'app=le' })).items.filter((p) => !p.metadata?.deletionTimestamp).length === 3);
    } finally {
      a.abort();
      b.abort();
      await Promise.all([runA, runB]);
      clientA.close();
      clientB.close();
    }
  });
});

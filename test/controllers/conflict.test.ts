import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, deployments, isConflict, loadKubeconfig, pods, replicasets, type KubeObject, type ResourceDescriptor, type WriteOptions } from '../../src/client/index.js';
import { ControllerManager } from '../../src/controllers/index.js';
import { FakeKubelet } from '../helpers/fake-kubelet.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from './env.js';

/**
 * Makes the controllers' first status writes stale for real: just before
 * each of them, someone else writes the object, so the server answers 409.
 */
class RacingClient extends Client {
  raced = 0;
  conflicts = 0;
  override async updateStatus<T extends KubeObject>(res: ResourceDescriptor<T>, obj: T, opts?: WriteOptions): Promise<T> {
    if (this.raced < 6) {
      this.raced++;
      await this.patch(res, obj.metadata?.namespace, obj.metadata!.name!, { metadata: { annotations: { 'test/race': String(this.raced) } } }, 'merge-patch');
    }
    try {
      return await super.updateStatus(res, obj, opts);
    } catch (err) {
      if (isConflict(err)) this.conflicts++;
      throw err;
    }
  }
}

describe('conflicts', () => {
  let ts: TestServer;
  let client: Client;
  let racing: RacingClient;
  let kubelet: FakeKubelet;
  const abort = new AbortController();
  let running: Promise<void>;
  before(async () => {
    ts = await startTestServer();
    client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
    racing = new RacingClient({ ...(await loadKubeconfig(ts.kubeconfig, {})), qps: 0 });
    kubelet = new FakeKubelet(client);
    await kubelet.start();
    running = new ControllerManager(racing, { controllers: ['replicaset', 'deployment'], log: () => {} }).run(abort.signal);
  });
  after(async () => { abort.abort(); await running; await kubelet.stop(); racing.close(); client.close(); await ts.stop(); });

  it('a reconcile that hits 409 Conflict retries and converges', async () => {
    await client.create(deployments, {
      metadata: { name: 'racy', namespace: 'default' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'racy' } }, template: { metadata: { labels: { app: 'racy' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    await eventually('converged', async () => {
      const d = await client.get(deployments, 'default', 'racy');
      return d.status?.availableReplicas === 3 && d.status.updatedReplicas === 3 && d.status.observedGeneration === d.metadata?.generation;
    });
    assert.ok(racing.conflicts > 0, 'the server did answer 409');
    const sets = (await client.list(replicasets, { namespace: 'default' })).items;
    assert.equal(sets.length, 1);
    assert.equal(sets[0].status?.availableReplicas, 3);
    assert.equal((await client.list(pods, { namespace: 'default' })).items.length, 3, 'no pod created twice');
  });
});

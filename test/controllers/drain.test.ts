import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Status } from 'kubernetes-types/meta/v1';
import { ApiError, Client, deployments, nodes, poddisruptionbudgets, pods } from '../../src/client/index.js';
import { eventually, startHollowEnv } from './env.js';

const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

const startEnv = () => startHollowEnv({ controllers: ['replicaset', 'deployment', 'disruption'], nodes: 3, zones: 1 });

const webPods = async (client: Client): Promise<Pod[]> =>
  (await client.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items;
const isReady = (p: Pod): boolean => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

const deployment: Deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: 3, selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9' }], terminationGracePeriodSeconds: 1 },
    },
  },
};

/** POST pods/<name>/eviction as kubectl drain does; the Status of the answer. */
async function evict(client: Client, name: string): Promise<{ code: number; status: Status }> {
  try {
    const status = await client.request({
      method: 'POST', path: `/api/v1/namespaces/default/pods/${name}/eviction`,
      json: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } },
    }) as Status;
    return { code: 201, status };
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, status: err.status };
    throw err;
  }
}

test('kubectl cordon, uncordon, create pdb, get pdb and drain honouring the budget', async (t) => {
  const env = await startEnv();
  const { ts, client } = env;
  try {
    await t.test('cordon sets spec.unschedulable and the scheduler keeps new pods off; uncordon clears it', async () => {
      for (const n of ['hollow-0', 'hollow-2']) {
        const r = await ts.kubectl(['cordon', n]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`node/${n} cordoned`));
        assert.equal((await client.get(nodes, undefined, n)).spec?.unschedulable, true);
      }
      await client.create(deployments, deployment);
      const placed = await eventually('3 ready web pods', async () => {
        const ps = (await webPods(client)).filter(isReady);
        return ps.length === 3 ? ps : undefined;
      }, 30_000);
      assert.deepEqual(placed.map((p) => p.spec?.nodeName), ['hollow-1', 'hollow-1', 'hollow-1']);
      for (const n of ['hollow-0', 'hollow-2']) {
        const r = await ts.kubectl(['uncordon', n]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`node/${n} uncordoned`));
        assert.equal((await client.get(nodes, undefined, n)).spec?.unschedulable, undefined);
      }
    });

    await t.test('kubectl create pdb; the disruption controller fills its status; kubectl get pdb prints it', async () => {
      const r = await ts.kubectl(['create', 'pdb', 'web', '--selector=app=web', '--min-available=2']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /poddisruptionbudget\.policy\/web created/);
      const pdb = await eventually('the budget to allow one disruption', async () => {
        const p = await client.get(poddisruptionbudgets, 'default', 'web');
        return p.status?.disruptionsAllowed === 1 ? p : undefined;
      });
      assert.equal(pdb.status?.currentHealthy, 3);
      assert.equal(pdb.status?.desiredHealthy, 2);
      assert.equal(pdb.status?.expectedPods, 3);
      assert.equal(pdb.status?.observedGeneration, pdb.metadata?.generation);
      const cond = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
      assert.equal(cond?.status, 'True');
      assert.equal(cond?.reason, 'SufficientPods');

      const get = await ts.kubectl(['get', 'pdb']);
      assert.equal(get.code, 0, get.stderr);
      const [header, row] = get.stdout.trim().split('\n');
      assert.deepEqual(header!.split(/\s{2,}/), ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
      assert.deepEqual(row!.split(/\s+/).slice(0, 4), ['web', '2', 'N/A', '1']);

      const bad = await ts.kubectl(['create', '-f', '-'], JSON.stringify({
        apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'bad' },
        spec: { minAvailable: 1, maxUnavailable: '10%', selector: { matchLabels: { app: 'web' } } },
      }));
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /minAvailable and maxUnavailable cannot be both set/);
    });

    await t.test('kubectl drain evicts one pod at a time, waiting for each replacement to be ready elsewhere', async () => {
      // Watch that the budget holds while kubectl works: never fewer than 2 ready pods.
      let minReady = 3;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          minReady = Math.min(minReady, (await webPods(client)).filter(isReady).length);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const r = await ts.kubectl(['drain', 'hollow-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s']);
      watching = false;
      await watcher;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /node\/hollow-1 cordoned/);
      assert.equal(r.stdout.match(/evicted/g)?.length, 3, r.stdout);
      assert.match(r.stdout, /node\/hollow-1 drained/);
      // Three pods asked at once, one allowed: the others were told to come back.
      assert.ok(r.stderr.includes(VIOLATION), r.stderr);
      assert.ok(minReady >= 2, `ready pods fell to ${minReady}`);
      assert.equal((await client.get(nodes, undefined, 'hollow-1')).spec?.unschedulable, true);
      const after = await eventually('3 ready web pods off hollow-1', async () => {
        const ps = (await webPods(client)).filter(isReady);
        return ps.length === 3 ? ps : undefined;
      });
      assert.ok(after.every((p) => p.spec?.nodeName !== 'hollow-1'));
      const evictedCondition = await eventually('budget back to one disruption', async () => {
        const p = await client.get(poddisruptionbudgets, 'default', 'web');
        return p.status?.disruptionsAllowed === 1 ? p : undefined;
      });
      assert.deepEqual(evictedCondition.status?.disruptedPods ?? {}, {});
    });

    await t.test('kubectl drain --dry-run=server evicts nothing', async () => {
      const before = (await webPods(client)).map((p) => p.metadata?.uid).sort();
      const node = (await webPods(client))[0]!.spec!.nodeName!;
      const r = await ts.kubectl(['drain', node, '--ignore-daemonsets', '--dry-run=server', '--timeout=10s']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /evicting pod default\/web-\S+ \(server dry run\)/);
      assert.deepEqual((await webPods(client)).map((p) => p.metadata?.uid).sort(), before);
      assert.equal((await client.get(poddisruptionbudgets, 'default', 'web')).status?.disruptionsAllowed, 1);
      assert.equal((await client.get(nodes, undefined, node)).spec?.unschedulable, undefined);
    });

    await t.test('a budget of minAvailable = replicas blocks the drain with the 429', async () => {
      const patch = await ts.kubectl(['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":3}}']);
      assert.equal(patch.code, 0, patch.stderr);
      const pdb = await eventually('the budget to allow none', async () => {
        const p = await client.get(poddisruptionbudgets, 'default', 'web');
        return p.status?.observedGeneration === 2 && p.status.disruptionsAllowed === 0 ? p : undefined;
      });
      assert.equal(pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed')?.reason, 'InsufficientPods');

      const ps = await webPods(client);
      const victim = ps[0]!;
      const answer = await evict(client, victim.metadata!.name!);
      assert.equal(answer.code, 429);
      assert.equal(answer.status.reason, 'TooManyRequests');
      assert.equal(answer.status.message, VIOLATION);
      assert.deepEqual(answer.status.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 3 healthy pods and has 3 currently' }]);

      const node = victim.spec!.nodeName!;
      const r = await ts.kubectl(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=6s']);
      assert.notEqual(r.code, 0);
      assert.ok(r.stderr.includes(VIOLATION), r.stderr);
      const still = (await webPods(client)).filter(isReady);
      assert.equal(still.length, 3);
      assert.ok(still.some((p) => p.metadata?.uid === victim.metadata?.uid), 'the pod was not evicted');
    });

    await t.test('a pod under two budgets cannot be evicted (500); a pending pod is evicted without asking', async () => {
      await client.create(poddisruptionbudgets, {
        apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web-2', namespace: 'default' },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
      });
      const victim = (await webPods(client))[0]!;
      const answer = await evict(client, victim.metadata!.name!);
      assert.equal(answer.code, 500);
      assert.equal(answer.status.message, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
      // maxUnavailable counts from the owner's scale: the ReplicaSet's Deployment, 3 replicas.
      const second = await eventually('web-2 status', async () => {
        const p = await client.get(poddisruptionbudgets, 'default', 'web-2');
        return p.status?.observedGeneration === 1 ? p : undefined;
      });
      assert.deepEqual([second.status?.expectedPods, second.status?.desiredHealthy, second.status?.currentHealthy, second.status?.disruptionsAllowed], [3, 2, 3, 1]);
      await client.delete(poddisruptionbudgets, 'default', 'web-2');

      // No node fits it: Pending, so it has disrupted nothing yet.
      await client.create(pods, {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending', namespace: 'default', labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9' }], nodeSelector: { nowhere: 'true' } },
      });
      const ok = await evict(client, 'pending');
      assert.equal(ok.code, 201);
      assert.equal(ok.status.status, 'Success');
      await eventually('the pending pod gone', async () => !(await webPods(client)).some((p) => p.metadata?.name === 'pending'));
    });
  } finally {
    await env.stop();
  }
});

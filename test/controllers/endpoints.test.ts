import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { Client, deployments, endpoints, endpointslices, isNotFound, pods, services } from '../../src/client/index.js';
import { computeSubsets } from '../../src/controllers/endpoints/controller.js';
import { eventually, startHollowEnv } from './env.js';

const startEnv = () => startHollowEnv({ controllers: ['replicaset', 'deployment', 'garbagecollector', 'endpoint', 'endpointslice'], nodes: 5, zones: 2 });

const deployment = (replicas: number): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas, selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', ports: [{ name: 'http', containerPort: 8080 }] }],
        terminationGracePeriodSeconds: 0,
      },
    },
  },
});

const service: Service = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', labels: { tier: 'front' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
};

const webPods = async (client: Client): Promise<Pod[]> =>
  (await client.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items;
const isReady = (p: Pod): boolean => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const slicesOf = async (client: Client, svc: string): Promise<EndpointSlice[]> =>
  (await client.list(endpointslices, { namespace: 'default', labelSelector: `kubernetes.io/service-name=${svc}` })).items;
const getEndpoints = async (client: Client, name: string): Promise<Endpoints | undefined> => {
  try { return await client.get(endpoints, 'default', name); } catch (err) { if (isNotFound(err)) return undefined; throw err; }
};
const readyCount = (ep: Endpoints | undefined): number => (ep?.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
const sliceEndpoints = (slices: EndpointSlice[]): number => slices.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);

test('Endpoints and EndpointSlices follow a Service\'s pods', async (t) => {
  const env = await startEnv();
  const { ts, client } = env;
  try {
    await t.test('three ready pods behind web: kubectl shows three IP:8080 endpoints and one slice', async () => {
      await client.create(deployments, deployment(3));
      const ready = await eventually('3 ready web pods', async () => {
        const ps = (await webPods(client)).filter(isReady);
        return ps.length === 3 ? ps : undefined;
      }, 30_000);
      await client.create(services, service);
      const ips = ready.map((p) => p.status!.podIP!).sort();

      const ep = await eventually('3 ready addresses', async () => {
        const e = await getEndpoints(client, 'web');
        return readyCount(e) === 3 ? e : undefined;
      });
      assert.equal(ep.subsets?.length, 1);
      assert.deepEqual(ep.subsets![0]!.ports, [{ name: 'web', port: 8080, protocol: 'TCP' }]);
      assert.deepEqual(ep.subsets![0]!.addresses!.map((a) => a.ip).sort(), ips);
      for (const a of ep.subsets![0]!.addresses!) {
        const pod = ready.find((p) => p.status?.podIP === a.ip)!;
        assert.equal(a.nodeName, pod.spec?.nodeName);
        assert.deepEqual(a.targetRef, { kind: 'Pod', namespace: 'default', name: pod.metadata?.name, uid: pod.metadata?.uid });
      }
      assert.equal(ep.metadata?.labels?.tier, 'front');
      const get = await ts.kubectl(['get', 'endpoints', 'web']);
      assert.equal(get.code, 0, get.stderr);
      const row = get.stdout.trim().split('\n')[1]!.split(/\s+/);
      assert.equal(row[0], 'web');
      assert.deepEqual(row[1]!.split(',').sort(), ips.map((ip) => `${ip}:8080`).sort());

      const slices = await eventually('one slice of 3 ready endpoints', async () => {
        const ss = await slicesOf(client, 'web');
        return ss.length === 1 && ss[0]!.endpoints?.length === 3 && ss[0]!.endpoints.every((e) => e.conditions?.ready) ? ss : undefined;
      });
      const s = slices[0]!;
      assert.match(s.metadata!.name!, /^web-[a-z0-9]+$/);
      assert.equal(s.addressType, 'IPv4');
      assert.equal(s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
      assert.equal(s.metadata?.labels?.tier, 'front');
      const svc = await client.get(services, 'default', 'web');
      assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
      assert.deepEqual(s.ports, [{ name: 'web', port: 8080, protocol: 'TCP' }]);
      for (const e of s.endpoints!) {
        const pod = ready.find((p) => p.metadata?.uid === e.targetRef?.uid)!;
        assert.deepEqual(e.addresses, [pod.status?.podIP]);
        assert.deepEqual(e.conditions, { ready: true, serving: true, terminating: false });
        assert.equal(e.nodeName, pod.spec?.nodeName);
        assert.match(e.zone ?? '', /./, 'zone from the node label');
      }
      const kget = await ts.kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
      assert.equal(kget.code, 0, kget.stderr);
      const lines = kget.stdout.trim().split('\n');
      assert.equal(lines.length, 2, kget.stdout);
      assert.match(lines[1]!, /^web-\S+\s+IPv4\s+8080\s+/);
    });

    await t.test('a pod made not ready moves to notReadyAddresses and ready=false in its slice', async () => {
      const victim = (await webPods(client)).filter(isReady)[0]!;
      await client.patch(pods, 'default', victim.metadata!.name!, { metadata: { annotations: { 'sim.bosun.io/ready': 'false' } } }, 'merge-patch');
      const ep = await eventually('one not-ready address', async () => {
        const e = await getEndpoints(client, 'web');
        return e?.subsets?.[0]?.notReadyAddresses?.length === 1 && readyCount(e) === 2 ? e : undefined;
      });
      assert.equal(ep.subsets![0]!.notReadyAddresses![0]!.ip, victim.status?.podIP);
      const slice = await eventually('ready=false in the slice', async () => {
        const ss = await slicesOf(client, 'web');
        const e = ss[0]?.endpoints?.find((x) => x.targetRef?.uid === victim.metadata?.uid);
        return e?.conditions?.ready === false ? ss : undefined;
      });
      assert.equal(slice.length, 1);
      const e = slice[0]!.endpoints!.find((x) => x.targetRef?.uid === victim.metadata?.uid)!;
      assert.deepEqual(e.conditions, { ready: false, serving: false, terminating: false });

      // publishNotReadyAddresses: every pod counts as ready.
      await client.patch(services, 'default', 'web', { spec: { publishNotReadyAddresses: true } }, 'merge-patch');
      await eventually('all 3 ready again by publishNotReadyAddresses', async () => {
        const e2 = await getEndpoints(client, 'web');
        const ss = await slicesOf(client, 'web');
        return readyCount(e2) === 3 && !e2?.subsets?.[0]?.notReadyAddresses && ss[0]?.endpoints?.every((x) => x.conditions?.ready) === true;
      });
      await client.patch(services, 'default', 'web', { spec: { publishNotReadyAddresses: false } }, 'merge-patch');
      await client.patch(pods, 'default', victim.metadata!.name!, { metadata: { annotations: { 'sim.bosun.io/ready': 'true' } } }, 'merge-patch');
      await eventually('3 ready again', async () => readyCount(await getEndpoints(client, 'web')) === 3);
    });

    await t.test('a numeric targetPort and a port no pod names: pods resolve per port', async () => {
      await client.patch(services, 'default', 'web', { spec: { ports: [{ name: 'web', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9090, targetPort: 9100 }] } }, 'merge-patch');
      const ep = await eventually('two ports in one subset', async () => {
        const e = await getEndpoints(client, 'web');
        return e?.subsets?.length === 1 && e.subsets[0]!.ports?.length === 2 ? e : undefined;
      });
      assert.deepEqual(ep.subsets![0]!.ports, [{ name: 'metrics', port: 9100, protocol: 'TCP' }, { name: 'web', port: 8080, protocol: 'TCP' }]);
      await client.patch(services, 'default', 'web', { spec: { ports: [{ name: 'web', port: 80, targetPort: 'http' }] } }, 'merge-patch');
      await eventually('back to one port', async () => (await getEndpoints(client, 'web'))?.subsets?.[0]?.ports?.length === 1
        && (await slicesOf(client, 'web')).every((s) => s.ports?.length === 1));
    });

    await t.test('150 replicas: two slices, none over 100; scaling down shrinks them', async () => {
      await client.patch(deployments, 'default', 'web', { spec: { replicas: 150 } }, 'merge-patch');
      const slices = await eventually('150 endpoints in slices', async () => {
        const ss = await slicesOf(client, 'web');
        return sliceEndpoints(ss) === 150 && ss.every((s) => s.endpoints?.every((e) => e.conditions?.ready)) ? ss : undefined;
      }, 40_000, 200);
      assert.equal(slices.length, 2);
      assert.ok(slices.every((s) => (s.endpoints?.length ?? 0) <= 100), slices.map((s) => s.endpoints?.length).join(','));
      assert.equal(readyCount(await eventually('150 addresses', async () => {
        const e = await getEndpoints(client, 'web');
        return readyCount(e) === 150 ? e : undefined;
      })), 150);
      // No endpoint in two slices.
      const uids = slices.flatMap((s) => s.endpoints!.map((e) => e.targetRef?.uid));
      assert.equal(new Set(uids).size, 150);

      await client.patch(deployments, 'default', 'web', { spec: { replicas: 5 } }, 'merge-patch');
      const after = await eventually('5 endpoints', async () => {
        const ss = await slicesOf(client, 'web');
        return sliceEndpoints(ss) === 5 ? ss : undefined;
      }, 40_000, 200);
      assert.ok(after.length <= 2);
      await eventually('5 addresses', async () => readyCount(await getEndpoints(client, 'web')) === 5);
    });

    await t.test('a slice or the Endpoints deleted by hand comes back', async () => {
      for (const s of await slicesOf(client, 'web')) await client.delete(endpointslices, 'default', s.metadata!.name!);
      await client.delete(endpoints, 'default', 'web');
      await eventually('5 endpoints again', async () => sliceEndpoints(await slicesOf(client, 'web')) === 5
        && readyCount(await getEndpoints(client, 'web')) === 5);
    });

    await t.test('a Service selecting no pod: empty Endpoints and one placeholder slice', async () => {
      await client.create(services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'lonely', namespace: 'default' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } });
      const ep = await eventually('Endpoints for lonely', async () => getEndpoints(client, 'lonely'));
      assert.deepEqual(ep.subsets ?? [], []);
      const ss = await eventually('a placeholder slice', async () => { const x = await slicesOf(client, 'lonely'); return x.length === 1 ? x : undefined; });
      assert.deepEqual(ss[0]!.endpoints ?? [], []);
      await client.delete(services, 'default', 'lonely');
      await eventually('lonely gone', async () => (await getEndpoints(client, 'lonely')) === undefined && (await slicesOf(client, 'lonely')).length === 0);
    });

    await t.test('a selector-less Service keeps its hand-made Endpoints', async () => {
      await client.create(services, {
        apiVersion: 'v1', kind: 'Service', metadata: { name: 'external', namespace: 'default' },
        spec: { ports: [{ name: 'db', port: 5432 }] },
      });
      await client.create(endpoints, {
        apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external', namespace: 'default' },
        subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'db', port: 5432 }] }],
      });
      const before = (await getEndpoints(client, 'external'))!;
      // Touch the Service so both controllers sync it.
      await client.patch(services, 'default', 'external', { metadata: { labels: { touched: 'yes' } } }, 'merge-patch');
      await new Promise((r) => setTimeout(r, 1000));
      const ep = (await getEndpoints(client, 'external'))!;
      assert.equal(ep.metadata?.resourceVersion, before.metadata?.resourceVersion);
      assert.deepEqual(ep.subsets?.[0]?.addresses?.map((a) => a.ip), ['192.0.2.10']);
      assert.equal((await slicesOf(client, 'external')).length, 0);
      await client.delete(services, 'default', 'external');
    });

    await t.test('deleting the Service removes its Endpoints and slices', async () => {
      await client.delete(services, 'default', 'web');
      await eventually('no Endpoints and no slices for web', async () =>
        (await getEndpoints(client, 'web')) === undefined && (await slicesOf(client, 'web')).length === 0);
      await client.delete(deployments, 'default', 'web', { propagationPolicy: 'Foreground' });
      await eventually('the Deployment and its pods gone', async () =>
        (await client.list(deployments, { namespace: 'default' })).items.length === 0 && (await webPods(client)).length === 0, 30_000, 200);
    });
  } finally {
    await env.stop();
  }
});

const podAt = (name: string, ip: string, opts: { ready?: boolean; terminating?: boolean; port?: number } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, ...(opts.terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { nodeName: 'n1', containers: [{ name: 'app', ports: opts.port ? [{ name: 'http', containerPort: opts.port }] : [] }] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});

test('computeSubsets: a subset per port resolution; terminating pods only with publishNotReadyAddresses', () => {
  const ps = [podAt('a', '10.0.0.1', { port: 8080 }), podAt('b', '10.0.0.2', { port: 9090 }), podAt('c', '10.0.0.3', { port: 8080, ready: false }),
    podAt('d', '10.0.0.4', { port: 8080, terminating: true }), podAt('e', '10.0.0.5')];
  const { subsets, truncated } = computeSubsets(service, ps);
  assert.equal(truncated, false);
  assert.deepEqual(subsets.map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses?.map((a) => a.ip), s.ports?.[0]?.port]), [
    [['10.0.0.1'], ['10.0.0.3'], 8080],
    [['10.0.0.2'], undefined, 9090],
  ]);
  const publish = computeSubsets({ ...service, spec: { ...service.spec, publishNotReadyAddresses: true } }, ps);
  assert.deepEqual(publish.subsets[0]!.addresses!.map((a) => a.ip), ['10.0.0.1', '10.0.0.3', '10.0.0.4']);
});

test('computeSubsets: over 1000 addresses is truncated, ready ones kept first', () => {
  const ps: Pod[] = [];
  for (let i = 0; i < 1200; i++) ps.push(podAt(`p${i}`, `10.1.${i >> 8}.${i & 255}`, { port: 8080, ready: i < 900 }));
  const { subsets, truncated } = computeSubsets(service, ps);
  assert.equal(truncated, true);
  assert.equal(subsets[0]!.addresses!.length, 900);
  assert.equal(subsets[0]!.notReadyAddresses!.length, 100);
});

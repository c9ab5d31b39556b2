import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1';
import { Client, events, nodes, pods, replicasets } from '../../src/client/index.js';
import { ControllerManager } from '../../src/controllers/index.js';
import { Scheduler } from '../../src/scheduler/index.js';
import { startHollowNodes, type HollowCluster } from '../../src/sim/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from './env.js';

const UNREACHABLE = 'node.kubernetes.io/unreachable';
const NOT_READY = 'node.kubernetes.io/not-ready';
const GRACE_MS = 2000;

/** Explicit tolerations, so the test does not depend on the DefaultTolerationSeconds admission. */
const tolerateFor = (seconds?: number): Toleration[] => [UNREACHABLE, NOT_READY].map((key) => ({
  key, operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }),
}));

const podSpec = (tolerations: Toleration[], nodeName?: string): Pod['spec'] => ({
  containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9' }], tolerations, terminationGracePeriodSeconds: 1, ...(nodeName ? { nodeName } : {}),
});

interface Env { ts: TestServer; client: Client; hollow: HollowCluster; logs: string[]; stop(): Promise<void> }

async function startEnv(count: number, zones: number, prefix: string): Promise<Env> {
  const ts = await startTestServer();
  const client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
  const abort = new AbortController();
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  const manager = new ControllerManager(client, {
    controllers: ['replicaset', 'nodelifecycle'], log,
    nodeLifecycle: { nodeMonitorGracePeriodMs: GRACE_MS, nodeMonitorPeriodMs: 200, nodeEvictionRate: 100, nodeEvictionPeriodMs: 50 },
  });
  const running = manager.run(abort.signal);
  const scheduler = new Scheduler({ client, log });
  const scheduling = scheduler.run(abort.signal);
  const hollow = await startHollowNodes({
    client, count, zones, namePrefix: prefix, leaseRenewIntervalMs: 200, statusUpdateIntervalMs: 500, maxDeletionGraceMs: 200, log,
  });
  return {
    ts, client, hollow, logs,
    async stop() {
      abort.abort();
      await Promise.all([running, scheduling]);
      await hollow.stop();
      client.close();
      await ts.stop();
      if (process.env.BOSUN_TEST_LOGS) for (const l of logs) console.error(l);
    },
  };
}

const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready');
const has = (n: Node, key: string, effect: string): Taint | undefined => n.spec?.taints?.find((t) => t.key === key && t.effect === effect);
const getNode = (client: Client, name: string) => client.get(nodes, undefined, name);
const listPods = async (client: Client) => (await client.list(pods, { namespace: 'default' })).items;

test('a silent node turns Unknown and tainted; its pods are evicted and replaced elsewhere; it recovers untainted', async () => {
  const env = await startEnv(4, 1, 'nl-');
  const { client, hollow } = env;
  try {
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 8, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: podSpec(tolerateFor(1)) } },
    };
    await client.create(replicasets, rs);
    const running = await eventually('8 web pods running', async () => {
      const ps = (await listPods(client)).filter((p) => p.metadata?.labels?.app === 'web' && p.status?.phase === 'Running');
      return ps.length === 8 ? ps : undefined;
    }, 20_000);
    // The node with the most replicas is the one to lose.
    const perNode = new Map<string, number>();
    for (const p of running) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
    const victim = [...perNode].sort((a, b) => b[1] - a[1])[0][0];
    const victimRs = running.filter((p) => p.spec?.nodeName === victim).map((p) => p.metadata!.name!);
    await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', namespace: 'default' }, spec: podSpec(tolerateFor(1), victim) });
    await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'forever', namespace: 'default' }, spec: podSpec(tolerateFor(), victim) });
    // tolerationSeconds 0: evicted as soon as the taint lands (a pod without any toleration would get the admission's 300 s).
    await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'intolerant', namespace: 'default' }, spec: podSpec(tolerateFor(0), victim) });
    await eventually('pods on the victim running', async () => {
      const ps = (await listPods(client)).filter((p) => ['bare', 'forever', 'intolerant'].includes(p.metadata!.name!));
      return ps.length === 3 && ps.every((p) => p.status?.phase === 'Running');
    });

    const stoppedAt = Date.now();
    hollow.stopHeartbeat(victim);

    const unknown = await eventually('victim Ready=Unknown and tainted', async () => {
      const n = await getNode(client, victim);
      return ready(n)?.status === 'Unknown' && has(n, UNREACHABLE, 'NoExecute') && has(n, UNREACHABLE, 'NoSchedule') ? n : undefined;
    }, 10_000);
    const unknownAfter = (Date.now() - stoppedAt) / 1000;
    assert.equal(ready(unknown)?.reason, 'NodeStatusUnknown');
    assert.equal(ready(unknown)?.message, 'Kubelet stopped posting node status.');
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) assert.equal(unknown.status?.conditions?.find((c) => c.type === type)?.status, 'Unknown', type);
    assert.ok(has(unknown, UNREACHABLE, 'NoExecute')?.timeAdded, 'the NoExecute taint carries timeAdded');
    assert.ok(!has(unknown, NOT_READY, 'NoExecute'));

    await eventually('8 live web pods on other nodes, the victim\'s marked for deletion', async () => {
      const ps = await listPods(client);
      const web = ps.filter((p) => p.metadata?.labels?.app === 'web');
      const live = web.filter((p) => !p.metadata?.deletionTimestamp);
      const oldGone = victimRs.every((name) => web.find((p) => p.metadata!.name === name)?.metadata?.deletionTimestamp ?? !web.some((p) => p.metadata!.name === name));
      return oldGone && live.length === 8 && live.every((p) => p.spec?.nodeName && p.spec.nodeName !== victim && p.status?.phase === 'Running');
    }, 15_000);
    const replacedAfter = (Date.now() - stoppedAt) / 1000;

    const byName = async (name: string) => (await listPods(client)).find((p) => p.metadata!.name === name);
    await eventually('bare and intolerant pods marked for deletion', async () => (await byName('bare'))?.metadata?.deletionTimestamp && (await byName('intolerant'))?.metadata?.deletionTimestamp);
    const bare = await byName('bare');
    const bareDeletedAt = Date.parse(bare!.metadata!.deletionTimestamp!) - Date.parse(has(unknown, UNREACHABLE, 'NoExecute')!.timeAdded!);
    // deletionTimestamp is now + grace (1 s), so the eviction itself came ≥ 1 s (tolerationSeconds) after timeAdded, to the second.
    assert.ok(bareDeletedAt >= 1000, `bare evicted ${bareDeletedAt} ms after the taint`);
    assert.equal(bare!.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason, 'DeletionByTaintManager');
    const forever = await byName('forever');
    assert.ok(forever && !forever.metadata?.deletionTimestamp, 'a pod tolerating unreachable forever stays');
    assert.equal(forever.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False', 'pods on a silent node are marked not ready');
    assert.equal((await listPods(client)).filter((p) => p.metadata!.name!.startsWith('bare')).length, 1, 'nothing replaces a bare pod');
    const evs = (await client.list(events, { namespace: 'default' })).items.filter((e) => e.reason === 'TaintManagerEviction');
    assert.ok(evs.some((e) => e.message === 'Marking for deletion Pod default/bare'), JSON.stringify(evs.map((e) => e.message)));

    hollow.resumeHeartbeat(victim);
    await eventually('victim Ready again and untainted', async () => {
      const n = await getNode(client, victim);
      return ready(n)?.status === 'True' && !(n.spec?.taints ?? []).some((t) => t.key === UNREACHABLE || t.key === NOT_READY);
    }, 10_000);
    // Its kubelet is back and finishes what was deleted while it was away.
    await eventually('bare pod gone for good', async () => !(await byName('bare')) && !(await byName('intolerant')));
    assert.ok(!(await byName('forever'))?.metadata?.deletionTimestamp);
    await eventually('forever Ready again', async () => (await byName('forever'))?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    console.error(`node-lifecycle: grace ${GRACE_MS / 1000}s, lease renew 0.2s, tolerationSeconds 1: Ready=Unknown+tainted after ${unknownAfter.toFixed(1)}s, all 8 RS pods running elsewhere after ${replacedAfter.toFixed(1)}s from the last heartbeat`);
  } finally {
    await env.stop();
  }
});

test('zone disruption: a mostly-down zone of a small cluster stops evicting; all nodes down evicts nothing and lifts NoExecute taints', async () => {
  const env = await startEnv(4, 1, 'zd-');
  const { client, hollow } = env;
  const [a, b, c, d] = hollow.nodeNames;
  try {
    for (const n of hollow.nodeNames) {
      await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${n}`, namespace: 'default' }, spec: podSpec(tolerateFor(1), n) });
    }
    await eventually('pods running', async () => (await listPods(client)).filter((p) => p.status?.phase === 'Running').length === 4);

    // Two of four down: the zone is still Normal (upstream needs more than two), so they are evicted.
    hollow.stopHeartbeat(a);
    hollow.stopHeartbeat(b);
    await eventually('a and b tainted NoExecute', async () => {
      const ns = await Promise.all([a, b].map((n) => getNode(client, n)));
      return ns.every((n) => has(n, UNREACHABLE, 'NoExecute'));
    }, 10_000);

    // A third: 75% ≥ 55% and three not ready, a partial disruption; a zone of ≤ 50 nodes then stops tainting.
    hollow.stopHeartbeat(c);
    await eventually('c Unknown with the NoSchedule taint', async () => {
      const n = await getNode(client, c);
      return ready(n)?.status === 'Unknown' && has(n, UNREACHABLE, 'NoSchedule');
    }, 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    const nc = await getNode(client, c);
    assert.ok(!has(nc, UNREACHABLE, 'NoExecute'), 'no NoExecute taint in a partially disrupted small zone');
    const pc = (await listPods(client)).find((p) => p.metadata!.name === `p-${c}`);
    assert.ok(pc && !pc.metadata?.deletionTimestamp, 'its pod stays');

    // Everything down: master disruption mode, no evictions and the taints already there are lifted.
    hollow.stopHeartbeat(d);
    await eventually('NoExecute taints lifted everywhere', async () => {
      const ns = await Promise.all([a, b, c, d].map((n) => getNode(client, n)));
      return ns.every((n) => ready(n)?.status === 'Unknown' && !has(n, UNREACHABLE, 'NoExecute'));
    }, 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    for (const n of [c, d]) {
      const p = (await listPods(client)).find((x) => x.metadata!.name === `p-${n}`);
      assert.ok(p && !p.metadata?.deletionTimestamp, `p-${n} stays`);
    }
    for (const n of [c, d]) assert.ok(!has(await getNode(client, n), UNREACHABLE, 'NoExecute'));

    for (const n of hollow.nodeNames) hollow.resumeHeartbeat(n);
    await eventually('all Ready and untainted', async () => {
      const ns = await Promise.all(hollow.nodeNames.map((n) => getNode(client, n)));
      return ns.every((n) => ready(n)?.status === 'True' && !(n.spec?.taints ?? []).length);
    }, 10_000);
    // Coming back gives every node a fresh grace period instead of evicting at once.
    const p = (await listPods(client)).find((x) => x.metadata!.name === `p-${d}`);
    assert.ok(p && !p.metadata?.deletionTimestamp);
  } finally {
    await env.stop();
  }
});

test('one zone fully down while another is healthy: upstream still evicts there, at the normal rate; Ready=False taints not-ready', async () => {
  // zone-a: zf-0 and zf-2; zone-b: zf-1 and zf-3.
  const env = await startEnv(4, 2, 'zf-');
  const { client, hollow } = env;
  try {
    for (const n of hollow.nodeNames) {
      await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${n}`, namespace: 'default' }, spec: podSpec(tolerateFor(1), n) });
    }
    await eventually('pods running', async () => (await listPods(client)).filter((p) => p.status?.phase === 'Running').length === 4);
    hollow.stopHeartbeat('zf-0');
    hollow.stopHeartbeat('zf-2');
    await eventually('zone-a tainted and its pods evicted; zone-b untouched', async () => {
      const ns = await Promise.all(['zf-0', 'zf-2'].map((n) => getNode(client, n)));
      const ps = await listPods(client);
      const gone = (n: string) => ps.find((p) => p.metadata!.name === `p-${n}`)?.metadata?.deletionTimestamp;
      return ns.every((n) => has(n, UNREACHABLE, 'NoExecute')) && gone('zf-0') && gone('zf-2') && !gone('zf-1') && !gone('zf-3');
    }, 10_000);

    // A kubelet that reports Ready=False (it still heartbeats) gets the not-ready taints instead.
    hollow.setReady('zf-1', false);
    await eventually('zf-1 tainted not-ready and its pod evicted', async () => {
      const n = await getNode(client, 'zf-1');
      const p = (await listPods(client)).find((x) => x.metadata!.name === 'p-zf-1');
      return ready(n)?.status === 'False' && has(n, NOT_READY, 'NoExecute') && has(n, NOT_READY, 'NoSchedule') && !has(n, UNREACHABLE, 'NoExecute')
        && (!p || p.metadata?.deletionTimestamp);
    }, 10_000);
    hollow.setReady('zf-1', true);
    await eventually('zf-1 untainted', async () => !((await getNode(client, 'zf-1')).spec?.taints ?? []).length, 10_000);
  } finally {
    await env.stop();
  }
});

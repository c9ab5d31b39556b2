import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Client } from '../../src/client/client.js';
import { events, nodes, pods, poddisruptionbudgets, priorityclasses } from '../../src/client/resources.js';
import { Scheduler, Status, schedulerLoop } from '../../src/scheduler/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { boundNode, createNode, makePod, waitFor } from './nodes.js';

let ts: TestServer;
let client: Client;

before(async () => {
  ts = await startTestServer();
  client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
});
after(async () => {
  client.close();
  await ts.stop();
});

async function clean(): Promise<void> {
  await client.deleteCollection(pods, { namespace: 'default', gracePeriodSeconds: 0 });
  for (const n of (await client.list(nodes)).items) await client.delete(nodes, undefined, n.metadata!.name!);
  await client.deleteCollection(events, { namespace: 'default' });
}

function startScheduler(opts: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): { scheduler: Scheduler; stop: () => Promise<void> } {
  const ac = new AbortController();
  const scheduler = new Scheduler({ client, log: () => {}, ...opts });
  const running = scheduler.run(ac.signal);
  return { scheduler, stop: async () => { ac.abort(); await running; } };
}

test('binds pods to nodes with room and kubectl shows where they went', async () => {
  await clean();
  await createNode(client, 'small', { cpu: '1' });
  await createNode(client, 'big', { cpu: '8' });
  const { stop } = startScheduler();
  try {
    await client.create(pods, makePod('web', { cpu: '2' }));
    const node = await waitFor(() => boundNode(client, 'default', 'web'), 15_000, 'web bound');
    assert.equal(node, 'big');
    const p = await client.get(pods, 'default', 'web');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
    const out = await ts.kubectl(['get', 'pods', '-o', 'wide']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /web\s.*\sbig\s/);
  } finally { await stop(); }
});

test('a pod that fits nowhere gets PodScheduled=False and a FailedScheduling event; kubectl describe shows it', async () => {
  await clean();
  await createNode(client, 'n1', { cpu: '1' });
  await createNode(client, 'n2', { cpu: '1' });
  await createNode(client, 'n3', { cpu: '1' });
  await createNode(client, 'cp1', { cpu: '8', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] });
  await createNode(client, 'cp2', { cpu: '8', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] });
  const { stop } = startScheduler();
  try {
    await client.create(pods, makePod('huge', { cpu: '2' }));
    const want = '0/5 nodes are available: 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod..';
    const cond = await waitFor(async () => {
      const p = await client.get(pods, 'default', 'huge');
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    }, 15_000, 'PodScheduled=False');
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, want);
    const ev = await waitFor(async () => (await client.list(events, { namespace: 'default' })).items.find((e) => e.reason === 'FailedScheduling'), 15_000, 'event');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, want);
    assert.equal(ev.source?.component, 'default-scheduler');
    const out = await ts.kubectl(['describe', 'pod', 'huge']);
    assert.match(out.stdout, /Warning\s+FailedScheduling\s.*default-scheduler\s+0\/5 nodes are available/);
  } finally { await stop(); }
});

test('a pending pod is scheduled once a node that fits is added', async () => {
  await clean();
  await createNode(client, 'tiny', { cpu: '500m' });
  const { scheduler, stop } = startScheduler();
  try {
    await client.create(pods, makePod('waiting', { cpu: '1' }));
    await waitFor(() => (scheduler.queue.lengths.unschedulable === 1 ? true : undefined), 15_000, 'pod unschedulable');
    assert.equal(await boundNode(client, 'default', 'waiting'), undefined);
    await createNode(client, 'roomy', { cpu: '4' });
    assert.equal(await waitFor(() => boundNode(client, 'default', 'waiting'), 15_000, 'bound after node add'), 'roomy');
  } finally { await stop(); }
});

test('pods with an unknown schedulerName are left alone', async () => {
  await clean();
  await createNode(client, 'n1');
  const { stop } = startScheduler();
  try {
    await client.create(pods, makePod('other', { spec: { schedulerName: 'someone-else' } }));
    await client.create(pods, makePod('mine'));
    await waitFor(() => boundNode(client, 'default', 'mine'), 15_000, 'mine bound');
    assert.equal(await boundNode(client, 'default', 'other'), undefined);
  } finally { await stop(); }
});

test('preemption evicts a lower-priority pod and nominates the node', async () => {
  await clean();
  await client.create(priorityclasses, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 }).catch(() => undefined);
  await createNode(client, 'only', { cpu: '2' });
  const { stop } = startScheduler();
  try {
    await client.create(pods, makePod('low', { cpu: '1500m', spec: { terminationGracePeriodSeconds: 0 } }));
    await waitFor(() => boundNode(client, 'default', 'low'), 15_000, 'low bound');
    await client.create(pods, makePod('important', { cpu: '1500m', spec: { priorityClassName: 'high' } }));
    assert.equal(await waitFor(() => boundNode(client, 'default', 'important'), 20_000, 'important bound'), 'only');
    await assert.rejects(client.get(pods, 'default', 'low'), /not found/);
    const ev = await waitFor(async () => (await client.list(events, { namespace: 'default' })).items.find((e) => e.reason === 'Preempted'), 15_000, 'Preempted event');
    assert.match(ev.message ?? '', /^Preempted by pod .+ on node only$/);
  } finally { await stop(); }
});

test('preemption prefers the node whose victim no PodDisruptionBudget protects', async () => {
  await clean();
  await client.create(priorityclasses, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 }).catch(() => undefined);
  await client.create(priorityclasses, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'mid' }, value: 100 }).catch(() => undefined);
  await createNode(client, 'guarded', { cpu: '2' });
  await createNode(client, 'open', { cpu: '2' });
  // Placed directly, so which victim sits where is not up to the scheduler. Without the budget, 'guarded' would be
  // chosen: its victim has the lower priority.
  await client.create(pods, makePod('db', { cpu: '1500m', labels: { app: 'db' }, spec: { nodeName: 'guarded', terminationGracePeriodSeconds: 0 } }));
  await client.create(pods, makePod('web', { cpu: '1500m', labels: { app: 'web' }, spec: { nodeName: 'open', priorityClassName: 'mid', terminationGracePeriodSeconds: 0 } }));
  const created = await client.create(poddisruptionbudgets, {
    apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
    metadata: { name: 'db', namespace: 'default' },
    spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } },
  });
  // No disruption controller runs here: the status it would keep is written by hand.
  await client.updateStatus(poddisruptionbudgets, { ...created, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, observedGeneration: created.metadata?.generation } });
  const { stop } = startScheduler();
  try {
    await client.create(pods, makePod('important', { cpu: '1500m', spec: { priorityClassName: 'high' } }));
    assert.equal(await waitFor(() => boundNode(client, 'default', 'important'), 20_000, 'important bound'), 'open');
    await assert.rejects(client.get(pods, 'default', 'web'), /not found/);
    assert.equal(await boundNode(client, 'default', 'db'), 'guarded');
  } finally {
    await stop();
    await client.delete(poddisruptionbudgets, 'default', 'db').catch(() => undefined);
  }
});

test('schedulerLoop registers its metrics idempotently and schedules', async () => {
  await clean();
  await createNode(client, 'n1');
  const metrics = new Registry();
  for (let round = 0; round < 2; round++) {
    const ac = new AbortController();
    const running = schedulerLoop.run({ client, signal: ac.signal, metrics, identity: 'test', log: () => {} });
    await client.create(pods, makePod(`m${round}`));
    await waitFor(() => boundNode(client, 'default', `m${round}`), 15_000, 'bound');
    ac.abort();
    await running;
  }
  const text = await metrics.metrics();
  assert.match(text, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 2/);
  assert.match(text, /scheduler_pending_pods\{queue="active"\}/);
  assert.match(text, /scheduler_scheduling_attempt_duration_seconds_bucket/);
});

test('a failed bind forgets the assumed pod and requeues it; the next attempt binds', async () => {
  await clean();
  await createNode(client, 'n1', { cpu: '2' });
  let calls = 0;
  const flaky = new Map([['FlakyBinder', () => ({
    name: () => 'FlakyBinder',
    bind: async (_s: unknown, pod: { metadata?: { namespace?: string; name?: string; uid?: string } }, node: string) => {
      if (++calls === 1) return Status.error('connection reset by a test');
      await client.bind(pod.metadata!.namespace!, pod.metadata!.name!, node, { uid: pod.metadata!.uid });
      return Status.success();
    },
  })]]);
  const { scheduler, stop } = startScheduler({
    outOfTreeRegistry: flaky, podInitialBackoffMs: 100,
    config: { profiles: [{ schedulerName: 'flaky', plugins: { bind: { disabled: [{ name: 'DefaultBinder' }], enabled: [{ name: 'FlakyBinder' }] } } }] },
  });
  try {
    await client.create(pods, makePod('retry', { cpu: '1', spec: { schedulerName: 'flaky' } }));
    assert.equal(await waitFor(() => boundNode(client, 'default', 'retry'), 15_000, 'bound on retry'), 'n1');
    assert.equal(calls, 2);
    const ev = await waitFor(async () => (await client.list(events, { namespace: 'default' })).items.find((e) => e.reason === 'FailedScheduling'), 15_000, 'event');
    assert.match(ev.message ?? '', /Binding rejected: connection reset by a test/);
    // Counted once on the node: the failed attempt's assumption was forgotten.
    await waitFor(() => (scheduler.cache.nodeInfo('n1')?.pods.size === 1 && !scheduler.cache.assumedCount ? true : undefined), 5_000, 'cache settled');
    assert.equal(scheduler.cache.nodeInfo('n1')!.requested.milliCPU, 1000);
  } finally { await stop(); }
});

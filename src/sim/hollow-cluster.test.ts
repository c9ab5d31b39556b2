import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError, Client, leases, nodes, pods } from '../client/index.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHollowNodes, NODE_LEASE_NAMESPACE, type HollowCluster } from './hollow-cluster.js';
import { connectionFromToken } from './connect.js';
import { parseCidr } from './node-spec.js';

let srv: TestServer;
let client: Client;
let sim: HollowCluster;

before(async () => {
  srv = await startTestServer();
  client = await Client.fromKubeconfig(srv.kubeconfig, { qps: 0 });
  sim = await startHollowNodes({
    client, count: 50, zones: 3, labels: { team: 'sim' },
    leaseRenewIntervalMs: 400, statusUpdateIntervalMs: 2_000, podStartDelayMs: 50, maxDeletionGraceMs: 500,
  });
});

after(async () => {
  await sim?.stop({ deleteNodes: true });
  client?.close();
  await srv?.stop();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

const podSpec = (name: string, nodeName: string, annotations: Record<string, string> = {}, extra: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name, namespace: 'default', annotations },
  spec: { nodeName, containers: [{ name: 'app', image: 'registry.local/app:1' }], ...extra },
});

const isIn = (ip: string, cidr: string): boolean => {
  const c = parseCidr(cidr);
  const addr = ip.split('.').map(Number).reduce((a, o) => a * 256 + o, 0);
  return addr >= c.base && addr < c.base + 2 ** (32 - c.prefix);
};

const ready = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status;

test('50 hollow nodes register with labels, capacity, pod CIDRs and Ready', async () => {
  const list = await client.list(nodes, { labelSelector: 'node.bosun.io/hollow=true' });
  assert.equal(list.items.length, 50);
  const byName = new Map(list.items.map((n) => [n.metadata!.name!, n]));
  const cidrs = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const n = byName.get(`hollow-${i}`);
    assert.ok(n, `hollow-${i} registered`);
    const l = n.metadata!.labels!;
    assert.equal(l['kubernetes.io/hostname'], `hollow-${i}`);
    assert.equal(l['kubernetes.io/os'], 'linux');
    assert.equal(l['kubernetes.io/arch'], 'amd64');
    assert.equal(l['topology.kubernetes.io/zone'], ['zone-a', 'zone-b', 'zone-c'][i % 3]);
    assert.equal(l.team, 'sim');
    assert.deepEqual(n.status!.capacity, { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '100Gi' });
    assert.deepEqual(n.status!.allocatable, n.status!.capacity);
    assert.equal(n.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'True');
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) assert.equal(n.status!.conditions!.find((c) => c.type === t)?.status, 'False');
    assert.equal(n.status!.nodeInfo!.kubeletVersion, 'v1.32.0-hollow');
    assert.equal(n.status!.nodeInfo!.containerRuntimeVersion, 'hollow://1.0');
    assert.equal(n.spec!.podCIDR, `10.42.${i}.0/24`);
    assert.deepEqual(n.spec!.podCIDRs, [n.spec!.podCIDR]);
    assert.equal(sim.podCIDR(`hollow-${i}`), n.spec!.podCIDR);
    cidrs.add(n.spec!.podCIDR!);
  }
  assert.equal(cidrs.size, 50);
  const ready = await srv.kubectl(['get', 'nodes', '-l', 'node.bosun.io/hollow=true', '--no-headers']);
  assert.equal(ready.code, 0, ready.stderr);
  assert.equal(ready.stdout.trim().split('\n').filter((l) => /\sReady\s/.test(l)).length, 50);
});

test('leases renew; stopHeartbeat stops one node only, resume restarts it', async () => {
  const renewTimes = async () => new Map((await client.list(leases, { namespace: NODE_LEASE_NAMESPACE })).items.map((l) => [l.metadata!.name!, l.spec!.renewTime!]));
  const first = await renewTimes();
  assert.equal(first.size, 50);
  const l3 = await client.get(leases, NODE_LEASE_NAMESPACE, 'hollow-7');
  assert.equal(l3.spec!.holderIdentity, 'hollow-7');
  assert.equal(l3.metadata!.ownerReferences?.[0]?.kind, 'Node');
  await delay(1_000);
  const second = await renewTimes();
  for (const [name, t] of first) assert.ok(second.get(name)! > t, `${name} renewed`);

  sim.stopHeartbeat('hollow-7');
  await delay(500); // a renewal already in flight may land
  const stopped = await renewTimes();
  await delay(1_200);
  const third = await renewTimes();
  assert.equal(third.get('hollow-7'), stopped.get('hollow-7'), 'hollow-7 no longer renews');
  for (const [name, t] of stopped) if (name !== 'hollow-7') assert.ok(third.get(name)! > t, `${name} still renews`);
  assert.equal(sim.isHeartbeating('hollow-7'), false);

  sim.resumeHeartbeat('hollow-7');
  await until('hollow-7 renews again', async () => ((await renewTimes()).get('hollow-7')! > third.get('hollow-7')! ? true : undefined));
});

test('a pod bound to hollow-3 turns Running and Ready with an IP from its pod CIDR', async () => {
  await client.create(pods, podSpec('web', 'hollow-3'));
  const pod = await until('web Running', async () => {
    const p = await client.get(pods, 'default', 'web');
    return p.status?.phase === 'Running' && ready(p) === 'True' ? p : undefined;
  });
  const s = pod.status!;
  assert.ok(isIn(s.podIP!, '10.42.3.0/24'), `${s.podIP} in 10.42.3.0/24`);
  assert.deepEqual(s.podIPs, [{ ip: s.podIP }]);
  assert.equal(s.hostIP, '10.99.0.4');
  assert.ok(s.startTime);
  for (const t of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) assert.equal(s.conditions!.find((c) => c.type === t)?.status, 'True', t);
  const cs = s.containerStatuses![0];
  assert.equal(cs.ready, true);
  assert.equal(cs.started, true);
  assert.equal(cs.restartCount, 0);
  assert.ok(cs.state!.running!.startedAt);
  assert.equal(cs.image, 'registry.local/app:1');
  assert.match(cs.imageID, /^hollow:\/\//);
  assert.match(cs.containerID!, /^hollow:\/\//);

  // A second pod on the same node gets a different address.
  await client.create(pods, podSpec('web2', 'hollow-3'));
  const p2 = await until('web2 Running', async () => {
    const p = await client.get(pods, 'default', 'web2');
    return p.status?.phase === 'Running' ? p : undefined;
  });
  assert.ok(isIn(p2.status!.podIP!, '10.42.3.0/24'));
  assert.notEqual(p2.status!.podIP, s.podIP);

  const wide = await srv.kubectl(['get', 'pods', '-o', 'wide', '--no-headers']);
  assert.equal(wide.code, 0, wide.stderr);
  const line = wide.stdout.split('\n').find((l) => l.startsWith('web '));
  assert.ok(line, wide.stdout);
  const cols = line.trim().split(/\s+/);
  assert.equal(cols[1], '1/1');
  assert.equal(cols[2], 'Running');
  assert.ok(cols.includes(s.podIP!), line);
  assert.ok(cols.includes('hollow-3'), line);
});

test('a graceful delete of a bound pod completes', async () => {
  await client.create(pods, podSpec('doomed', 'hollow-5', {}, { terminationGracePeriodSeconds: 30 }));
  await until('doomed Running', async () => ((await client.get(pods, 'default', 'doomed')).status?.phase === 'Running' ? true : undefined));
  const started = Date.now();
  const left = await client.delete(pods, 'default', 'doomed');
  assert.ok(left?.metadata?.deletionTimestamp, 'deletion is graceful: the pod stays Terminating first');
  await until('doomed gone', async () => {
    try { await client.get(pods, 'default', 'doomed'); return undefined; } catch (err) {
      if (err instanceof ApiError && err.code === 404) return true;
      throw err;
    }
  });
  // maxDeletionGraceMs caps the 30 s grace period to 0.5 s here.
  const took = Date.now() - started;
  assert.ok(took >= 400 && took < 10_000, `removed after ${took} ms`);
});

test('sim.bosun.io/ready: "false" keeps a pod Running but not ready; removing it makes it ready', async () => {
  await client.create(pods, podSpec('never-ready', 'hollow-1', { 'sim.bosun.io/ready': 'false' }));
  const p = await until('never-ready Running', async () => {
    const x = await client.get(pods, 'default', 'never-ready');
    return x.status?.phase === 'Running' ? x : undefined;
  });
  assert.equal(ready(p), 'False');
  assert.equal(p.status!.containerStatuses![0].ready, false);
  await delay(500);
  assert.equal(ready(await client.get(pods, 'default', 'never-ready')), 'False');
  await client.patch(pods, 'default', 'never-ready', { metadata: { annotations: { 'sim.bosun.io/ready': 'true' } } }, 'merge-patch');
  await until('never-ready turns ready', async () => (ready(await client.get(pods, 'default', 'never-ready')) === 'True' ? true : undefined));
});

test('sim.bosun.io/fail fails a pod; complete-after makes a Never pod Succeeded', async () => {
  await client.create(pods, podSpec('broken', 'hollow-2', { 'sim.bosun.io/fail': 'true' }, { restartPolicy: 'Never' }));
  await client.create(pods, podSpec('batch', 'hollow-2', { 'sim.bosun.io/complete-after': '1s' }, { restartPolicy: 'Never' }));
  const broken = await until('broken Failed', async () => {
    const x = await client.get(pods, 'default', 'broken');
    return x.status?.phase === 'Failed' ? x : undefined;
  });
  assert.equal(broken.status!.containerStatuses![0].state!.terminated!.exitCode, 1);
  await until('batch Running', async () => ((await client.get(pods, 'default', 'batch')).status?.phase === 'Running' ? true : undefined));
  const done = await until('batch Succeeded', async () => {
    const x = await client.get(pods, 'default', 'batch');
    return x.status?.phase === 'Succeeded' ? x : undefined;
  });
  assert.equal(done.status!.containerStatuses![0].state!.terminated!.reason, 'Completed');
});

test('a pod on a node whose heartbeat stopped is left alone until it resumes', async () => {
  sim.stopHeartbeat('hollow-9');
  await client.create(pods, podSpec('orphan', 'hollow-9'));
  await delay(600);
  assert.equal((await client.get(pods, 'default', 'orphan')).status?.phase, 'Pending');
  sim.resumeHeartbeat('hollow-9');
  await until('orphan Running', async () => ((await client.get(pods, 'default', 'orphan')).status?.phase === 'Running' ? true : undefined));
});

test('the token path: the CA hash is checked before the token is sent', async () => {
  const token = (await readFile(join(srv.dataDir, 'server/token'), 'utf8')).trim();
  const conn = await connectionFromToken(srv.url, token);
  assert.equal(conn.ca, `${(await readFile(join(srv.dataDir, 'server/tls/server-ca.crt'), 'utf8')).trimEnd()}\n`);
  const byToken = new Client({ ...conn, qps: 0 });
  try {
    const n = await byToken.get(nodes, undefined, 'hollow-0');
    assert.equal(n.metadata!.name, 'hollow-0');
  } finally { byToken.close(); }
  const forged = token.replace(/^K10[0-9a-f]{4}/, 'K100000');
  await assert.rejects(connectionFromToken(srv.url, forged), /matches the CA hash/);
  await assert.rejects(connectionFromToken(srv.url, 'server:secret'), /no CA hash/);
});

test('kubelet: false registers nodes and heartbeats but leaves pods alone', async () => {
  const bare = await startHollowNodes({ client, count: 2, namePrefix: 'bare-', startIndex: 100, kubelet: false });
  try {
    const n = await client.get(nodes, undefined, 'bare-100');
    assert.equal(n.spec!.podCIDR, '10.42.100.0/24');
    await client.create(pods, podSpec('untouched', 'bare-101'));
    await delay(500);
    assert.equal((await client.get(pods, 'default', 'untouched')).status?.phase, 'Pending');
  } finally {
    await bare.stop({ deleteNodes: true });
  }
  await assert.rejects(client.get(nodes, undefined, 'bare-100'), (err: unknown) => err instanceof ApiError && err.code === 404);
});

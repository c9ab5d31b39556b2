/**
 * High availability, end to end with real processes: three servers on an
 * embedded three-member etcd cluster (127.0.0.1/.2/.3), hollow nodes as the
 * agents. Kills the leading server with SIGKILL and checks the others serve
 * at once, a new leader schedules and replaces pods within 20 s, nothing
 * acknowledged is lost, clients fail over, a restarted member catches up, and
 * a snapshot rebuilds the cluster.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Pod } from 'kubernetes-types/core/v1';
import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import { Client } from '../../src/client/client.js';
import { ApiError } from '../../src/client/errors.js';
import { configmaps, endpoints, leases, nodes, pods, replicasets } from '../../src/client/resources.js';
import { ETCD_MEMBER_ANNOTATION } from '../../src/server/etcd-member-remover.js';
import { startHollowNodes, type HollowCluster } from '../../src/sim/index.js';
import { startHaCluster, type HaCluster, type HaServer } from './cluster.js';
import { freePort, spawnServer, stopProcess } from '../helpers/server.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = join(import.meta.dirname, '../..');
const bosun = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { env: { ...process.env, NODE_NO_WARNINGS: '1' } });

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

const serverOf = (c: HaCluster, holder: string | undefined) => c.servers.find((s) => holder?.endsWith(`_${s.ip}:${c.port}`));

const rsPods = async (client: Client) => (await client.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items.filter((p) => !p.metadata?.deletionTimestamp);

describe('three servers on an embedded etcd cluster', { timeout: 240_000 }, () => {
  let c: HaCluster;
  let hollow: HollowCluster | undefined;
  let hollowClient: Client | undefined;
  const clients: Client[] = [];
  const clientFor = async (s: HaServer) => {
    const cl = await Client.fromKubeconfig(s.proc!.kubeconfig, { qps: 0 });
    clients.push(cl);
    return cl;
  };

  before(async () => { c = await startHaCluster(); });
  after(async () => {
    await hollow?.stop().catch(() => {});
    for (const cl of [...clients, hollowClient]) cl?.close();
    await c?.stop();
  });

  it('forms one etcd cluster, lists every server in the kubernetes Endpoints and names lease holders by address', async () => {
    const members = await c.etcdctl(c.servers[0]!, ['member', 'list']);
    for (const s of c.servers) assert.match(members, new RegExp(`started, [^,]+, https://${s.ip.replace(/\./g, '\\.')}:`), members);
    const client = await clientFor(c.servers[2]!);
    const ep = await until('three addresses in the kubernetes Endpoints', async () => {
      const e = await client.get(endpoints, 'default', 'kubernetes');
      return e.subsets?.[0]?.addresses?.length === 3 ? e : undefined;
    }, 15_000);
    assert.deepEqual(ep.subsets?.[0]?.addresses?.map((a) => a.ip), c.servers.map((s) => s.ip));
    assert.equal(ep.subsets?.[0]?.ports?.[0]?.port, c.port);
    const lease = await until('a scheduler leader', async () => (await client.get(leases, 'kube-system', 'bosun-scheduler')).spec?.holderIdentity, 20_000);
    assert.ok(serverOf(c, lease), `holder ${lease} names a server by address`);
  });

  it('survives kill -9 of the leading server: others serve at once, a new leader acts within 20 s, nothing is lost', async () => {
    const first = await clientFor(c.servers[0]!);
    const schedLease = await until('scheduler lease', async () => (await first.get(leases, 'kube-system', 'bosun-scheduler')).spec?.holderIdentity, 20_000);
    const cmLease = await until('controller-manager lease', async () => (await first.get(leases, 'kube-system', 'bosun-controller-manager')).spec?.holderIdentity, 20_000);
    const leader = serverOf(c, schedLease)!;
    assert.ok(leader, `scheduler lease held by ${schedLease}`);
    const survivors = c.servers.filter((s) => s !== leader);

    // Hollow nodes (the agents) talk to the server about to die; they must fail over.
    hollowClient = await Client.fromKubeconfig(leader.proc!.kubeconfig, { qps: 0 });
    hollow = await startHollowNodes({ client: hollowClient, count: 2, namePrefix: 'ha-node-', leaseRenewIntervalMs: 2000, statusUpdateIntervalMs: 5000, maxDeletionGraceMs: 200, podStartDelayMs: 50 });
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    await first.create(replicasets, rs);
    await until('2 RS pods scheduled', async () => { const ps = await rsPods(first); return ps.length === 2 && ps.every((p) => p.spec?.nodeName); }, 30_000);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) { await first.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `before-${i}`, namespace: 'default' }, data: { i: String(i) } }); acked.push(`before-${i}`); }
    const before = (await rsPods(first)).map((p) => p.metadata!.name!);

    // An explicit server list: a Client that knows all three.
    const ca = (await readFile(join(leader.dataDir, 'server', 'tls', 'server-ca.crt'), 'utf8'));
    const admin = { cert: await readFile(join(leader.dataDir, 'server', 'tls', 'client-admin.crt'), 'utf8'), key: await readFile(join(leader.dataDir, 'server', 'tls', 'client-admin.key'), 'utf8') };
    const listed = new Client({ server: leader.url, servers: survivors.map((s) => s.url), ca, ...admin, qps: 0 });
    clients.push(listed);
    assert.equal((await listed.list(configmaps, { namespace: 'default' })).items.length >= 20, true);

    const killedAt = Date.now();
    await c.kill(leader);
    try {
      const survivor = await clientFor(survivors[0]!);
      // The others serve at once: a read right after the kill, then a write. When the dead
      // member led etcd, a consistent read waits for the two others to elect a new leader
      // (election timeout 2 s, randomized up to 4 s, more on a loaded machine), and a write
      // proposed to the dead leader waits for etcd's request timeout (5 s + 2 election timeouts).
      // During etcd's leader change a request may fail with 500 (Unavailable, "leader
      // changed"): a client retries, as here; a create that did commit answers 409 then.
      await until('a read on a survivor', async () => (await survivor.list(configmaps, { namespace: 'default' })).items.length >= 20, 15_000);
      const firstReadMs = Date.now() - killedAt;
      await until('a write on a survivor', () => survivor.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-kill', namespace: 'default' } })
        .then(() => true, (err: unknown) => { if (err instanceof ApiError && err.code === 409) return true; throw err; }), 15_000);
      acked.push('after-kill');
      const firstWriteMs = Date.now() - killedAt;
      await survivor.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending-after-kill', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as Pod);
      await survivor.delete(pods, 'default', before[0]!);

      const scheduled = await until('the pending pod scheduled by a new leader', async () => {
        const p = await survivor.get(pods, 'default', 'pending-after-kill');
        return p.spec?.nodeName ? Date.now() - killedAt : undefined;
      }, 30_000);
      const replaced = await until('the deleted RS pod replaced', async () => {
        const ps = await rsPods(survivor);
        return ps.length === 2 && !ps.some((p) => p.metadata?.name === before[0]) && ps.every((p) => p.spec?.nodeName) ? Date.now() - killedAt : undefined;
      }, 30_000);
      console.log(`# HA: first read after kill ${firstReadMs} ms, first write ${firstWriteMs} ms; new leader scheduled a pod ${scheduled} ms and replaced an RS pod ${replaced} ms after kill -9`);
      assert.ok(firstReadMs < 10_000, `first read after the kill took ${firstReadMs} ms`);
      assert.ok(firstWriteMs < 12_000, `first write after the kill took ${firstWriteMs} ms`);
      assert.ok(scheduled < 20_000, `new scheduler leader acted after ${scheduled} ms`);
      assert.ok(replaced < 20_000 + 5000, `RS pod replaced after ${replaced} ms`);

      const names = new Set((await survivor.list(configmaps, { namespace: 'default' })).items.map((x) => x.metadata!.name!));
      for (const n of acked) assert.ok(names.has(n), `acknowledged ${n} is still there`);
      const newSched = (await survivor.get(leases, 'kube-system', 'bosun-scheduler')).spec?.holderIdentity;
      const newCm = (await survivor.get(leases, 'kube-system', 'bosun-controller-manager')).spec?.holderIdentity;
      assert.ok(survivors.includes(serverOf(c, newSched)!), `new scheduler leader ${newSched}`);
      assert.ok(survivors.includes(serverOf(c, newCm)!), `new controller-manager leader ${newCm} (was ${cmLease})`);

      // Clients configured with the dead server carry on against the others.
      assert.ok((await listed.list(configmaps, { namespace: 'default' })).items.some((x) => x.metadata?.name === 'after-kill'));
      assert.notEqual(listed.server, leader.url);
      assert.ok((await first.list(configmaps, { namespace: 'default' })).items.some((x) => x.metadata?.name === 'after-kill'), 'kubeconfig client failed over');
      // `bosun kubectl` on the dead server's machine reaches a live server from the list that server kept.
      const viaCli = await run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'kubectl', 'get', 'configmap', 'after-kill', '-o', 'name'],
        { env: { ...process.env, NODE_NO_WARNINGS: '1', BOSUN_DATA_DIR: leader.dataDir } });
      assert.equal(viaCli.stdout.trim(), 'configmap/after-kill');
      assert.match(viaCli.stderr, /this machine's server does not answer/);
      // The hollow nodes (agents of the dead server) stay Ready and their pods untouched.
      const stillRunning = (await rsPods(survivor)).filter((p) => p.metadata?.name !== before[0]);
      assert.ok(stillRunning.some((p) => before.includes(p.metadata!.name!) && p.status?.phase === 'Running'), 'the other RS pod kept running');
      // The dead server drops out of the kubernetes Endpoints once its lease expires.
      await until('the dead server leaves the Endpoints', async () => {
        const e = await survivor.get(endpoints, 'default', 'kubernetes');
        return !e.subsets?.[0]?.addresses?.some((a) => a.ip === leader.ip);
      }, 40_000);
    } finally {
      // Its etcd member restarts with the server (and catches up with what was written meanwhile).
      await c.start(leader);
    }
    const caughtUp = await until('the restarted member serves the new key locally', async () => {
      const out = await c.etcdctl(leader, ['get', '--consistency=s', '--keys-only', '/registry/core/configmaps/default/after-kill']);
      return out.includes('after-kill');
    }, 30_000);
    assert.ok(caughtUp);
  });

  it('keeps reads and writes going while one etcd member is down, and the supervisor restarts it', async () => {
    const s = c.servers[1]!;
    const other = await clientFor(c.servers[0]!);
    const own = await clientFor(s);
    const pid = await c.etcdPid(s);
    assert.ok(pid, 'etcd child found');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    // The other servers do not notice: two members are a quorum.
    for (let i = 0; i < 5; i++) {
      await other.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `member-down-${i}`, namespace: 'default' } });
      assert.ok((await other.get(configmaps, 'default', `member-down-${i}`)).metadata?.uid);
    }
    // The member's own server may answer 500 (Unavailable) while its etcd client finds
    // another member or the supervisor restarts its own; then it serves again.
    await until('the member\'s own server writes again', async () => {
      await own.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'own-server-again', namespace: 'default' } });
      return true;
    }, 15_000);
    console.log(`# HA: own server writes again ${Date.now() - killedAt} ms after its etcd member was killed`);
    await until('etcd restarted by the server', async () => { const p = await c.etcdPid(s); return p && p !== pid ? p : undefined; }, 20_000);
    await until('the restarted member caught up', async () => (await c.etcdctl(s, ['get', '--consistency=s', '--keys-only', '/registry/core/configmaps/default/member-down-4'])).includes('member-down-4'), 30_000);
  });

  it('removes a server for good with bosun server-remove', async () => {
    const gone = c.servers[2]!, keeper = c.servers[0]!;
    await c.kill(gone);
    const listed = await bosun(['server-remove', '--data-dir', keeper.dataDir]);
    const name = listed.stdout.split('\n').find((l) => l.includes(`https://${gone.ip}:`))?.split('\t')[0];
    assert.ok(name, listed.stdout);
    const removed = await bosun(['server-remove', name, '--data-dir', keeper.dataDir]);
    assert.match(removed.stdout, /Removed etcd member/);
    const members = await c.etcdctl(keeper, ['member', 'list']);
    assert.doesNotMatch(members, new RegExp(`https://${gone.ip.replace(/\./g, '\\.')}:`));
    assert.equal(members.trim().split('\n').length, 2, members);
    // Two members of two are a quorum: writes go on.
    const client = await clientFor(keeper);
    await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-remove', namespace: 'default' } });
  });

  it('removes the etcd member of a server whose Node is deleted', async () => {
    // A live server (removing a dead one's member would need a quorum of the two left).
    const gone = c.servers[1]!, keeper = c.servers[0]!;
    const member = (await readFile(join(gone.dataDir, 'server', 'db', 'etcd-name'), 'utf8')).trim();
    const client = await clientFor(keeper);
    // What the server's embedded agent registers, annotated with its member (annotateServerNode).
    await client.create(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'ha-server-2', annotations: { [ETCD_MEMBER_ANNOTATION]: member } } });
    // Servers learn of a deletion from their Node informers: let them see the Node first
    // (an informer whose watch was cut by the earlier kills may be relisting).
    await sleep(3000);
    await client.delete(nodes, undefined, 'ha-server-2');
    await until('the member removed', async () => !(await c.etcdctl(keeper, ['member', 'list'])).includes(member), 30_000)
      .catch((err: unknown) => { throw new Error(`${String(err)}\n${keeper.proc?.output().split('\n').filter((l) => /etcd|member/.test(l)).slice(-10).join('\n')}`); });
    assert.equal((await c.etcdctl(keeper, ['member', 'list'])).trim().split('\n').length, 1);
    await c.kill(gone);
    const client2 = await clientFor(keeper);
    await until('writes on the one-member cluster', async () => {
      await client2.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one-member', namespace: 'default' } });
      return true;
    }, 15_000);
  });

  it('rebuilds the cluster from a snapshot: save, destroy, restore, same objects', async () => {
    const s = c.servers.find((x) => x.proc?.child.exitCode === null && x.proc.child.signalCode === null)!;
    const client = await clientFor(s);
    const saved = await bosun(['etcd-snapshot', 'save', '--data-dir', s.dataDir, '--name', 'ha-test']);
    const file = /saved to (\S+)/.exec(saved.stdout)?.[1];
    assert.ok(file, saved.stdout);
    const ls = await bosun(['etcd-snapshot', 'ls', '--data-dir', s.dataDir]);
    assert.match(ls.stdout, /ha-test-/);
    const expected = (await client.list(configmaps, { namespace: 'default' })).items.map((x) => x.metadata!.name!).sort();
    await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-snapshot', namespace: 'default' } });

    // Destroy: every server gone, every member's data wiped.
    await hollow?.stop().catch(() => {});
    hollow = undefined;
    for (const x of c.servers) await c.kill(x);
    for (const x of c.servers) await rm(join(x.dataDir, 'server', 'db', 'etcd'), { recursive: true, force: true });

    await bosun(['etcd-snapshot', 'restore', file, '--data-dir', s.dataDir]);
    await c.start(s);
    const restored = await clientFor(s);
    const names = (await restored.list(configmaps, { namespace: 'default' })).items.map((x) => x.metadata!.name!).sort();
    assert.deepEqual(names, expected);
    assert.match(await c.etcdctl(s, ['member', 'list']), /started/);
  });
});

describe('snapshots of a SQLite server', { timeout: 120_000 }, () => {
  it('saves while running and restores the same objects', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bosun-ha-sqlite-'));
    const port = await freePort();
    let proc = await spawnServer(dataDir, port, ['--disable-scheduler', '--disable-controller-manager']);
    try {
      let client = await Client.fromKubeconfig(proc.kubeconfig, { qps: 0 });
      for (let i = 0; i < 5; i++) await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `kept-${i}`, namespace: 'default' } });
      const saved = await bosun(['etcd-snapshot', 'save', '--data-dir', dataDir]);
      const file = /saved to (\S+)/.exec(saved.stdout)?.[1];
      assert.ok(file, saved.stdout);
      await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lost', namespace: 'default' } });
      client.close();
      await stopProcess(proc.child);
      await bosun(['etcd-snapshot', 'restore', file, '--data-dir', dataDir]);
      proc = await spawnServer(dataDir, port, ['--disable-scheduler', '--disable-controller-manager']);
      client = await Client.fromKubeconfig(proc.kubeconfig, { qps: 0 });
      const names = (await client.list(configmaps, { namespace: 'default' })).items.map((x) => x.metadata!.name!).filter((n) => n !== 'kube-root-ca.crt').sort();
      assert.deepEqual(names, ['kept-0', 'kept-1', 'kept-2', 'kept-3', 'kept-4']);
      client.close();
    } finally {
      await stopProcess(proc.child);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

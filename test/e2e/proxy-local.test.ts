/**
 * externalTrafficPolicy through the proxy, as root. Three backends sit on a
 * pod bridge; by their EndpointSlice's nodeName one is on this node and two
 * on another. A client outside the cluster (its own namespace on a second
 * bridge, 198.18.x.0/24, an address range reserved for tests) calls a
 * NodePort on the node's address there: with policy Local only this node's
 * endpoint answers and sees the client's own address; with Cluster all
 * answer and see the node's. Backends report `name client-address` through
 * a busybox httpd CGI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointSlice, Endpoint } from 'kubernetes-types/discovery/v1';
import { Client, endpointslices, services } from '../../src/client/index.js';
import { Proxier, cleanupProxyRules, ownRulesLeft } from '../../src/proxy/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../controllers/env.js';
import { NetLab, freeTestOctet, sh, type TestBridge, type TestNetns } from '../helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const NODE = 'proxy-local-node';
const PREFIX = `KL${(process.pid % 100_000).toString(36).toUpperCase()}`;

describe('proxy: externalTrafficPolicy Local keeps outside traffic on this node\'s endpoints', { skip: !isRoot && 'needs root (network namespaces, iptables)' }, () => {
  let ts: TestServer;
  let client: Client;
  const lab = new NetLab('proxyl');
  let pods: TestBridge;
  let outside: TestBridge;
  let octet: number;
  let dir: string;
  let outsider: TestNetns;
  let pod: TestNetns;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const logs: string[] = [];
  const backends = [
    { name: 'local-1', host: 11, node: NODE },
    { name: 'remote-1', host: 12, node: 'other-node' },
    { name: 'remote-2', host: 13, node: 'other-node' },
  ];
  const nodePorts = { local: 30000 + (process.pid % 1000) * 2, cluster: 30001 + (process.pid % 1000) * 2 };

  function sliceFor(service: string, eps: typeof backends): EndpointSlice {
    return {
      metadata: { namespace: 'default', name: `${service}-manual`, labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      ports: [{ name: '', port: 80, protocol: 'TCP' }],
      endpoints: eps.map((b): Endpoint => ({ addresses: [`10.42.${octet}.${b.host}`], conditions: { ready: true }, nodeName: b.node })),
    };
  }

  async function answers(from: TestNetns, url: string, n: number): Promise<Array<{ name: string; client: string }>> {
    const out = [];
    for (let i = 0; i < n; i++) {
      const [name, addr] = (await from.fetch(url)).trim().split(' ');
      // busybox httpd listens on IPv6 too and writes IPv4 clients as [::ffff:a.b.c.d].
      out.push({ name: name!, client: addr!.replace(/^\[(::ffff:)?/, '').replace(/\]$/, '') });
    }
    return out;
  }

  before(async () => {
    await cleanupProxyRules(PREFIX);
    octet = await freeTestOctet();
    dir = await mkdtemp(join(tmpdir(), 'proxy-local-'));
    ts = await startTestServer();
    client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
    pods = await lab.bridge(`10.42.${octet}.1/24`);
    outside = await lab.bridge(`198.18.${octet}.1/24`);
    for (const b of backends) {
      const ns = await lab.netns(b.name, pods, `10.42.${octet}.${b.host}`);
      const root = join(dir, b.name);
      await mkdir(join(root, 'cgi-bin'), { recursive: true });
      const cgi = join(root, 'cgi-bin', 'who');
      await writeFile(cgi, `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s %s\\n' ${b.name} "$REMOTE_ADDR"\n`);
      await chmod(cgi, 0o755);
      ns.spawn(['busybox', 'httpd', '-f', '-p', '80', '-h', root]);
    }
    pod = await lab.netns('pod', pods, `10.42.${octet}.100`);
    outsider = await lab.netns('outside', outside, `198.18.${octet}.100`);
    await lab.route([`10.43.${octet}.20/32`, 'dev', pods.name]);
    await lab.route([`10.43.${octet}.21/32`, 'dev', pods.name]);
    running = new Proxier({
      client, nodeName: NODE, nodeIPs: [outside.address], clusterCIDR: '10.42.0.0/16', chainPrefix: PREFIX,
      minSyncPeriodMs: 100, log: (m) => logs.push(m),
    }).run(abort.signal);
    for (const [name, policy] of [['local', 'Local'], ['cluster', 'Cluster']] as const) {
      await client.create(services, {
        metadata: { namespace: 'default', name },
        spec: {
          type: 'NodePort', externalTrafficPolicy: policy, clusterIP: `10.43.${octet}.${name === 'local' ? 20 : 21}`,
          ports: [{ port: 80, protocol: 'TCP', nodePort: nodePorts[name] }],
        },
      });
      await client.create(endpointslices, sliceFor(name, backends));
    }
    await eventually('both node ports answering from outside', async () => {
      for (const np of Object.values(nodePorts)) {
        if ((await outsider.exec(['busybox', 'wget', '-qO-', `http://${outside.address}:${np}/cgi-bin/who`], { timeoutMs: 2000 })).code !== 0) return false;
      }
      return true;
    }, 20_000, 100);
  });

  after(async () => {
    abort.abort();
    await running;
    const errors: unknown[] = [];
    for (const step of [() => cleanupProxyRules(PREFIX), () => lab.cleanup(), async () => client?.close(), () => ts?.stop(), () => rm(dir, { recursive: true, force: true })]) {
      try { await step(); } catch (err) { errors.push(err); }
    }
    if (process.env.BOSUN_TEST_LOGS) for (const l of logs) console.error(l);
    if (errors.length > 0) throw errors[0];
  });

  test('Local: only this node\'s endpoint answers, and it sees the client\'s own address', async () => {
    const seen = await answers(outsider, `http://${outside.address}:${nodePorts.local}/cgi-bin/who`, 15);
    assert.deepEqual([...new Set(seen.map((a) => a.name))], ['local-1']);
    assert.deepEqual([...new Set(seen.map((a) => a.client))], [outsider.ip]);
  });

  test('Cluster: every endpoint answers, the client masqueraded to the node', async () => {
    const seen = await answers(outsider, `http://${outside.address}:${nodePorts.cluster}/cgi-bin/who`, 30);
    assert.ok(new Set(seen.map((a) => a.name)).size >= 2, JSON.stringify(seen));
    assert.ok(seen.every((a) => a.client === pods.address), JSON.stringify(seen.slice(0, 3)));
  });

  test('the ClusterIP of a Local service still reaches every endpoint from a pod', async () => {
    const seen = await answers(pod, `http://10.43.${octet}.20/cgi-bin/who`, 30);
    assert.ok(new Set(seen.map((a) => a.name)).size >= 2, JSON.stringify(seen));
    assert.ok(seen.every((a) => a.client === pod.ip), 'pod traffic keeps its source');
  });

  test('Local with no endpoint on this node: outside traffic is dropped', async () => {
    const current = await client.get(endpointslices, 'default', 'local-manual');
    await client.update(endpointslices, { ...sliceFor('local', backends.slice(1)), metadata: current.metadata });
    await eventually('the DROP rule', async () => /has no local endpoints".*-j DROP/.test(await sh(['iptables-save', '-t', 'filter'])), 10_000, 50);
    const r = await outsider.exec(['busybox', 'wget', '-qO-', `http://${outside.address}:${nodePorts.local}/cgi-bin/who`], { timeoutMs: 2000 });
    assert.equal(r.code, 124, `expected a timeout, got exit ${r.code}: ${r.stdout}${r.stderr}`);
  });

  test('nothing of ours is left after cleanup', async () => {
    abort.abort();
    await running;
    await cleanupProxyRules(PREFIX);
    assert.deepEqual(await ownRulesLeft(PREFIX), []);
  });
});

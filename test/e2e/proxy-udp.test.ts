/**
 * UDP through the proxy, as root: a client that keeps sending from one
 * source port (as a resolver does) keeps its conntrack entry alive, and with
 * it the DNAT to the endpoint it first got. When that endpoint leaves the
 * Service, the proxy deletes the entry, so the next datagram goes to a
 * current endpoint — DNS follows changes. Namespaces, bridge and chains are
 * this test's own, and removed after.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { Client, endpointslices, nodes, services } from '../../src/client/index.js';
import { Proxier, cleanupProxyRules, ownRulesLeft } from '../../src/proxy/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../controllers/env.js';
import { NetLab, freeTestOctet, sh, type TestBridge, type TestNetns } from '../helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const NODE = 'proxy-udp-node';
const PREFIX = `KU${(process.pid % 100_000).toString(36).toUpperCase()}`;

const UDP_SERVER = `import dgram from 'node:dgram';
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => s.send(process.argv[2], r.port, r.address));
s.bind(53);`;

/** Sends a datagram every 100 ms from one source port for `seconds`; prints `ms name` per answer. */
const UDP_CLIENT = `import dgram from 'node:dgram';
const [host, seconds] = [process.argv[2], Number(process.argv[3])];
const s = dgram.createSocket('udp4');
const start = Date.now();
s.on('message', (m) => console.log(Date.now() - start, m.toString()));
s.bind(40053, () => {
  const t = setInterval(() => s.send('q', 53, host), 100);
  setTimeout(() => { clearInterval(t); s.close(); }, seconds * 1000);
});`;

describe('proxy: UDP conntrack entries follow endpoint changes', { skip: !isRoot && 'needs root (network namespaces, iptables, conntrack)' }, () => {
  let ts: TestServer;
  let client: Client;
  const lab = new NetLab('proxyu');
  let br: TestBridge;
  let octet: number;
  let dir: string;
  let a: TestNetns;
  let b: TestNetns;
  let clientNs: TestNetns;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const logs: string[] = [];

  const slice = (ip: string): EndpointSlice => ({
    metadata: { namespace: 'default', name: 'dns-manual', labels: { 'kubernetes.io/service-name': 'dns' } },
    addressType: 'IPv4',
    ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
    endpoints: [{ addresses: [ip], conditions: { ready: true }, nodeName: NODE }],
  });

  before(async () => {
    await cleanupProxyRules(PREFIX);
    octet = await freeTestOctet();
    dir = await mkdtemp(join(tmpdir(), 'proxy-udp-'));
    await writeFile(join(dir, 'server.mjs'), UDP_SERVER);
    await writeFile(join(dir, 'client.mjs'), UDP_CLIENT);
    ts = await startTestServer();
    client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
    br = await lab.bridge(`10.42.${octet}.1/24`);
    a = await lab.netns('dns-a', br, `10.42.${octet}.21`);
    b = await lab.netns('dns-b', br, `10.42.${octet}.22`);
    clientNs = await lab.netns('client', br, `10.42.${octet}.100`);
    a.spawn([process.execPath, join(dir, 'server.mjs'), 'dns-a']);
    b.spawn([process.execPath, join(dir, 'server.mjs'), 'dns-b']);
    await lab.route([`10.43.${octet}.53/32`, 'dev', br.name]);
    // No nodeIPs: NodePorts follow the Node object's addresses (see the last test).
    running = new Proxier({
      client, nodeName: NODE, clusterCIDR: '10.42.0.0/16', chainPrefix: PREFIX,
      minSyncPeriodMs: 100, syncPeriodMs: 1000, log: (m) => logs.push(m),
    }).run(abort.signal);
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

  test('a steady UDP client moves to the new endpoint within seconds of the change', async () => {
    const cip = `10.43.${octet}.53`;
    await client.create(services, { metadata: { namespace: 'default', name: 'dns' }, spec: { clusterIP: cip, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } });
    await client.create(endpointslices, slice(a.ip));
    await eventually('the DNAT to dns-a', async () => (await sh(['iptables-save', '-t', 'nat'])).includes(`--to-destination ${a.ip}:53`), 10_000, 50);

    // The client talks for 8 s; 3 s in, the Service's only endpoint changes from dns-a to dns-b.
    const talking = clientNs.exec([process.execPath, join(dir, 'client.mjs'), cip, '8'], { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 3000));
    const current = await client.get(endpointslices, 'default', 'dns-manual');
    await client.update(endpointslices, { ...slice(b.ip), metadata: { ...current.metadata } });
    const out = await talking;
    assert.equal(out.code, 0, out.stderr);
    const answers = out.stdout.trim().split('\n').map((l) => { const [ms, name] = l.split(' '); return { ms: Number(ms), name: name! }; });
    assert.equal(answers[0]?.name, 'dns-a', out.stdout.slice(0, 200));
    const firstB = answers.find((x) => x.name === 'dns-b');
    assert.ok(firstB, `never answered by dns-b: ${out.stdout.slice(-200)}`);
    assert.ok(firstB.ms < 3000 + 3000, `dns-b first answered at ${firstB.ms} ms, the change was at ~3000 ms`);
    const afterSwitch = answers.filter((x) => x.ms > firstB.ms);
    assert.ok(afterSwitch.length > 5 && afterSwitch.every((x) => x.name === 'dns-b'), 'once moved, it stays on dns-b');
  });

  test('without nodeIPs, NodePorts answer on the Node\'s InternalIP', async () => {
    const nodePortJump = (ip: string) => new RegExp(`-A ${PREFIX}-SERVICES -d ${ip.replaceAll('.', '\\.')}/32 .*-j ${PREFIX}-NODEPORTS`);
    const node = await client.create(nodes, { metadata: { name: NODE } });
    await client.updateStatus(nodes, { ...node, status: { addresses: [{ type: 'InternalIP', address: br.address }, { type: 'Hostname', address: NODE }] } });
    await eventually('the node-port jump for the Node\'s address', async () => nodePortJump(br.address).test(await sh(['iptables-save', '-t', 'nat'])), 10_000, 50);
    const saved = await sh(['iptables-save', '-t', 'nat']);
    assert.ok(!saved.includes(`-m addrtype --dst-type LOCAL -j ${PREFIX}-NODEPORTS`), 'not every local address');
  });

  test('a jump someone removed from a built-in chain is back after the next periodic sync', async () => {
    const jump = ['-t', 'nat', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', `${PREFIX}-SERVICES`];
    await sh(['iptables', '-t', 'nat', '-D', ...jump.slice(2)]);
    await eventually('the PREROUTING jump restored', async () => (await sh(['iptables-save', '-t', 'nat'])).includes(`-A PREROUTING -m comment --comment "kubernetes service portals" -j ${PREFIX}-SERVICES`), 10_000, 100);
  });

  test('nothing of ours is left after cleanup', async () => {
    abort.abort();
    await running;
    await cleanupProxyRules(PREFIX);
    assert.deepEqual(await ownRulesLeft(PREFIX), []);
  });
});

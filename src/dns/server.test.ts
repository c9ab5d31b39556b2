import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1';
import { Client, endpointslices, services } from '../client/index.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { ClusterDnsServer } from './server.js';
import { ensureKubeDnsService, dnsEndpointSliceName } from './kube-dns-service.js';
import { dataOf, query, startFakeUpstream, type FakeUpstream } from './testing.js';

let ts: TestServer;
let client: Client;
let upstream: FakeUpstream;
let dns: ClusterDnsServer;
let port: number;
const logs: string[] = [];

before(async () => {
  ts = await startTestServer();
  client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
  upstream = await startFakeUpstream({
    'example.test': [{ name: 'example.test', type: 'A', ttl: 60, data: '192.0.2.1' }],
    'short.test': [{ name: 'short.test', type: 'A', ttl: 1, data: '192.0.2.2' }],
  });
  dns = new ClusterDnsServer({ client, upstreams: [`127.0.0.1:${upstream.port}`], log: (m) => logs.push(m) });
  ({ port } = await dns.listen({ address: '127.0.0.1', port: 0 }));
});

after(async () => {
  await dns?.stop();
  await upstream?.stop();
  client?.close();
  await ts?.stop();
  if (process.env.BOSUN_TEST_LOGS) for (const l of logs) console.error(l);
});

/** Polls until `check` holds; returns how long it took. */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < ms) {
    try { if (await check()) return Date.now() - start; } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not within ${ms} ms${last ? ` (${String(last)})` : ''}`);
}

const ready = (ip: string, extra: Partial<Endpoint> = {}): Endpoint => ({ addresses: [ip], conditions: { ready: true }, ...extra });

function slice(svc: string, name: string, eps: Endpoint[], ports: EndpointSlice['ports'], ns = 'default'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    endpoints: eps, ports,
  };
}

test('a ClusterIP Service is answered within a second of its creation, change and deletion', async () => {
  const svc = await client.create(services, {
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  } as Service);
  const ip = svc.spec!.clusterIP!;
  assert.match(ip, /^10\.43\./);
  const name = 'web.default.svc.cluster.local';
  await within(1000, 'A after create', async () => dataOf(await query(port, name, 'A'), 'A')[0] === ip);

  const a = await query(port, name, 'A');
  assert.equal(a.rcode, 'NOERROR');
  assert.equal(a.flag_aa, true, 'answers of the zone are authoritative');
  assert.equal(a.answers![0].type === 'A' && a.answers![0].ttl, 5);

  // Case is the asker's: the question comes back as sent.
  const mixed = await query(port, 'Web.Default.SVC.cluster.local', 'A');
  assert.equal(mixed.questions![0].name, 'Web.Default.SVC.cluster.local');
  assert.deepEqual(dataOf(mixed, 'A'), [ip]);

  // AAAA of an IPv4-only Service: the name exists, no data.
  const aaaa = await query(port, name, 'AAAA');
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.equal(aaaa.answers!.length, 0);
  assert.equal(aaaa.authorities![0].type, 'SOA');

  assert.deepEqual(dataOf(await query(port, `_http._tcp.${name}`, 'SRV'), 'SRV'), [`0 100 80 ${name}`]);
  assert.deepEqual(dataOf(await query(port, `${ip.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR'), 'PTR'), [name]);

  // A change: a second named port shows up in SRV.
  await client.update(services, { ...svc, spec: { ...svc.spec, ports: [...svc.spec!.ports!, { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 }] } });
  await within(1000, 'SRV after update', async () => dataOf(await query(port, `_metrics._tcp.${name}`, 'SRV'), 'SRV').length === 1);

  await client.delete(services, 'default', 'web');
  await within(1000, 'NXDOMAIN after delete', async () => (await query(port, name, 'A')).rcode === 'NXDOMAIN');
  const nx = await query(port, name, 'A');
  assert.equal(nx.authorities![0].type, 'SOA', 'NXDOMAIN carries the SOA');
  assert.equal(nx.flag_aa, true);
});

test('a headless Service resolves to every ready endpoint; SRV names each endpoint; hostnames resolve', async () => {
  await client.create(services, { metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } } as Service);
  await client.create(endpointslices, slice('db', 'db-a', [
    ready('10.42.0.7', { hostname: 'db-0' }),
    ready('10.42.1.8', { hostname: 'db-1' }),
    { addresses: ['10.42.2.9'], conditions: { ready: false }, hostname: 'db-2' },
  ], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
  const name = 'db.default.svc.cluster.local';
  await within(1000, 'headless A', async () => dataOf(await query(port, name, 'A'), 'A').length === 2);
  assert.deepEqual(dataOf(await query(port, name, 'A'), 'A'), ['10.42.0.7', '10.42.1.8'], 'the not-ready endpoint is left out');
  assert.deepEqual(dataOf(await query(port, `db-1.${name}`, 'A'), 'A'), ['10.42.1.8']);
  assert.equal((await query(port, `db-2.${name}`, 'A')).rcode, 'NXDOMAIN');
  const srv = await query(port, `_pg._tcp.${name}`, 'SRV');
  assert.deepEqual(dataOf(srv, 'SRV'), [`0 50 5432 db-0.${name}`, `0 50 5432 db-1.${name}`]);
  assert.deepEqual(dataOf({ answers: srv.additionals }, 'A'), ['10.42.0.7', '10.42.1.8'], 'targets come with their addresses');
  assert.deepEqual(dataOf(await query(port, '8.1.42.10.in-addr.arpa', 'PTR'), 'PTR'), [`db-1.${name}`]);

  // The endpoint becomes ready: in within a second.
  const current = await client.get(endpointslices, 'default', 'db-a');
  await client.update(endpointslices, { ...current, endpoints: current.endpoints!.map((e) => ({ ...e, conditions: { ready: true } })) });
  await within(1000, 'ready endpoint added', async () => dataOf(await query(port, name, 'A'), 'A').length === 3);
});

test('TCP, truncation over UDP, EDNS0', async () => {
  const eps = Array.from({ length: 60 }, (_, i) => ready(`10.42.3.${i + 1}`));
  await client.create(services, { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] } } as Service);
  await client.create(endpointslices, slice('big', 'big-a', eps, [{ name: 'x', port: 1, protocol: 'TCP' }]));
  const name = 'big.default.svc.cluster.local';
  await within(2000, 'big over TCP', async () => dataOf(await query(port, name, 'A', { tcp: true }), 'A').length === 60);
  const udp = await query(port, name, 'A');
  assert.equal(udp.flag_tc, true, '60 A records do not fit 512 bytes');
  assert.ok(udp.size <= 512);
  assert.ok(udp.answers!.length > 0 && udp.answers!.length < 60, 'what fits is kept');
  const edns = await query(port, name, 'A', { edns: 4096 });
  assert.equal(edns.flag_tc, false, 'EDNS0 makes room (up to 1232 bytes)');
  assert.equal(dataOf(edns, 'A').length, 60);
  assert.ok(edns.additionals!.some((a) => a.type === 'OPT'));
  const small = await query(port, 'dns-version.cluster.local', 'TXT', { tcp: true });
  assert.deepEqual(dataOf(small, 'TXT'), ['1.1.0']);
});

test('pod records, NXDOMAIN and NODATA in the zone', async () => {
  assert.deepEqual(dataOf(await query(port, '10-42-0-15.default.pod.cluster.local', 'A'), 'A'), ['10.42.0.15']);
  const nx = await query(port, 'nothing.default.svc.cluster.local', 'A');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authorities![0].type, 'SOA');
  assert.equal((await query(port, 'nosuchns.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
  const ent = await query(port, 'default.svc.cluster.local', 'A');
  assert.equal(ent.rcode, 'NOERROR', 'a namespace with Services exists as a name');
  assert.equal(ent.answers!.length, 0);
  assert.equal((await query(port, 'cluster.local', 'SOA')).answers![0].type, 'SOA');
});

test('ExternalName is a CNAME; other names go to the upstream and are cached', async () => {
  await client.create(services, { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.test' } } as Service);
  const name = 'ext.default.svc.cluster.local';
  upstream.asked.length = 0;
  await within(1000, 'CNAME', async () => dataOf(await query(port, name, 'A'), 'CNAME')[0] === 'example.test');
  const chased = await query(port, name, 'A');
  assert.deepEqual(dataOf(chased, 'A'), ['192.0.2.1'], 'the CNAME target is resolved upstream');
  assert.deepEqual(upstream.asked, ['example.test A']);

  const first = await query(port, 'Example.Test', 'A');
  assert.deepEqual(dataOf(first, 'A'), ['192.0.2.1']);
  assert.equal(first.flag_aa, false);
  assert.equal(first.questions![0].name, 'Example.Test');
  const second = await query(port, 'example.test', 'A');
  assert.deepEqual(dataOf(second, 'A'), ['192.0.2.1']);
  assert.deepEqual(upstream.asked, ['example.test A'], 'later answers come from the cache');
  assert.ok(second.answers![0].type === 'A' && second.answers![0].ttl! <= 60);

  const nx = await query(port, 'missing.test', 'A');
  assert.equal(nx.rcode, 'NXDOMAIN');
  await query(port, 'missing.test', 'A');
  assert.equal(upstream.asked.filter((q) => q === 'missing.test A').length, 1, 'denials are cached too');

  // A 1 s TTL expires.
  await query(port, 'short.test', 'A');
  await new Promise((r) => setTimeout(r, 1100));
  await query(port, 'short.test', 'A');
  assert.equal(upstream.asked.filter((q) => q === 'short.test A').length, 2);

  // Over TCP the forwarder uses TCP too.
  assert.deepEqual(dataOf(await query(port, 'example.test', 'A', { tcp: true }), 'A'), ['192.0.2.1']);
});

test('ensureKubeDnsService makes kube-dns at 10.43.0.10, idempotently; a node registers its endpoint', async () => {
  const svc = await ensureKubeDnsService(client);
  assert.equal(svc.spec?.clusterIP, '10.43.0.10');
  assert.equal(svc.spec?.selector, undefined);
  assert.equal(svc.spec?.internalTrafficPolicy, 'Local');
  assert.deepEqual(svc.spec?.ports?.map((p) => `${p.name}/${p.port}/${p.protocol}`), ['dns/53/UDP', 'dns-tcp/53/TCP', 'metrics/9153/TCP']);
  const again = await ensureKubeDnsService(client);
  assert.equal(again.metadata?.uid, svc.metadata?.uid);
  assert.equal(again.metadata?.resourceVersion, svc.metadata?.resourceVersion, 'a second call changes nothing');
  await Promise.all([ensureKubeDnsService(client), ensureKubeDnsService(client)]);

  await within(1000, 'kube-dns A', async () => dataOf(await query(port, 'kube-dns.kube-system.svc.cluster.local', 'A'), 'A')[0] === '10.43.0.10');
  assert.deepEqual(dataOf(await query(port, '10.0.43.10.in-addr.arpa', 'PTR'), 'PTR'), ['kube-dns.kube-system.svc.cluster.local']);

  await dns.registerEndpoint('node-a', '10.42.0.1');
  const eps = await client.get(endpointslices, 'kube-system', dnsEndpointSliceName('node-a'));
  assert.equal(eps.metadata?.labels?.['kubernetes.io/service-name'], 'kube-dns');
  assert.equal(eps.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'], 'bosun-agent');
  assert.deepEqual(eps.endpoints?.map((e) => [e.addresses[0], e.nodeName, e.conditions?.ready]), [['10.42.0.1', 'node-a', true]]);
  await within(1000, 'endpoint name', async () => dataOf(await query(port, '10-42-0-1.kube-dns.kube-system.svc.cluster.local', 'A'), 'A')[0] === '10.42.0.1');

  // Deleted by someone else: the node puts its endpoint back.
  await client.delete(endpointslices, 'kube-system', dnsEndpointSliceName('node-a'));
  await within(5000, 're-registered', async () => !!(await client.get(endpointslices, 'kube-system', dnsEndpointSliceName('node-a'))));
});

test('metrics count requests by zone and type', async () => {
  const text = await dns.registry.metrics();
  assert.match(text, /coredns_dns_requests_total\{server="dns:\/\/",zone="cluster.local.",proto="udp",type="A"\} \d+/);
  assert.match(text, /coredns_dns_responses_total\{server="dns:\/\/",rcode="NXDOMAIN"\} \d+/);
  assert.match(text, /coredns_forward_requests_total\{to="127.0.0.1:\d+"\} \d+/);
});

test('stop removes the node endpoint', async () => {
  const extra = new ClusterDnsServer({ client, upstreams: [], log: () => {} });
  await extra.listen({ address: '127.0.0.1', port: 0 });
  await extra.registerEndpoint('node-b', '10.42.1.1');
  await client.get(endpointslices, 'kube-system', dnsEndpointSliceName('node-b'));
  await extra.stop();
  await assert.rejects(client.get(endpointslices, 'kube-system', dnsEndpointSliceName('node-b')), /not found/);
});

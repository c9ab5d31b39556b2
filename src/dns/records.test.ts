import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice, Endpoint } from 'kubernetes-types/discovery/v1';
import { endpointLabel, ipFromDashed, recordsForService, reverseName } from './records.js';
import { Zone, RCODE_NXDOMAIN, RCODE_NOERROR } from './zone.js';

const D = 'cluster.local';

function svc(name: string, spec: Service['spec'], ns = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec };
}

function slice(svcName: string, endpoints: Endpoint[], ports: EndpointSlice['ports'] = [], ns = 'default', name = `${svcName}-abc`): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svcName } },
    endpoints, ports,
  };
}

const ready = (ip: string, extra: Partial<Endpoint> = {}): Endpoint => ({ addresses: [ip], conditions: { ready: true }, ...extra });
const notReady = (ip: string): Endpoint => ({ addresses: [ip], conditions: { ready: false } });

test('reverse names and dashed addresses', () => {
  assert.equal(reverseName('10.43.0.10'), '10.0.43.10.in-addr.arpa');
  assert.equal(reverseName('fd00::1'), `1.0.0.0.${'0.'.repeat(24)}0.0.d.f.ip6.arpa`);
  assert.equal(reverseName('nope'), undefined);
  assert.equal(endpointLabel('10.42.0.5', undefined), '10-42-0-5');
  assert.equal(endpointLabel('10.42.0.5', 'web-0'), 'web-0');
  assert.equal(ipFromDashed('10-42-0-5'), '10.42.0.5');
  assert.equal(ipFromDashed('fd00--1'), 'fd00::1');
  assert.equal(ipFromDashed('300-1-1-1'), undefined);
});

test('a ClusterIP Service: A, PTR, SRV for named ports to the Service name, endpoint names', () => {
  const s = svc('web', { clusterIP: '10.43.0.20', clusterIPs: ['10.43.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9000 }] });
  const c = recordsForService(s, [slice('web', [ready('10.42.0.5'), notReady('10.42.0.6')], [{ name: 'http', port: 8080, protocol: 'TCP' }])], D);
  assert.deepEqual(c.get('web.default.svc.cluster.local')?.a, ['10.43.0.20']);
  assert.deepEqual(c.get('20.0.43.10.in-addr.arpa')?.ptr, ['web.default.svc.cluster.local']);
  assert.deepEqual(c.get('_http._tcp.web.default.svc.cluster.local')?.srv, [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
  // The unnamed port has no `_port._proto` name, but SRV at the Service lists it.
  assert.deepEqual(c.get('web.default.svc.cluster.local')?.srv?.map((r) => r.port), [80, 9000]);
  assert.deepEqual(c.get('10-42-0-5.web.default.svc.cluster.local')?.a, ['10.42.0.5']);
  assert.deepEqual(c.get('5.0.42.10.in-addr.arpa')?.ptr, ['10-42-0-5.web.default.svc.cluster.local']);
  assert.equal(c.has('10-42-0-6.web.default.svc.cluster.local'), false, 'a not-ready endpoint has no name');
  assert.equal(c.has('6.0.42.10.in-addr.arpa'), false);
});

test('a headless Service: every ready endpoint, hostnames, SRV per endpoint with its port', () => {
  const s = svc('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }, 'data');
  const slices = [
    slice('db', [ready('10.42.0.7', { hostname: 'db-0' }), ready('10.42.1.8', { hostname: 'db-1' })], [{ name: 'pg', port: 15432, protocol: 'TCP' }], 'data', 'db-1'),
    slice('db', [notReady('10.42.2.9'), ready('10.42.2.10')], [{ name: 'pg', port: 15432, protocol: 'TCP' }], 'data', 'db-2'),
  ];
  const c = recordsForService(s, slices, D);
  assert.deepEqual(c.get('db.data.svc.cluster.local')?.a, ['10.42.0.7', '10.42.1.8', '10.42.2.10']);
  assert.deepEqual(c.get('db-0.db.data.svc.cluster.local')?.a, ['10.42.0.7']);
  assert.deepEqual(c.get('7.0.42.10.in-addr.arpa')?.ptr, ['db-0.db.data.svc.cluster.local']);
  assert.deepEqual(c.get('10-42-2-10.db.data.svc.cluster.local')?.a, ['10.42.2.10']);
  const srv = c.get('_pg._tcp.db.data.svc.cluster.local')?.srv ?? [];
  assert.deepEqual(srv.map((r) => `${r.port} ${r.weight} ${r.target}`), [
    '15432 33 10-42-2-10.db.data.svc.cluster.local',
    '15432 33 db-0.db.data.svc.cluster.local',
    '15432 33 db-1.db.data.svc.cluster.local',
  ]);
});

test('an ExternalName Service is a CNAME; a Service without slices has its name only', () => {
  const ext = recordsForService(svc('search', { type: 'ExternalName', externalName: 'Example.COM.' }), [], D);
  assert.equal(ext.get('search.default.svc.cluster.local')?.cname, 'example.com');
  const empty = recordsForService(svc('lonely', { clusterIP: 'None' }), [], D);
  assert.deepEqual([...empty.keys()], ['lonely.default.svc.cluster.local']);
});

test('the zone: answers, NODATA, NXDOMAIN with SOA, parents, pod records, changes', () => {
  const zone = new Zone({ domain: D, nameserverIP: '10.43.0.10' });
  const s = svc('web', { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80 }] });
  let changed = zone.setOwner('default/web', recordsForService(s, [], D));
  assert.ok(changed.has('web.default.svc.cluster.local'));
  assert.ok(changed.has('default.svc.cluster.local'), 'a new parent changes from NXDOMAIN to NODATA');

  const a = zone.lookup('web.default.svc.cluster.local', 'A')!;
  assert.equal(a.rcode, RCODE_NOERROR);
  assert.deepEqual(a.answers.map((r) => [r.type, 'data' in r ? r.data : '', 'ttl' in r ? r.ttl : 0]), [['A', '10.43.0.20', 5]]);

  const aaaa = zone.lookup('web.default.svc.cluster.local', 'AAAA')!;
  assert.equal(aaaa.rcode, RCODE_NOERROR);
  assert.equal(aaaa.answers.length, 0);
  assert.equal(aaaa.authorities[0]?.type, 'SOA');

  const nx = zone.lookup('nope.default.svc.cluster.local', 'A')!;
  assert.equal(nx.rcode, RCODE_NXDOMAIN);
  assert.equal(nx.authorities[0]?.type, 'SOA');

  assert.equal(zone.lookup('default.svc.cluster.local', 'A')!.rcode, RCODE_NOERROR);
  assert.equal(zone.lookup('kube-system.svc.cluster.local', 'A')!.rcode, RCODE_NXDOMAIN);

  const srv = zone.lookup('_http._tcp.web.default.svc.cluster.local', 'SRV')!;
  assert.equal(srv.answers.length, 1);
  assert.deepEqual(srv.additionals.map((r) => 'data' in r && r.data), ['10.43.0.20']);

  const pod = zone.lookup('10-42-0-9.default.pod.cluster.local', 'A')!;
  assert.deepEqual(pod.answers.map((r) => 'data' in r && r.data), ['10.42.0.9']);
  assert.equal(zone.lookup('10-42-0-999.default.pod.cluster.local', 'A')!.rcode, RCODE_NXDOMAIN);

  assert.deepEqual(zone.lookup('dns-version.cluster.local', 'TXT')!.answers.map((r) => 'data' in r && r.data), ['1.1.0']);
  assert.deepEqual(zone.lookup('cluster.local', 'NS')!.answers.map((r) => 'data' in r && r.data), ['ns.dns.cluster.local']);
  assert.equal(zone.lookup('example.com', 'A'), undefined, 'not the zone: forwarded');
  assert.equal(zone.lookup('1.2.3.4.in-addr.arpa', 'PTR'), undefined, 'an unknown reverse name falls through');
  assert.deepEqual(zone.lookup('20.0.43.10.in-addr.arpa', 'PTR')!.answers.map((r) => 'data' in r && r.data), ['web.default.svc.cluster.local']);

  changed = zone.setOwner('default/web', undefined);
  assert.ok(changed.has('web.default.svc.cluster.local'));
  assert.equal(zone.lookup('web.default.svc.cluster.local', 'A')!.rcode, RCODE_NXDOMAIN);
  assert.equal(zone.lookup('default.svc.cluster.local', 'A')!.rcode, RCODE_NXDOMAIN);
  assert.equal(zone.lookup('20.0.43.10.in-addr.arpa', 'PTR'), undefined);
});

test('the zone: two Services sharing an endpoint both get its PTR; an in-zone CNAME is followed', () => {
  const zone = new Zone({ domain: D });
  const ep = [ready('10.42.0.5')];
  zone.setOwner('default/a', recordsForService(svc('a', { clusterIP: '10.43.0.21' }), [slice('a', ep)], D));
  zone.setOwner('default/b', recordsForService(svc('b', { clusterIP: '10.43.0.22' }), [slice('b', ep)], D));
  const ptr = zone.lookup('5.0.42.10.in-addr.arpa', 'PTR')!;
  assert.deepEqual(ptr.answers.map((r) => 'data' in r && r.data).sort(), ['10-42-0-5.a.default.svc.cluster.local', '10-42-0-5.b.default.svc.cluster.local']);
  zone.setOwner('default/alias', recordsForService(svc('alias', { type: 'ExternalName', externalName: 'a.default.svc.cluster.local' }), [], D));
  const chain = zone.lookup('alias.default.svc.cluster.local', 'A')!;
  assert.deepEqual(chain.answers.map((r) => r.type), ['CNAME', 'A']);
  assert.equal(chain.chase, undefined);
  zone.setOwner('default/out', recordsForService(svc('out', { type: 'ExternalName', externalName: 'example.com' }), [], D));
  assert.equal(zone.lookup('out.default.svc.cluster.local', 'A')!.chase, 'example.com');
});

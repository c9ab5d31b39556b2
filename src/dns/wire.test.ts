import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { nameOfWireKey, newQueryView, personalise, readQuery, wireKeyOf } from './wire.js';
import { parseUpstream, upstreamsFromResolvConf } from './forwarder.js';

const opt = { name: '.', type: 'OPT' as const, udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };

test('readQuery reads a plain query without decoding it, and keys it by its lower-cased wire name', () => {
  const v = newQueryView();
  const q = dnsPacket.encode({ type: 'query', id: 513, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'Web.Default.svc.cluster.local', type: 'SRV' }] });
  assert.equal(readQuery(q, v), true);
  assert.equal(v.id, 513);
  assert.equal(v.qtype, 33);
  assert.equal(v.qclass, 1);
  assert.equal(v.ednsSize, 0);
  assert.equal(v.wireKey, wireKeyOf('web.default.svc.cluster.local'));
  assert.equal(nameOfWireKey(v.wireKey), 'web.default.svc.cluster.local');

  const withOpt = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.b', type: 'A' }], additionals: [opt] });
  assert.equal(readQuery(withOpt, v), true);
  assert.equal(v.ednsSize, 4096);

  // The slow path gets everything unusual: responses, several questions, truncated messages.
  assert.equal(readQuery(dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'a.b', type: 'A' }] }), v), false);
  assert.equal(readQuery(dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.b', type: 'A' }, { name: 'c.d', type: 'A' }] }), v), false);
  assert.equal(readQuery(q.subarray(0, q.length - 3), v), false);
});

test('personalise gives a cached answer the query id, RD bit and the name as the query spelled it', () => {
  const v = newQueryView();
  const template = dnsPacket.encode({ type: 'response', id: 0, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: [{ name: 'web.default.svc.cluster.local', type: 'A' }], answers: [{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 5, data: '10.43.0.20' }] });
  const q = dnsPacket.encode({ type: 'query', id: 777, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'WEB.default.svc.cluster.local', type: 'A' }] });
  readQuery(q, v);
  const a = dnsPacket.decode(personalise(template, q, v));
  assert.equal(a.id, 777);
  assert.equal(a.flag_rd, true);
  assert.equal(a.flag_aa, true);
  assert.equal(a.questions![0].name, 'WEB.default.svc.cluster.local');
  assert.equal(a.answers![0].type === 'A' && a.answers![0].data, '10.43.0.20');
});

test('upstreams: resolv.conf nameservers without our own addresses; host:port forms', () => {
  const conf = '# generated\nsearch example.org\nnameserver 10.43.0.10\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver 10.42.0.1\noptions ndots:1\n';
  assert.deepEqual(upstreamsFromResolvConf(conf, ['10.42.0.1', '10.43.0.10']), [{ host: '192.0.2.53', port: 53 }, { host: 'fe80::1', port: 53 }]);
  assert.deepEqual(parseUpstream('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseUpstream('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(parseUpstream('fd00::53'), { host: 'fd00::53', port: 53 });
  assert.throws(() => parseUpstream('dns.example'), /not an IP address/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type Packet } from 'dns-packet';
import { encodeMessage } from './encode.js';

test('encodeMessage round-trips through dns-packet and compresses names', () => {
  const name = 'db.default.svc.cluster.local';
  const p: Packet = {
    type: 'response', id: 4242, flags: dnsPacket.AUTHORITATIVE_ANSWER | 3,
    questions: [{ name, type: 'SRV', class: 'IN' }],
    answers: [
      { name, type: 'SRV', class: 'IN', ttl: 5, data: { priority: 0, weight: 50, port: 5432, target: `db-0.${name}` } },
      { name, type: 'A', class: 'IN', ttl: 5, data: '10.42.0.7' },
      { name, type: 'AAAA', class: 'IN', ttl: 5, data: 'fd00::7' },
      { name, type: 'TXT', class: 'IN', ttl: 5, data: '1.1.0' },
      { name: `7.0.42.10.in-addr.arpa`, type: 'PTR', class: 'IN', ttl: 5, data: `db-0.${name}` },
      { name, type: 'CNAME', class: 'IN', ttl: 5, data: 'example.com' },
    ],
    authorities: [{ name: 'cluster.local', type: 'SOA', class: 'IN', ttl: 5, data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 7, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 } }],
    additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  };
  const ours = encodeMessage(p);
  const theirs = dnsPacket.encode(p);
  assert.ok(ours.length < theirs.length * 0.7, `${ours.length} bytes compressed vs ${theirs.length}`);
  const a = dnsPacket.decode(ours);
  const b = dnsPacket.decode(theirs);
  assert.deepEqual(a, b);
});

test('encodeMessage leaves record types it does not know to dns-packet', () => {
  const p: Packet = { type: 'response', id: 1, questions: [{ name: 'x.test', type: 'CAA' }], answers: [{ name: 'x.test', type: 'CAA', ttl: 1, data: { tag: 'issue', value: 'ca.test', flags: 0 } }] };
  assert.deepEqual(dnsPacket.decode(encodeMessage(p)), dnsPacket.decode(dnsPacket.encode(p)));
});

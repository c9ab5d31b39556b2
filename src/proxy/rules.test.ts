import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { categorizeEndpoints, endpointsFor, servicePortsOf, type EndpointInfo, type ServicePortInfo } from './model.js';
import {
  endpointChainName, hash16, jumpRules, renderRestore, serviceChainName, servicePortRules, validateChainPrefix,
  type RuleConfig, type ServicePortState,
} from './rules.js';
import { cleanupText } from './iptables.js';

const cfg: RuleConfig = {
  chainPrefix: 'KUBE', clusterCIDR: '10.42.0.0/16', masqueradeAll: false, masqueradeBit: 14,
  nodePortAddresses: ['192.168.1.10'], localhostNodePorts: false,
};

function svc(name: string, spec: Service['spec'], status?: Service['status']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns1', name }, spec, ...(status ? { status } : {}) };
}

function slice(service: string, eps: Array<{ ip: string; ready?: boolean; serving?: boolean; terminating?: boolean; node?: string }>, port = 8080, portName = 'p80'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: 'ns1', name: `${service}-abc`, labels: { 'kubernetes.io/service-name': service } },
    ports: [{ name: portName, port, protocol: 'TCP' }],
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, ...(e.serving !== undefined ? { serving: e.serving } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) },
      ...(e.node ? { nodeName: e.node } : {}),
    })),
  };
}

function state(service: Service, slices: EndpointSlice[], node = 'node-a'): ServicePortState[] {
  return servicePortsOf(service).map((port) => ({ port, endpoints: endpointsFor(port, slices, node) }));
}

const web = svc('svc1', { type: 'ClusterIP', clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 8080 }] });

test('chain names are upstream kube-proxy\'s hashes', () => {
  // From upstream's pkg/proxy/iptables/proxier_test.go.
  const port = { name: 'ns1/svc1:p80', protocol: 'TCP' as const };
  assert.equal(serviceChainName('KUBE', 'SVC', port), 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.equal(endpointChainName('KUBE', port, { ip: '10.180.0.1', port: 80 }), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  assert.equal(hash16('x').length, 16);
  assert.throws(() => validateChainPrefix('TOOLONG1'));
  assert.throws(() => validateChainPrefix('kube'));
  validateChainPrefix('KP12AB');
});

test('service ports: headless, ExternalName and named ports', () => {
  assert.deepEqual(servicePortsOf(svc('h', { clusterIP: 'None', ports: [{ port: 80 }] })), []);
  assert.deepEqual(servicePortsOf(svc('e', { type: 'ExternalName', externalName: 'example.org' })), []);
  const [p] = servicePortsOf(svc('s', {
    type: 'NodePort', clusterIP: '10.43.0.5', ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }],
    sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local',
  }));
  assert.equal(p!.name, 'ns1/s');
  assert.equal(p!.protocol, 'UDP');
  assert.equal(p!.nodePort, 30053);
  assert.equal(p!.stickySeconds, 10800);
  assert.equal(p!.externalPolicyLocal, true);
  const [lb] = servicePortsOf(svc('lb', { type: 'LoadBalancer', clusterIP: '10.43.0.6', ports: [{ port: 80, nodePort: 30080 }] }, { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } }));
  assert.deepEqual(lb!.externalIPs, ['192.168.1.10']);
});

test('endpoints: matched by port name, ready wins over a duplicate, nil ready means ready', () => {
  const [port] = servicePortsOf(web);
  const a = slice('svc1', [{ ip: '10.42.0.3', ready: false }, { ip: '10.42.0.2' }]);
  const b = slice('svc1', [{ ip: '10.42.0.3' }]);
  const other = slice('svc1', [{ ip: '10.42.0.9' }], 9090, 'metrics');
  a.endpoints!.push({ addresses: ['10.42.0.4'] });
  const eps = endpointsFor(port!, [a, b, other], 'node-a');
  assert.deepEqual(eps.map((e) => `${e.ip}:${e.port}:${e.ready}`), ['10.42.0.2:8080:true', '10.42.0.3:8080:true', '10.42.0.4:8080:true']);
});

test('categorize: ready only; serving-terminating only when none is ready; local by node name', () => {
  const port = servicePortsOf(web)[0]!;
  const ep = (ip: string, ready: boolean, serving: boolean, terminating: boolean, isLocal = false): EndpointInfo => ({ ip, port: 80, ready, serving, terminating, isLocal });
  let c = categorizeEndpoints(port, [ep('1.1.1.1', true, true, false), ep('1.1.1.2', false, true, true), ep('1.1.1.3', false, false, false)]);
  assert.deepEqual(c.cluster.map((e) => e.ip), ['1.1.1.1']);
  c = categorizeEndpoints(port, [ep('1.1.1.2', false, true, true), ep('1.1.1.3', false, false, true)]);
  assert.deepEqual(c.cluster.map((e) => e.ip), ['1.1.1.2']);
  c = categorizeEndpoints(port, [ep('1.1.1.3', false, false, false)]);
  assert.equal(c.hasAny, false);
  const local: ServicePortInfo = { ...port, internalPolicyLocal: true };
  c = categorizeEndpoints(local, [ep('1.1.1.1', true, true, false, true), ep('1.1.1.2', true, true, false)]);
  assert.deepEqual(c.cluster.map((e) => e.ip), ['1.1.1.1']);
  assert.deepEqual(c.local.map((e) => e.ip), ['1.1.1.1']);
});

test('cluster IP: KUBE-SERVICES → SVC (masquerade off-cluster, even random balance) → SEP (hairpin, DNAT)', () => {
  const [s] = state(web, [slice('svc1', [{ ip: '10.42.0.1' }, { ip: '10.42.0.2' }, { ip: '10.42.0.3' }, { ip: '10.42.0.4', ready: false }])]);
  const r = servicePortRules(s!, cfg);
  const svcChain = 'KUBE-SVC-XPGD46QRK7WJZT7O';
  assert.deepEqual(r.natServices, [`-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j ${svcChain}`]);
  assert.deepEqual(r.filterServices, []);
  const lines = r.natChains.get(svcChain)!;
  assert.equal(lines[0], `-A ${svcChain} -m comment --comment "ns1/svc1:p80 cluster IP" -d 172.30.0.41/32 -p tcp -m tcp --dport 80 ! -s 10.42.0.0/16 -j KUBE-MARK-MASQ`);
  assert.match(lines[1]!, /-> 10\.42\.0\.1:8080" -m statistic --mode random --probability 0\.3333333333 -j KUBE-SEP-/);
  assert.match(lines[2]!, /-> 10\.42\.0\.2:8080" -m statistic --mode random --probability 0\.5000000000 -j KUBE-SEP-/);
  assert.match(lines[3]!, /-> 10\.42\.0\.3:8080" -j KUBE-SEP-/);
  assert.equal(lines.length, 4, 'the unready endpoint gets no traffic');
  const sep = endpointChainName('KUBE', s!.port, { ip: '10.42.0.1', port: 8080 });
  assert.deepEqual(r.natChains.get(sep), [
    `-A ${sep} -m comment --comment "ns1/svc1:p80" -s 10.42.0.1/32 -j KUBE-MARK-MASQ`,
    `-A ${sep} -m comment --comment "ns1/svc1:p80" -p tcp -m tcp -j DNAT --to-destination 10.42.0.1:8080`,
  ]);
  assert.equal(r.natChains.size, 4);
});

test('no endpoints: REJECT in filter KUBE-SERVICES and KUBE-EXTERNAL-SERVICES, no nat chains', () => {
  const np = svc('np', { type: 'NodePort', clusterIP: '10.43.0.7', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] });
  const r = servicePortRules(state(np, [])[0]!, cfg);
  assert.deepEqual(r.natChains.size, 0);
  assert.deepEqual(r.natServices, []);
  assert.deepEqual(r.filterServices, ['-A KUBE-SERVICES -m comment --comment "ns1/np:p80 has no endpoints" -d 10.43.0.7/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset']);
  assert.deepEqual(r.filterExternal, ['-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/np:p80 has no endpoints" -d 192.168.1.10/32 -p tcp -m tcp --dport 30080 -j REJECT --reject-with tcp-reset']);
});

test('session affinity: recent-match rules before the balancing, --set in the endpoint chain', () => {
  const sticky = svc('svc1', { ...web.spec, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
  const [s] = state(sticky, [slice('svc1', [{ ip: '10.42.0.1' }, { ip: '10.42.0.2' }])]);
  const r = servicePortRules(s!, cfg);
  const lines = r.natChains.get('KUBE-SVC-XPGD46QRK7WJZT7O')!;
  const sep1 = endpointChainName('KUBE', s!.port, { ip: '10.42.0.1', port: 8080 });
  assert.match(lines[1]!, new RegExp(`-m recent --name ${sep1} --mask 255.255.255.255 --rsource --rcheck --seconds 60 --reap -j ${sep1}$`));
  assert.match(lines[3]!, /--probability 0\.5/);
  assert.match(r.natChains.get(sep1)![1]!, new RegExp(`-m recent --name ${sep1} --set -j DNAT --to-destination 10.42.0.1:8080$`));
});

test('NodePort: KUBE-NODEPORTS → EXT (masquerade) → SVC; externalTrafficPolicy Local → SVL of local endpoints', () => {
  const spec = { type: 'NodePort', clusterIP: '10.43.0.7', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] };
  const slices = [slice('np', [{ ip: '10.42.0.1', node: 'node-a' }, { ip: '10.42.1.1', node: 'node-b' }])];
  const cluster = servicePortRules(state(svc('np', spec), slices)[0]!, cfg);
  const ext = serviceChainName('KUBE', 'EXT', { name: 'ns1/np:p80', protocol: 'TCP' });
  const svcC = serviceChainName('KUBE', 'SVC', { name: 'ns1/np:p80', protocol: 'TCP' });
  const svl = serviceChainName('KUBE', 'SVL', { name: 'ns1/np:p80', protocol: 'TCP' });
  assert.deepEqual(cluster.natNodePorts, [`-A KUBE-NODEPORTS -m comment --comment "ns1/np:p80" -p tcp -m tcp --dport 30080 -j ${ext}`]);
  assert.deepEqual(cluster.natChains.get(ext), [
    `-A ${ext} -m comment --comment "masquerade traffic for ns1/np:p80 external destinations" -j KUBE-MARK-MASQ`,
    `-A ${ext} -j ${svcC}`,
  ]);
  assert.equal(cluster.natChains.has(svl), false);

  const local = servicePortRules(state(svc('np', { ...spec, externalTrafficPolicy: 'Local' }), slices)[0]!, cfg);
  assert.equal(local.natChains.get(ext)!.at(-1), `-A ${ext} -j ${svl}`);
  assert.ok(local.natChains.get(ext)!.some((l) => l.includes('-s 10.42.0.0/16') && l.endsWith(`-j ${svcC}`)), 'pods may use any endpoint');
  const svlLines = local.natChains.get(svl)!;
  assert.equal(svlLines.length, 1);
  assert.match(svlLines[0]!, /-> 10\.42\.0\.1:8080" -j KUBE-SEP-/);
  assert.equal(local.natChains.get(svcC)!.filter((l) => l.includes('KUBE-SEP-')).length, 2, 'cluster traffic still reaches both');

  // No endpoint on this node: external traffic is dropped, cluster IP traffic still flows.
  const remote = servicePortRules(state(svc('np', { ...spec, externalTrafficPolicy: 'Local' }), slices, 'node-c')[0]!, cfg);
  assert.deepEqual(remote.natNodePorts, []);
  assert.match(remote.filterExternal[0]!, /has no local endpoints" -d 192\.168\.1\.10\/32 -p tcp -m tcp --dport 30080 -j DROP$/);
  assert.equal(remote.natServices.length, 1);
});

test('external IPs jump from KUBE-SERVICES to the EXT chain', () => {
  const s = svc('x', { clusterIP: '10.43.0.8', externalIPs: ['192.168.1.50'], ports: [{ name: 'p80', port: 80 }] });
  const r = servicePortRules(state(s, [slice('x', [{ ip: '10.42.0.1' }])])[0]!, cfg);
  assert.equal(r.natServices.length, 2);
  assert.match(r.natServices[1]!, /"ns1\/x:p80 external IP" -d 192\.168\.1\.50\/32 -p tcp -m tcp --dport 80 -j KUBE-EXT-/);
});

test('restore text: only our chains, nodeports jump last, stale chains deleted after their jumps are gone', () => {
  const states = state(web, [slice('svc1', [{ ip: '10.42.0.1' }])]);
  const plan = renderRestore(states, cfg, { existingChains: ['KUBE-SVC-OLDOLDOLDOLDOLDO', 'KUBE-SEP-OLDOLDOLDOLDOLDO', 'OTHER-SVC-X'] });
  const lines = plan.text.split('\n');
  assert.equal(lines[0], '*filter');
  assert.ok(!lines.some((l) => /^:(PREROUTING|OUTPUT|INPUT|FORWARD|POSTROUTING) /.test(l)), 'built-in chains are never declared (that would flush them)');
  assert.ok(lines.every((l) => !l.startsWith('-A ') || l.startsWith('-A KUBE-')));
  const nat = lines.slice(lines.indexOf('*nat'));
  const services = nat.filter((l) => l.startsWith('-A KUBE-SERVICES '));
  assert.match(services.at(-1)!, /-d 192\.168\.1\.10\/32 -j KUBE-NODEPORTS$/);
  assert.ok(nat.includes(':KUBE-SVC-OLDOLDOLDOLDOLDO - [0:0]'));
  assert.deepEqual(nat.filter((l) => l.startsWith('-X ')), ['-X KUBE-SEP-OLDOLDOLDOLDOLDO', '-X KUBE-SVC-OLDOLDOLDOLDOLDO']);
  assert.ok(nat.indexOf('-X KUBE-SEP-OLDOLDOLDOLDOLDO') > nat.length - 1 - [...nat].reverse().findIndex((l) => l.startsWith('-A ')));
  assert.ok(!plan.text.includes('OTHER-SVC-X'));
  assert.equal(plan.deletedChains, 2);
  assert.ok(plan.text.includes('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'));
  assert.ok(plan.text.includes('-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'));
});

test('partial restore: unchanged services are not rewritten; a changed one is, and its dropped endpoint chain goes', () => {
  const other = svc('other', { clusterIP: '10.43.0.9', ports: [{ name: 'p80', port: 80 }] });
  const s1 = [...state(web, [slice('svc1', [{ ip: '10.42.0.1' }, { ip: '10.42.0.2' }])]), ...state(other, [slice('other', [{ ip: '10.42.0.5' }])])];
  const full = renderRestore(s1, cfg, { existingChains: [] });
  assert.equal(full.writtenChains, 5);
  const same = renderRestore(s1, cfg, { previous: full.services, existingChains: full.chains });
  assert.equal(same.writtenChains, 0);
  assert.equal(same.deletedChains, 0);
  assert.ok(same.text.includes('-A KUBE-SERVICES -m comment --comment "ns1/other:p80 cluster IP"'), 'the shared chains are always whole');
  const s2 = [...state(web, [slice('svc1', [{ ip: '10.42.0.1' }])]), ...state(other, [slice('other', [{ ip: '10.42.0.5' }])])];
  const changed = renderRestore(s2, cfg, { previous: full.services, existingChains: full.chains });
  assert.equal(changed.writtenChains, 2, 'SVC and SEP of svc1 only');
  assert.equal(changed.deletedChains, 1);
  assert.ok(changed.text.includes(`-X ${endpointChainName('KUBE', s1[0]!.port, { ip: '10.42.0.2', port: 8080 })}`));
  assert.ok(!changed.text.includes(serviceChainName('KUBE', 'SVC', s1[1]!.port) + ' - [0:0]'));
});

test('jump rules and clean-up text', () => {
  const jumps = jumpRules('KT1');
  assert.deepEqual(jumps.filter((j) => j.table === 'nat').map((j) => j.chain), ['PREROUTING', 'OUTPUT', 'POSTROUTING']);
  const saved = [
    '*nat', ':PREROUTING ACCEPT [0:0]', ':KT1-SERVICES - [0:0]', ':KT1-SVC-AAAA - [0:0]', ':KT12-SERVICES - [0:0]', ':OTHER - [0:0]',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KT1-SERVICES',
    '-A PREROUTING -j KT12-SERVICES',
    '-A PREROUTING -j OTHER',
    '-A KT1-SERVICES -d 10.43.0.1/32 -j KT1-SVC-AAAA',
    'COMMIT',
  ].join('\n');
  assert.equal(cleanupText('nat', saved, 'KT1'), [
    '*nat',
    '-D PREROUTING -m comment --comment "kubernetes service portals" -j KT1-SERVICES',
    ':KT1-SERVICES - [0:0]', ':KT1-SVC-AAAA - [0:0]', '-X KT1-SERVICES', '-X KT1-SVC-AAAA', 'COMMIT', '',
  ].join('\n'));
  assert.equal(cleanupText('filter', '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', 'KT1'), '');
});

test('a very large change is split into transactions of whole services; shared chains switch after them, stale chains go last', () => {
  const many = Array.from({ length: 4 }, (_, i) => state(
    svc(`s${i}`, { clusterIP: `10.43.0.${i + 1}`, ports: [{ name: 'p80', port: 80 }] }),
    [slice(`s${i}`, [{ ip: `10.42.0.${i + 1}` }, { ip: `10.42.1.${i + 1}` }])],
  )).flat();
  const plan = renderRestore(many, cfg, { existingChains: ['KUBE-SVC-OLDOLDOLDOLDOLDO'], maxChainsPerRestore: 4 });
  // 4 services × 3 chains, 4 per restore → one service each, then the shared chains, then flush and delete of the stale one.
  assert.equal(plan.restores.length, 4 + 1 + 2);
  assert.match(plan.restores[0]!, /:KUBE-MARK-MASQ - \[0:0\][\s\S]*-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000/);
  for (const [i, r] of plan.restores.slice(0, 4).entries()) {
    assert.ok(!r.includes('KUBE-SERVICES'), `batch ${i} leaves the shared chains alone`);
    assert.equal(r.match(/^:KUBE-(SVC|SEP)-/gm)!.length, 3, `batch ${i} holds one whole service`);
  }
  assert.match(plan.restores[4]!, /^\*filter[\s\S]*\*nat\n:KUBE-SERVICES/);
  assert.equal(plan.restores[5], '*nat\n:KUBE-SVC-OLDOLDOLDOLDOLDO - [0:0]\nCOMMIT\n');
  assert.equal(plan.restores[6], '*nat\n:KUBE-SVC-OLDOLDOLDOLDOLDO - [0:0]\n-X KUBE-SVC-OLDOLDOLDOLDOLDO\nCOMMIT\n');
  assert.equal(renderRestore(many, cfg, { existingChains: [] }).restores.length, 1, 'one transaction below the limit');
});

test('large-cluster mode: above 1000 endpoints the per-endpoint rules carry no comments', () => {
  const big = state(web, [slice('svc1', Array.from({ length: 1001 }, (_, i) => ({ ip: `10.42.${i >> 8}.${(i & 255) + 1}` })))]);
  const plan = renderRestore(big, cfg, { existingChains: [] });
  const sepLines = plan.text.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') || (l.startsWith('-A KUBE-SVC-') && l.includes('-j KUBE-SEP-')));
  assert.equal(sepLines.length, 1001 * 3);
  assert.ok(sepLines.every((l) => !l.includes('--comment')));
  assert.ok(plan.text.includes('"ns1/svc1:p80 cluster IP"'), 'service-level rules keep theirs');
});

test('localhost node ports: 127.0.0.1 leads to KUBE-NODEPORTS, and outside packets to 127/8 are dropped', () => {
  const on = renderRestore([], { ...cfg, localhostNodePorts: true }, { existingChains: [] }).text;
  assert.match(on, /-A KUBE-SERVICES .*-d 127\.0\.0\.1\/32 -j KUBE-NODEPORTS/);
  assert.match(on, /-A KUBE-FIREWALL ! -s 127\.0\.0\.0\/8 -d 127\.0\.0\.0\/8 .*! --ctstate RELATED,ESTABLISHED,DNAT -j DROP/);
  const off = renderRestore([], { ...cfg, nodePortAddresses: [] }, { existingChains: [] }).text;
  assert.match(off, /-A KUBE-SERVICES -d 127\.0\.0\.0\/8 -j RETURN\n-A KUBE-SERVICES .*-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS/);
  assert.ok(!off.includes('-A KUBE-FIREWALL'));
  const loopbackNode = renderRestore([], { ...cfg, nodePortAddresses: ['127.0.0.1'], localhostNodePorts: true }, { existingChains: [] }).text;
  assert.equal(loopbackNode.match(/-j KUBE-NODEPORTS/g)!.length, 1, 'a node at 127.0.0.1 gets one jump');
});

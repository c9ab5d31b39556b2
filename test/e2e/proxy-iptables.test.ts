/**
 * The proxy end to end, as root, with the machine's iptables: "pods" are
 * network namespaces on a test bridge running busybox httpd, each answering
 * its own name; Services and EndpointSlices live in an in-process API
 * server; a Proxier with a chain prefix of its own programs the kernel.
 * Traffic goes only to the namespaces and addresses made here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { Client, endpointslices, services } from '../../src/client/index.js';
import { Proxier, cleanupProxyRules, ownRulesLeft, serviceChainName } from '../../src/proxy/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../controllers/env.js';
import { NetLab, freeTestOctet, run, sh, type TestBridge, type TestNetns } from '../helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const NODE = 'proxy-e2e-node';
const PREFIX = `KP${(process.pid % 100_000).toString(36).toUpperCase()}`;

describe('proxy: iptables rules through real namespaces', { skip: !isRoot && 'needs root (network namespaces, iptables)', concurrency: false }, () => {
  let ts: TestServer;
  let client: Client;
  const lab = new NetLab('proxy');
  let br: TestBridge;
  let octet: number;
  const backends: TestNetns[] = [];
  let clientNs: TestNetns;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  let proxier: Proxier;
  const registry = new Registry();
  const logs: string[] = [];

  const podIP = (n: number) => `10.42.${octet}.${n}`;
  const svcIP = (n: number) => `10.43.${octet}.${n}`;

  async function makeService(name: string, n: number, spec: Partial<NonNullable<Service['spec']>> = {}): Promise<Service> {
    const svc = await client.create(services, {
      metadata: { namespace: 'default', name },
      spec: { clusterIP: svcIP(n), ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }], ...spec },
    });
    // The address routes to the test bridge: without rules its packets die here instead of leaving the machine.
    await lab.route([`${svcIP(n)}/32`, 'dev', br.name]);
    return svc;
  }

  function sliceFor(service: string, ips: Array<{ ip: string; ready?: boolean }>): EndpointSlice {
    return {
      metadata: { namespace: 'default', name: `${service}-manual`, labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      ports: [{ name: '', port: 80, protocol: 'TCP' }],
      endpoints: ips.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false }, nodeName: NODE })),
    };
  }

  /** Names answered over `n` requests from `from` (a namespace, or the host when undefined). */
  async function names(url: string, n: number, from?: TestNetns): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const body = from ? await from.fetch(url) : await sh(['busybox', 'wget', '-qO-', url], { timeoutMs: 5000 });
      seen.set(body.trim(), (seen.get(body.trim()) ?? 0) + 1);
    }
    return seen;
  }

  const chainsNow = async () => (await sh(['iptables-save', '-t', 'nat'])).split('\n').filter((l) => l.startsWith(`:${PREFIX}-`)).map((l) => l.slice(1).split(' ')[0]!);

  before(async () => {
    await cleanupProxyRules(PREFIX); // a crashed earlier run with the same pid
    octet = await freeTestOctet();
    ts = await startTestServer();
    client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
    br = await lab.bridge(`10.42.${octet}.1/24`);
    for (let i = 1; i <= 3; i++) {
      // Hairpin on, as the agent's CNI bridge has it: a pod's packet DNATed back to itself leaves by the port it came in.
      const ns = await lab.netns(`web-${i}`, br, podIP(10 + i), { hairpin: true });
      await ns.serveHttp(`web-${i}`);
      backends.push(ns);
    }
    clientNs = await lab.netns('client', br, podIP(100));
    proxier = new Proxier({
      client, nodeName: NODE, nodeIPs: [br.address], clusterCIDR: '10.42.0.0/16', chainPrefix: PREFIX,
      minSyncPeriodMs: 100, syncPeriodMs: 20_000, metrics: registry, log: (m) => logs.push(m),
    });
    running = proxier.run(abort.signal);
  });

  after(async () => {
    abort.abort();
    await running;
    const errors: unknown[] = [];
    for (const step of [() => cleanupProxyRules(PREFIX), () => lab.cleanup(), async () => client?.close(), () => ts?.stop()]) {
      try { await step(); } catch (err) { errors.push(err); }
    }
    if (process.env.BOSUN_TEST_LOGS) for (const l of logs) console.error(l);
    if (errors.length > 0) throw errors[0];
  });

  test('a ClusterIP reaches all three backends, from a pod and from the node', async () => {
    await makeService('web', 10, { type: 'NodePort', ports: [{ port: 80, targetPort: 80, protocol: 'TCP', nodePort: 30000 + (process.pid % 2000) }] });
    await client.create(endpointslices, sliceFor('web', [1, 2, 3].map((i) => ({ ip: podIP(10 + i) }))));
    await eventually('the web service answering', async () => (await clientNs.exec(['busybox', 'wget', '-qO-', `http://${svcIP(10)}/`], { timeoutMs: 2000 })).code === 0, 15_000, 100);
    const fromPod = await eventually('all three backends from the client pod', async () => {
      const seen = await names(`http://${svcIP(10)}/`, 30, clientNs);
      return seen.size === 3 ? seen : undefined;
    }, 30_000, 0);
    assert.deepEqual([...fromPod.keys()].sort(), ['web-1', 'web-2', 'web-3']);
    const fromHost = await names(`http://${svcIP(10)}/`, 30);
    assert.ok([...fromHost.keys()].every((k) => /^web-[123]$/.test(k)), `host saw ${[...fromHost.keys()]}`);
    assert.ok(fromHost.size >= 2, `30 requests from the host spread over ${fromHost.size} backend(s)`);
  });

  test('a NodePort answers on the node\'s address, from a pod and from the node', async () => {
    const svc = await client.get(services, 'default', 'web');
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    const url = `http://${br.address}:${nodePort}/`;
    const fromPod = await names(url, 20, clientNs);
    assert.ok([...fromPod.keys()].every((k) => /^web-[123]$/.test(k)) && fromPod.size >= 2, `pod saw ${JSON.stringify([...fromPod])}`);
    const fromHost = await names(url, 20);
    assert.ok([...fromHost.keys()].every((k) => /^web-[123]$/.test(k)) && fromHost.size >= 2, `host saw ${JSON.stringify([...fromHost])}`);
  });

  test('a pod reaches itself through the service (hairpin)', async () => {
    const self = backends[0]!;
    const seen = await eventually('web-1 answering web-1 through the ClusterIP', async () => {
      const s = await names(`http://${svcIP(10)}/`, 10, self);
      return s.has('web-1') ? s : undefined;
    }, 20_000, 0);
    assert.ok(seen.has('web-1'));
  });

  test('an endpoint marked not ready stops getting traffic within seconds, and comes back', async () => {
    const slice = await client.get(endpointslices, 'default', 'web-manual');
    slice.endpoints![2]!.conditions = { ready: false, serving: false, terminating: false };
    const changed = Date.now();
    await client.update(endpointslices, slice);
    await eventually('the rules without web-3', async () => !(await sh(['iptables-save', '-t', 'nat'])).includes(`${podIP(13)}:80`), 5000, 50);
    const took = Date.now() - changed;
    assert.ok(took < 5000, `rules changed after ${took} ms`);
    const seen = await names(`http://${svcIP(10)}/`, 30, clientNs);
    assert.equal(seen.get('web-3'), undefined, `web-3 still answered: ${JSON.stringify([...seen])}`);
    assert.deepEqual([...seen.keys()].sort(), ['web-1', 'web-2']);

    const again = await client.get(endpointslices, 'default', 'web-manual');
    again.endpoints![2]!.conditions = { ready: true, serving: true, terminating: false };
    await client.update(endpointslices, again);
    await eventually('web-3 answering again', async () => (await names(`http://${svcIP(10)}/`, 10, clientNs)).has('web-3'), 15_000, 0);
  });

  test('sessionAffinity ClientIP sticks to one backend', async () => {
    await makeService('sticky', 11, { sessionAffinity: 'ClientIP' });
    await client.create(endpointslices, sliceFor('sticky', [1, 2, 3].map((i) => ({ ip: podIP(10 + i) }))));
    await eventually('sticky answering', async () => (await clientNs.exec(['busybox', 'wget', '-qO-', `http://${svcIP(11)}/`], { timeoutMs: 2000 })).code === 0, 15_000, 100);
    const seen = await names(`http://${svcIP(11)}/`, 20, clientNs);
    assert.equal(seen.size, 1, `one client saw ${JSON.stringify([...seen])}`);
  });

  test('a Service without endpoints is rejected at once, not left to time out', async () => {
    await makeService('empty', 12);
    await eventually('the REJECT rule', async () => (await sh(['iptables-save', '-t', 'filter'])).includes(`${svcIP(12)}/32`), 10_000, 50);
    // What starting wget in the namespace costs on this (busy) machine, against a Service that answers.
    const t0 = Date.now();
    await clientNs.fetch(`http://${svcIP(10)}/`);
    const baseline = Date.now() - t0;
    const started = Date.now();
    const r = await clientNs.exec(['busybox', 'wget', '-qO-', `http://${svcIP(12)}/`], { timeoutMs: 10_000 });
    const took = Date.now() - started;
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, 124, 'timed out instead of being refused');
    assert.match(r.stderr, /refused/i);
    // A refusal that needed a SYN retransmit would take a second or more.
    assert.ok(took < baseline + 500, `refused after ${took} ms (a good request took ${baseline} ms)`);
    const fromHost = await run(['busybox', 'wget', '-qO-', `http://${svcIP(12)}/`], { timeoutMs: 10_000 });
    assert.match(fromHost.stderr, /refused/i);
  });

  test('deleting a Service removes its chains', async () => {
    const svcChain = serviceChainName(PREFIX, 'SVC', { name: 'default/sticky', protocol: 'TCP' });
    assert.ok((await chainsNow()).includes(svcChain), `${svcChain} exists`);
    const sepsBefore = [...new Set((await sh(['iptables-save', '-t', 'nat'])).split('\n').filter((l) => l.startsWith(`-A ${svcChain} `) && l.includes('-SEP-')).map((l) => / -j (\S+)$/.exec(l)![1]!))];
    assert.equal(sepsBefore.length, 3);
    await client.delete(services, 'default', 'sticky');
    await client.delete(endpointslices, 'default', 'sticky-manual');
    await eventually('the sticky chains gone', async () => {
      const chains = await chainsNow();
      return !chains.includes(svcChain) && sepsBefore.every((s) => !chains.includes(s));
    }, 10_000, 50);
    assert.ok(!(await sh(['iptables-save'])).includes(svcIP(11)), 'no rule mentions the deleted ClusterIP');
    // The others still work.
    assert.match(await clientNs.fetch(`http://${svcIP(10)}/`), /^web-[123]$/);
  });

  test('later syncs are partial and recorded in the sync-duration histogram', async () => {
    assert.equal(proxier.lastSync?.full, false);
    const metric = await registry.getSingleMetricAsString('kubeproxy_sync_proxy_rules_duration_seconds');
    const count = Number(/kubeproxy_sync_proxy_rules_duration_seconds_count (\d+)/.exec(metric)?.[1]);
    assert.ok(count >= 3, metric);
  });

  test('cleanupProxyRules leaves nothing of ours', async () => {
    abort.abort();
    await running;
    assert.ok((await ownRulesLeft(PREFIX)).length > 0);
    await cleanupProxyRules(PREFIX);
    assert.deepEqual(await ownRulesLeft(PREFIX), []);
    const saved = await sh(['iptables-save']);
    assert.ok(!saved.includes(`${PREFIX}-`), saved.split('\n').filter((l) => l.includes(PREFIX)).join('\n'));
    await cleanupProxyRules(PREFIX); // idempotent
  });
});

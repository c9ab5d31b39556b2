/**
 * Cluster DNS end to end, as root: the server listens on a test bridge's
 * gateway address, port 53, as an agent does on its pod bridge; a "pod" is
 * a network namespace on that bridge whose resolv.conf is the one the
 * kubelet writes for dnsPolicy ClusterFirst (through `ip netns exec`'s
 * /etc/netns/<ns>/resolv.conf). Real resolvers ask: glibc (`getent`, with
 * the search path, ndots:5 and its TCP retry after a truncated answer) and
 * busybox `nslookup`. Upstream is a fake resolver on loopback. Traffic goes
 * only to the bridge and namespace made here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { Client, endpointslices, services } from '../../src/client/index.js';
import { ClusterDnsServer, ensureKubeDnsService } from '../../src/dns/index.js';
import { startFakeUpstream, type FakeUpstream } from '../../src/dns/testing.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../controllers/env.js';

const isRoot = process.getuid?.() === 0;
const tag = `dn${(process.pid % 100_000).toString(36)}`;
const NS = `dns-${tag}-pod`;
const BRIDGE = `b${tag}`;
const VETH = `v${tag}`;

interface Result { code: number; stdout: string; stderr: string }
function run(argv: string[], timeoutMs = 10_000): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => { clearTimeout(timer); resolve({ code: 127, stdout, stderr: String(err) }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 124, stdout, stderr }); });
  });
}
async function sh(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const inPod = (argv: string[]) => run(['ip', 'netns', 'exec', NS, ...argv]);

/** `getent ahostsv4 NAME` inside the pod: its addresses, sorted (none when it does not resolve). */
async function resolve(name: string): Promise<string[]> {
  const r = await inPod(['getent', 'ahostsv4', name]);
  if (r.code !== 0) return [];
  return [...new Set(r.stdout.split('\n').filter((l) => l.includes('STREAM')).map((l) => l.split(/\s+/)[0]))].sort();
}

/** A third octet of 10.42.x.0/24 no other test network uses now (the proxy tests take 200–249). */
async function freeOctet(): Promise<number> {
  const used = await sh(['ip', '-4', 'addr']) + await sh(['ip', '-4', 'route']);
  for (let i = 0; i < 50; i++) {
    const o = 150 + ((process.pid + i * 7) % 50);
    if (!used.includes(`10.42.${o}.`)) return o;
  }
  throw new Error('no free 10.42.1xx.0/24 for the test network');
}

describe('cluster DNS from a pod network namespace', { skip: !isRoot && 'needs root (network namespaces, port 53)', concurrency: false }, () => {
  let ts: TestServer;
  let client: Client;
  let upstream: FakeUpstream;
  let dns: ClusterDnsServer;
  let gateway: string;
  let madeNetnsDir = false;
  const logs: string[] = [];

  before(async () => {
    ts = await startTestServer();
    client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
    upstream = await startFakeUpstream({ 'example.test': [{ name: 'example.test', type: 'A', ttl: 30, data: '192.0.2.1' }] });
    const octet = await freeOctet();
    gateway = `10.42.${octet}.1`;
    await sh(['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
    // As in an agent, the server may start before the bridge has its gateway address: it waits for it.
    dns = new ClusterDnsServer({ client, upstreams: [`127.0.0.1:${upstream.port}`], log: (m) => logs.push(m) });
    const listening = dns.listen({ address: gateway, port: 53, waitForAddressMs: 10_000 });
    listening.catch(() => { /* awaited below */ });
    await new Promise((r) => setTimeout(r, 300));
    await sh(['ip', 'addr', 'add', `${gateway}/24`, 'dev', BRIDGE]);
    await sh(['ip', 'link', 'set', BRIDGE, 'up']);
    await sh(['ip', 'netns', 'add', NS]);
    await sh(['ip', 'link', 'add', VETH, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS]);
    await sh(['ip', 'link', 'set', VETH, 'master', BRIDGE]);
    await sh(['ip', 'link', 'set', VETH, 'up']);
    await sh(['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
    await sh(['ip', 'netns', 'exec', NS, 'ip', 'addr', 'add', `10.42.${octet}.2/24`, 'dev', 'eth0']);
    await sh(['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'eth0', 'up']);
    // What the kubelet writes for dnsPolicy ClusterFirst in namespace default, with the node's resolver as nameserver.
    madeNetnsDir = !existsSync('/etc/netns');
    await mkdir(`/etc/netns/${NS}`, { recursive: true });
    await writeFile(`/etc/netns/${NS}/resolv.conf`,
      `nameserver ${gateway}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
    await listening;
    await ensureKubeDnsService(client);
    await dns.registerEndpoint('dns-e2e-node', gateway);
  });

  after(async () => {
    await dns?.stop();
    await upstream?.stop();
    client?.close();
    await ts?.stop();
    await run(['ip', 'netns', 'del', NS]);
    await run(['ip', 'link', 'del', VETH]);
    await run(['ip', 'link', 'del', BRIDGE]);
    await rm(`/etc/netns/${NS}`, { recursive: true, force: true });
    if (madeNetnsDir) await rmdir('/etc/netns').catch(() => { /* another test's namespace uses it now */ });
    if (process.env.BOSUN_TEST_LOGS) for (const l of logs) console.error(l);
  });

  test('a Service by its short name, with its namespace, and fully qualified; PTR; then gone when deleted', async () => {
    const svc = await client.create(services, {
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    } as Service);
    const ip = svc.spec!.clusterIP!;
    await eventually('web resolves', async () => (await resolve('web'))[0] === ip, 5000);
    assert.deepEqual(await resolve('web.default'), [ip]);
    assert.deepEqual(await resolve('web.default.svc.cluster.local'), [ip]);

    const ptr = await inPod(['getent', 'hosts', ip]);
    assert.match(ptr.stdout, /web\.default\.svc\.cluster\.local/);

    const srv = await inPod(['busybox', 'nslookup', '-type=srv', '_http._tcp.web.default.svc.cluster.local', gateway]);
    assert.match(srv.stdout, /_http\._tcp\.web\.default\.svc\.cluster\.local\s+service = 0 100 80 web\.default\.svc\.cluster\.local/);

    await client.delete(services, 'default', 'web');
    await eventually('web is gone', async () => (await resolve('web')).length === 0, 5000);
    const nx = await inPod(['busybox', 'nslookup', 'web.default.svc.cluster.local', gateway]);
    assert.match(nx.stdout + nx.stderr, /NXDOMAIN/);
  });

  test('a headless Service resolves to every ready pod; 60 of them come over TCP after a truncated UDP answer', async () => {
    await client.create(services, { metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } } as Service);
    const slice = (name: string, ips: string[], notReady: string[] = []): EndpointSlice => ({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': name.split('-')[0] } },
      endpoints: [...ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })), ...notReady.map((ip) => ({ addresses: [ip], conditions: { ready: false } }))],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    });
    await client.create(endpointslices, slice('db-a', ['10.42.250.11', '10.42.250.12', '10.42.250.13'], ['10.42.250.14']));
    await eventually('db resolves to the ready pods', async () => (await resolve('db')).length === 3, 5000);
    assert.deepEqual(await resolve('db'), ['10.42.250.11', '10.42.250.12', '10.42.250.13']);

    await client.create(services, { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } } as Service);
    await client.create(endpointslices, slice('big-a', Array.from({ length: 60 }, (_, i) => `10.42.251.${i + 1}`)));
    await eventually('big resolves to all 60', async () => (await resolve('big.default')).length === 60, 5000);
  });

  test('kube-dns itself, a pod record, and an outside name through the upstream', async () => {
    assert.deepEqual(await resolve('kube-dns.kube-system'), ['10.43.0.10']);
    assert.deepEqual(await resolve('10-42-0-33.default.pod.cluster.local'), ['10.42.0.33']);
    assert.deepEqual(await resolve('example.test'), ['192.0.2.1']);
    assert.ok(upstream.asked.includes('example.test A'));
    assert.deepEqual(await resolve('nothing-here.test'), []);
  });
});

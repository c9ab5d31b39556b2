import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ApiHttp } from '../helpers/http.js';
import { startEtcd } from '../helpers/etcd.js';
import { SERVICE_IPS_PREFIX } from '../../src/apiserver/allocation/ip-allocator.js';
import { SERVICE_NODE_PORTS_PREFIX } from '../../src/apiserver/allocation/port-allocator.js';

const SVCS = '/api/v1/namespaces/default/services';

const svc = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});

const inServiceCidr = (ip: string | undefined) => /^10\.43\.\d{1,3}\.\d{1,3}$/.test(ip ?? '');

describe('service IP and NodePort allocation', () => {
  let t: TestServer;
  let http: ApiHttp;
  before(async () => {
    t = await startTestServer();
    http = new ApiHttp(t.url, t.dataDir);
  });
  after(async () => { http.close(); await t.stop(); });

  it('allocates a ClusterIP for kubectl create service, shown by kubectl get svc', async () => {
    const created = await t.kubectl(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
    assert.equal(created.code, 0, created.stderr);
    const got = (await http.request('GET', `${SVCS}/web`)).json<Service>();
    const ip = got.spec?.clusterIP;
    assert.ok(inServiceCidr(ip), `clusterIP ${ip}`);
    assert.notEqual(ip, '10.43.0.1');
    assert.deepEqual(got.spec?.clusterIPs, [ip]);
    assert.deepEqual(got.spec?.ipFamilies, ['IPv4']);
    assert.equal(got.spec?.ipFamilyPolicy, 'SingleStack');
    assert.ok(await t.server.apiserver!.store.get(`${SERVICE_IPS_PREFIX}${ip}`), 'allocation key written');
    const table = await t.kubectl(['get', 'svc', 'web']);
    assert.match(table.stdout, new RegExp(`web\\s+ClusterIP\\s+${ip!.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP`));
  });

  it('honours a requested free IP and refuses a taken or out-of-range one with 422', async () => {
    const first = await http.request('POST', SVCS, svc('req-a', { clusterIP: '10.43.0.5' }));
    assert.equal(first.status, 201, first.body);
    assert.equal(first.json<Service>().spec?.clusterIP, '10.43.0.5');

    const taken = await http.request('POST', SVCS, svc('req-b', { clusterIP: '10.43.0.5' }));
    assert.equal(taken.status, 422);
    assert.equal(taken.json<{ message: string }>().message,
      'Service "req-b" is invalid: spec.clusterIPs: Invalid value: ["10.43.0.5"]: failed to allocate IP 10.43.0.5: provided IP is already allocated');

    const out = await http.request('POST', SVCS, svc('req-c', { clusterIP: '10.44.0.5' }));
    assert.equal(out.status, 422);
    assert.match(out.json<{ message: string }>().message,
      /spec\.clusterIPs: Invalid value: \["10\.44\.0\.5"\]: failed to allocate IP 10\.44\.0\.5: provided IP is not in the valid range\. The range of valid IPs is 10\.43\.0\.0\/16/);

    const viaKubectl = await t.kubectl(['create', 'service', 'clusterip', 'req-d', '--tcp=80:8080', '--clusterip=10.43.0.5']);
    assert.notEqual(viaKubectl.code, 0);
    assert.match(viaKubectl.stderr, /failed to allocate IP 10\.43\.0\.5: provided IP is already allocated/);
    // Nothing leaked from the failures: the refused services exist nowhere.
    assert.equal((await http.request('GET', `${SVCS}/req-b`)).status, 404);
  });

  it('releases the IP and node ports on delete, so they can be requested again', async () => {
    const a = await http.request('POST', SVCS, svc('rel', { clusterIP: '10.43.0.7', type: 'NodePort', ports: [{ port: 80, nodePort: 30707 }] }));
    assert.equal(a.status, 201, a.body);
    assert.equal((await http.request('DELETE', `${SVCS}/rel`)).status, 200);
    assert.equal(await t.server.apiserver!.store.get(`${SERVICE_IPS_PREFIX}10.43.0.7`), undefined);
    assert.equal(await t.server.apiserver!.store.get(`${SERVICE_NODE_PORTS_PREFIX}30707`), undefined);
    const again = await http.request('POST', SVCS, svc('rel2', { clusterIP: '10.43.0.7', type: 'NodePort', ports: [{ port: 80, nodePort: 30707 }] }));
    assert.equal(again.status, 201, again.body);
  });

  it('allocates node ports in range, shown as 80:3xxxx/TCP, and refuses a taken one', async () => {
    const created = await t.kubectl(['create', 'service', 'nodeport', 'np', '--tcp=80:8080']);
    assert.equal(created.code, 0, created.stderr);
    const got = (await http.request('GET', `${SVCS}/np`)).json<Service>();
    const nodePort = got.spec?.ports?.[0]?.nodePort ?? 0;
    assert.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort}`);
    const table = await t.kubectl(['get', 'svc', 'np']);
    assert.match(table.stdout, new RegExp(`np\\s+NodePort\\s+10\\.43\\.\\S+\\s+<none>\\s+80:${nodePort}/TCP`));

    const taken = await http.request('POST', SVCS, svc('np2', { type: 'NodePort', ports: [{ port: 80, nodePort }] }));
    assert.equal(taken.status, 422);
    assert.equal(taken.json<{ message: string }>().message, `Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: ${nodePort}: provided port is already allocated`);
    const outside = await http.request('POST', SVCS, svc('np3', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }));
    assert.equal(outside.status, 422);
    assert.match(outside.json<{ message: string }>().message, /provided port is not in the valid range\. The range of valid ports is 30000-32767/);
  });

  it('releases node ports when the type goes back to ClusterIP, keeping the IP', async () => {
    const created = await http.request('POST', SVCS, svc('flip', { type: 'NodePort', ports: [{ port: 80, nodePort: 30808 }] }));
    assert.equal(created.status, 201, created.body);
    const ip = created.json<Service>().spec?.clusterIP;
    const patched = await http.request('PATCH', `${SVCS}/flip`, { spec: { type: 'ClusterIP', ports: [{ port: 80, targetPort: 8080 }] } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patched.status, 200, patched.body);
    assert.equal(patched.json<Service>().spec?.clusterIP, ip);
    assert.equal(await t.server.apiserver!.store.get(`${SERVICE_NODE_PORTS_PREFIX}30808`), undefined);
    assert.ok(await t.server.apiserver!.store.get(`${SERVICE_IPS_PREFIX}${ip}`));
    // And back: a node port again.
    const back = await http.request('PATCH', `${SVCS}/flip`, { spec: { type: 'NodePort' } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(back.status, 200, back.body);
    const np = back.json<Service>().spec?.ports?.[0]?.nodePort ?? 0;
    assert.ok(np >= 30000 && np <= 32767);
    assert.ok(await t.server.apiserver!.store.get(`${SERVICE_NODE_PORTS_PREFIX}${np}`));
  });

  it('gives a LoadBalancer node ports and the server address as ingress', async () => {
    const created = await http.request('POST', SVCS, svc('lb', { type: 'LoadBalancer' }));
    assert.equal(created.status, 201, created.body);
    const got = created.json<Service>();
    assert.equal(got.status?.loadBalancer?.ingress?.[0]?.ip, '127.0.0.1');
    assert.ok((got.spec?.ports?.[0]?.nodePort ?? 0) >= 30000);
    const table = await t.kubectl(['get', 'svc', 'lb']);
    assert.match(table.stdout, /lb\s+LoadBalancer\s+10\.43\.\S+\s+127\.0\.0\.1\s+80:3\d{4}\/TCP/);
  });

  it('makes headless and ExternalName services without an IP', async () => {
    const headless = await http.request('POST', SVCS, svc('headless', { clusterIP: 'None' }));
    assert.equal(headless.status, 201, headless.body);
    assert.deepEqual(headless.json<Service>().spec?.clusterIPs, ['None']);
    const ext = await http.request('POST', SVCS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    assert.equal(ext.status, 201, ext.body);
    assert.equal(ext.json<Service>().spec?.clusterIP, undefined);
    const table = await t.kubectl(['get', 'svc', 'headless']);
    assert.match(table.stdout, /headless\s+ClusterIP\s+None\s+<none>\s+80\/TCP/);
  });

  it('a dry run allocates nothing', async () => {
    const dry = await http.request('POST', `${SVCS}?dryRun=All`, svc('dry', { clusterIP: '10.43.0.77' }));
    assert.equal(dry.status, 201, dry.body);
    assert.equal(await t.server.apiserver!.store.get(`${SERVICE_IPS_PREFIX}10.43.0.77`), undefined);
  });

  it('gives 200 concurrent creates 200 distinct IPs', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => http.request('POST', SVCS, svc(`many-${i}`, {}))));
    for (const r of results) assert.equal(r.status, 201, r.body);
    const ips = results.map((r) => r.json<Service>().spec?.clusterIP);
    assert.equal(new Set(ips).size, 200);
    for (const ip of ips) assert.ok(inServiceCidr(ip), `${ip}`);
  });

  it('has the kubernetes Service at 10.43.0.1:443 and its Endpoints at this server', async () => {
    const table = await t.kubectl(['get', 'svc', 'kubernetes']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP/);
    const ep = (await http.request('GET', '/api/v1/namespaces/default/endpoints/kubernetes')).json<Endpoints>();
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: t.server.apiserver!.port, protocol: 'TCP' }] }]);
    const k = (await http.request('GET', `${SVCS}/kubernetes`)).json<Service>();
    assert.equal(k.spec?.ports?.[0]?.targetPort, t.server.apiserver!.port);
    // The slice is what the proxy routes 10.43.0.1:443 by.
    const slice = (await http.request('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).json<EndpointSlice>();
    assert.equal(slice.metadata?.labels?.['kubernetes.io/service-name'], 'kubernetes');
    assert.deepEqual(slice.endpoints?.map((e) => e.addresses), [['127.0.0.1']]);
    assert.deepEqual(slice.ports, [{ name: 'https', port: t.server.apiserver!.port, protocol: 'TCP' }]);
  });
});

describe('service allocations across restarts', () => {
  let dataDir = '';
  after(async () => { if (dataDir) await rm(dataDir, { recursive: true, force: true }); });

  it('keeps allocations and repairs leaks on restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bosun-svcalloc-'));
    const first = await startTestServer({ dataDir, keepDataDir: true });
    let http = new ApiHttp(first.url, dataDir);
    let ip = '';
    try {
      const r = await http.request('POST', SVCS, svc('keep', { type: 'NodePort', ports: [{ port: 80, nodePort: 31111 }] }));
      assert.equal(r.status, 201, r.body);
      ip = r.json<Service>().spec!.clusterIP!;
      // A leak as a crash between allocating and storing would leave it: an old key with no Service.
      await first.server.apiserver!.store.create(`${SERVICE_IPS_PREFIX}10.43.0.99`, JSON.stringify({ namespace: 'default', name: 'ghost', uid: 'gone', createdAt: 0 }));
    } finally { http.close(); await first.stop(); }

    const second = await startTestServer({ dataDir, keepDataDir: true });
    http = new ApiHttp(second.url, dataDir);
    try {
      const dupIP = await http.request('POST', SVCS, svc('dup', { clusterIP: ip }));
      assert.equal(dupIP.status, 422, dupIP.body);
      assert.match(dupIP.body, /provided IP is already allocated/);
      const dupPort = await http.request('POST', SVCS, svc('dup2', { type: 'NodePort', ports: [{ port: 80, nodePort: 31111 }] }));
      assert.equal(dupPort.status, 422, dupPort.body);
      assert.equal(await second.server.apiserver!.store.get(`${SERVICE_IPS_PREFIX}10.43.0.99`), undefined, 'the leaked key is repaired away');
      const k = await second.kubectl(['get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.ports[0].targetPort}']);
      assert.equal(k.stdout, String(second.server.apiserver!.port));
    } finally { http.close(); await second.stop(); }
  });
});

describe('service allocations with two API servers on one etcd', () => {
  it('never hands one IP or node port to two Services', async () => {
    const etcd = await startEtcd();
    const servers: TestServer[] = [];
    const clients: ApiHttp[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = await startTestServer({ datastoreEndpoint: etcd.endpoint });
        servers.push(s);
        clients.push(new ApiHttp(s.url, s.dataDir));
      }
      const many = await Promise.all(Array.from({ length: 100 }, (_, i) => clients[i % 2]!.request('POST', SVCS, svc(`ha-${i}`, { type: 'NodePort' }))));
      for (const r of many) assert.equal(r.status, 201, r.body);
      const ips = many.map((r) => r.json<Service>().spec?.clusterIP);
      const ports = many.map((r) => r.json<Service>().spec?.ports?.[0]?.nodePort);
      assert.equal(new Set(ips).size, 100);
      assert.equal(new Set(ports).size, 100);
      // The same address asked of both servers at once: exactly one wins.
      const race = await Promise.all(clients.map((c, i) => c.request('POST', SVCS, svc(`race-${i}`, { clusterIP: '10.43.0.42' }))));
      assert.deepEqual(race.map((r) => r.status).sort(), [201, 422]);
    } finally {
      for (const c of clients) c.close();
      for (const s of servers) await s.stop();
      await etcd.stop();
    }
  });
});

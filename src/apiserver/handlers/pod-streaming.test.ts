/**
 * pods/log and nodes/proxy through a KubeletServer, with kubectl, no root and
 * no container runtime: the kubelet reads CRI log files written here as
 * containerd writes them. Exec, attach, port-forward and cp against real
 * containers are in test/e2e/kubectl-streaming.test.ts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { ApiHttp } from '../../../test/helpers/http.js';
import { KubeletServer, type KubeletServerRuntime } from '../../kubelet/server/server.js';
import { kubeletTestCertificates } from '../../kubelet/server/testing.js';
import { podLogsDirectory } from '../../kubelet/logs/paths.js';
import { formatCriLogLine } from '../../kubelet/logs/cri-log.js';
import { containerFor } from './pod-streaming.js';
import { kubeletLocation, nodeProxyTarget } from './node-proxy.js';
import { parseRequestInfo } from '../request-info.js';

/** Nothing here reaches a runtime (no follow, no exec). */
const noRuntime = new Proxy({}, {
  get: (_t, method) => () => Promise.reject(new Error(`no container runtime in this test (called ${String(method)})`)),
}) as KubeletServerRuntime;

const NODE = 'logs-node';

describe('pods/log and nodes/proxy through the kubelet API', () => {
  let ts: TestServer;
  let http: ApiHttp;
  let kubelet: KubeletServer;
  let logsDir: string;

  before(async () => {
    ts = await startTestServer();
    http = new ApiHttp(ts.url, ts.dataDir);
    logsDir = await mkdtemp(join(tmpdir(), 'bosun-pod-logs-'));
    const certs = await kubeletTestCertificates(ts.dataDir, NODE);
    const pods = ts.server.apiserver!.registry('', 'pods');
    kubelet = new KubeletServer({
      runtime: noRuntime, podLogsDir: logsDir, nodeName: NODE, address: '127.0.0.1', port: 0,
      tls: { ...certs.serving, caPem: certs.caPem },
      getPod: async (ns, name) => await pods.get(ns, name).catch(() => undefined) as Pod | undefined,
      listPods: async () => (await pods.list(undefined, { filter: { matches: () => true }, unfiltered: true })).items.map((o) => o.object as Pod),
    });
    await kubelet.start();
    const node = (await http.request('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } })).json<Node>();
    await http.request('PUT', `/api/v1/nodes/${NODE}/status`, { ...node, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } });
    const res = await http.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' },
      spec: { nodeName: NODE, containers: [{ name: 'app', image: 'localhost/bosun/busybox:1' }, { name: 'side', image: 'localhost/bosun/busybox:1' }] },
    });
    const pod = res.json<Pod>();
    const dir = podLogsDirectory(logsDir, 'default', 'web', pod.metadata!.uid!);
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    await mkdir(join(dir, 'app'), { recursive: true });
    await mkdir(join(dir, 'side'), { recursive: true });
    await writeFile(join(dir, 'app', '0.log'), formatCriLogLine(new Date(t0), 'stdout', 'app before restart'));
    await writeFile(join(dir, 'app', '1.log.20260301-100001'), formatCriLogLine(new Date(t0 + 1000), 'stdout', 'app one'));
    await writeFile(join(dir, 'app', '1.log'), formatCriLogLine(new Date(t0 + 2000), 'stdout', 'app two') + formatCriLogLine(new Date(t0 + 3000), 'stderr', 'app three'));
    await writeFile(join(dir, 'side', '0.log'), formatCriLogLine(new Date(t0), 'stdout', 'side car'));
  });

  after(async () => {
    http?.close();
    await kubelet?.stop();
    await ts?.stop();
    if (logsDir) await rm(logsDir, { recursive: true, force: true });
  });

  it('kubectl logs reads the container\'s log, rotated copies included', async () => {
    const all = await ts.kubectl(['logs', 'web', '-c', 'app']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'app one\napp two\napp three\n');
    assert.equal((await ts.kubectl(['logs', 'web', '-c', 'app', '--tail=2'])).stdout, 'app two\napp three\n');
    assert.equal((await ts.kubectl(['logs', 'web', '-c', 'app', '-p'])).stdout, 'app before restart\n');
    assert.equal((await ts.kubectl(['logs', 'web', '-c', 'side'])).stdout, 'side car\n');
    assert.equal((await ts.kubectl(['logs', 'web', '-c', 'app', '--limit-bytes=5'])).stdout, 'app o');
    const stamped = await ts.kubectl(['logs', 'web', '-c', 'app', '--tail=1', '--timestamps']);
    assert.equal(stamped.stdout, '2026-03-01T10:00:03.000000000Z app three\n');
  });

  it('answers bad log requests with upstream\'s Status', async () => {
    const noContainer = await http.request('GET', '/api/v1/namespaces/default/pods/web/log');
    assert.equal(noContainer.status, 400);
    assert.equal(noContainer.json().message, 'a container name must be specified for pod web, choose one of: [app side]');
    const both = await http.request('GET', '/api/v1/namespaces/default/pods/web/log?container=app&sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z');
    assert.equal(both.status, 400);
    assert.equal(both.json().reason, 'BadRequest');
    const noPod = await http.request('GET', '/api/v1/namespaces/default/pods/nope/log?container=app');
    assert.equal(noPod.status, 404);
    const notUpgraded = await http.request('POST', '/api/v1/namespaces/default/pods/web/exec?container=app&command=ls&stdout=true');
    assert.equal(notUpgraded.status, 400);
    assert.match(notUpgraded.json<{ message: string }>().message, /Upgrade request required/);
  });

  it('nodes/proxy reaches the kubelet', async () => {
    const healthz = await ts.kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]);
    assert.equal(healthz.stdout, 'ok');
    const pods = JSON.parse((await ts.kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/pods`])).stdout) as { items: Pod[] };
    assert.deepEqual(pods.items.map((p) => p.metadata?.name), ['web']);
    const missing = await http.request('GET', '/api/v1/nodes/nope/proxy/healthz');
    assert.equal(missing.status, 404);
  });

  it('discovery lists the streaming subresources as upstream does', async () => {
    const list = (await http.request('GET', '/api/v1')).json<{ resources: Array<{ name: string; kind: string; verbs: string[] }> }>();
    const byName = new Map(list.resources.map((r) => [r.name, r]));
    assert.deepEqual(byName.get('pods/exec'), { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] });
    assert.deepEqual(byName.get('pods/log')?.verbs, ['get']);
    assert.equal(byName.get('pods/portforward')?.kind, 'PodPortForwardOptions');
    assert.equal(byName.get('pods/attach')?.kind, 'PodAttachOptions');
    assert.equal(byName.get('nodes/proxy')?.kind, 'NodeProxyOptions');
  });
});

describe('kubelet proxy targets', () => {
  const target = (path: string) => {
    const url = new URL(path, 'https://x');
    return nodeProxyTarget(parseRequestInfo('GET', url), url);
  };

  it('take the path after /proxy, with the query, and an optional port in the node name', () => {
    assert.deepEqual(target('/api/v1/nodes/n1/proxy/stats/summary?only_cpu_and_memory=true'), { nodeName: 'n1', port: undefined, path: '/stats/summary?only_cpu_and_memory=true' });
    assert.deepEqual(target('/api/v1/nodes/n1:10255/proxy/metrics'), { nodeName: 'n1', port: 10255, path: '/metrics' });
    assert.deepEqual(target('/api/v1/nodes/proxy-1/proxy'), { nodeName: 'proxy-1', port: undefined, path: '/' });
  });

  it('reach the kubelet at InternalIP and the advertised port', () => {
    const node: Node = { metadata: { name: 'n1' }, status: { addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.0.0.5' }], daemonEndpoints: { kubeletEndpoint: { Port: 11250 } } } };
    assert.deepEqual(kubeletLocation(node), { host: '10.0.0.5', port: 11250, nodeName: 'n1' });
    assert.equal(kubeletLocation({ metadata: { name: 'n2' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.6' }] } }).port, 10250);
    assert.throws(() => kubeletLocation({ metadata: { name: 'n3' } }), /node "n3" has no address/);
  });

  it('pick the container as upstream does', () => {
    const pod = (containers: string[], init: string[] = []): Pod => ({
      metadata: { name: 'p' },
      spec: { containers: containers.map((name) => ({ name })), initContainers: init.map((name) => ({ name })) },
    });
    assert.equal(containerFor(pod(['only']), null), 'only');
    assert.equal(containerFor(pod(['a', 'b'], ['setup']), 'setup'), 'setup');
    assert.throws(() => containerFor(pod(['a', 'b'], ['setup']), null), { message: 'a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [setup]' });
    assert.throws(() => containerFor(pod(['a']), 'x'), { message: 'container x is not valid for pod p' });
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1';
import { deployments, pods } from '../../src/client/index.js';
import { startMetricsEnv } from '../controllers/hpa-env.js';
import { eventually } from '../controllers/env.js';

const web = (replicas: number): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' }, annotations: { 'sim.bosun.io/cpu-usage': '250m', 'sim.bosun.io/memory-usage': '64Mi' } },
      spec: {
        containers: [
          { name: 'app', image: 'busybox', resources: { requests: { cpu: '100m', memory: '32Mi' } } },
          { name: 'sidecar', image: 'busybox', resources: { requests: { cpu: '100m', memory: '32Mi' } } },
        ],
      },
    },
  },
});

test('kubectl top nodes and pods show the hollow nodes\' synthetic usage', async (t) => {
  const env = await startMetricsEnv({ nodes: 2, metricResolutionMs: 300 });
  t.after(() => env.stop());
  const { ts, client, hollow } = env;

  await client.create(deployments, web(2));
  const running = await eventually('2 running pods', async () => {
    const list = await client.list(pods, { namespace: 'default', labelSelector: 'app=web' });
    return list.items.filter((p) => p.status?.phase === 'Running').length === 2 ? list.items : undefined;
  });

  // Discovery lists the group, as an APIService would.
  const groups = await ts.kubectl(['api-versions']);
  assert.match(groups.stdout, /^metrics\.k8s\.io\/v1beta1$/m);

  // Annotations: 250m and 64Mi per pod, split over two containers.
  const top = await eventually('kubectl top pods --containers', async () => {
    const r = await ts.kubectl(['top', 'pods', '--containers']);
    return r.code === 0 && (r.stdout.match(/125m/g) ?? []).length === 4 ? r : undefined;
  });
  for (const p of running) {
    assert.match(top.stdout, new RegExp(`${p.metadata!.name}\\s+app\\s+125m\\s+32Mi`));
    assert.match(top.stdout, new RegExp(`${p.metadata!.name}\\s+sidecar\\s+125m\\s+32Mi`));
  }

  // setUsage wins over the annotations.
  const first = running[0].metadata!.name!;
  hollow.setUsage(`default/${first}`, { cpuMillicores: 900, memoryBytes: 200 * 2 ** 20 });
  const pod = await eventually('kubectl top pod shows setUsage', async () => {
    const r = await ts.kubectl(['top', 'pod', first]);
    return r.code === 0 && /900m\s+200Mi/.test(r.stdout) ? r : undefined;
  });
  assert.match(pod.stdout, /NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);

  const labelled = await ts.kubectl(['top', 'pods', '-A', '-l', 'app=web', '--no-headers']);
  assert.equal(labelled.code, 0, labelled.stderr);
  assert.equal(labelled.stdout.trim().split('\n').length, 2);
  const none = await ts.kubectl(['top', 'pods', '-l', 'app=nothing']);
  assert.match(none.stderr + none.stdout, /No resources found/);

  // Nodes: the sum of their pods (900m+250m = 1150m in all), as a share of 32 cores.
  const nodesTop = await eventually('kubectl top nodes', async () => {
    const r = await ts.kubectl(['top', 'nodes', '--no-headers']);
    const total = [...r.stdout.matchAll(/^hollow-\d+\s+(\d+)m/gm)].reduce((a, m) => a + Number(m[1]), 0);
    return r.code === 0 && total === 1150 ? r : undefined;
  });
  assert.match(nodesTop.stdout, /hollow-0\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/);

  // kubectl get asks for a Table: metrics-server's columns, a pod's containers summed.
  const table = await ts.kubectl(['get', 'podmetrics', first]);
  assert.match(table.stdout, /NAME\s+CPU\s+MEMORY\s+WINDOW/);
  assert.match(table.stdout, new RegExp(`${first}\\s+900m\\s+200Mi\\s+\\d+ms`));

  // The raw API: NodeMetrics, PodMetrics, and Status errors.
  const nm = JSON.parse((await ts.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/hollow-0'])).stdout);
  assert.equal(nm.kind, 'NodeMetrics');
  assert.match(nm.window, /^\d+(\.\d+)?m?s$/);
  assert.match(nm.usage.cpu, /^\d+[nm]?$/);
  const pm = JSON.parse((await ts.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/${first}`])).stdout);
  assert.equal(pm.kind, 'PodMetrics');
  assert.deepEqual(pm.containers.map((c: { name: string }) => c.name), ['app', 'sidecar']);
  assert.deepEqual(pm.containers[0].usage, { cpu: '450m', memory: '100Mi' });
  const missing = await ts.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /NotFound|not found/);
  const write = await ts.kubectl(['delete', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/hollow-0']);
  assert.match(write.stderr, /MethodNotAllowed|not allow/i);
});

test('bosun sim (a separate process) serves its nodes\' usage from pod annotations: kubectl top sees it', async (t) => {
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  const { startTestServer } = await import('../helpers/server.js');
  const ts = await startTestServer({ config: { metricResolutionMs: 300 } });
  t.after(() => ts.stop());
  const root = join(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'sim',
    '--kubeconfig', ts.kubeconfig, '--nodes', '2', '--name-prefix', 'topsim-', '--delete-nodes-on-exit'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } });
  await eventually('sim running', () => { if (child.exitCode !== null) throw new Error(out); return out.includes('sim: running'); }, 60_000);
  assert.match(out, /kubelet API for 2 nodes on https:\/\/127\.0\.0\.1:\d+/);

  // A bare pod bound to a hollow node, as a kubectl user would make one.
  const made = await ts.kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'burner', namespace: 'default', annotations: { 'sim.bosun.io/cpu-usage': '1500m', 'sim.bosun.io/memory-usage': '300Mi' } },
    spec: { nodeName: 'topsim-1', containers: [{ name: 'burn', image: 'busybox' }] },
  }));
  assert.equal(made.code, 0, made.stderr);
  const top = await eventually('kubectl top pod burner', async () => {
    const r = await ts.kubectl(['top', 'pod', 'burner', '--no-headers']);
    return r.code === 0 && /burner\s+1500m\s+300Mi/.test(r.stdout) ? r : undefined;
  }, 30_000, 200);
  assert.ok(top);
  const nodesTop = await ts.kubectl(['top', 'node', 'topsim-1', '--no-headers']);
  assert.match(nodesTop.stdout, /topsim-1\s+1500m\s+4%\s+300Mi\s+0%/);
  // The Node keeps its made-up InternalIP; the kubelet address is loopback.
  const node = JSON.parse((await ts.kubectl(['get', 'node', 'topsim-1', '-o', 'json'])).stdout);
  assert.match(node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address, /^10\.99\./);
  assert.equal(node.metadata.annotations['bosun.io/kubelet-address'], '127.0.0.1');
  assert.match(node.metadata.annotations['bosun.io/kubelet-serving-cert-sha256'], /^[0-9a-f]{64}$/);
  await ts.kubectl(['delete', 'pod', 'burner', '--wait=false']);
});

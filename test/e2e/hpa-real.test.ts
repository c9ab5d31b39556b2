/**
 * As root, real containers: busybox pods burning cpu under an HPA. The
 * kubelet's /stats/summary (CRI stats) feeds the API server's scraper, which
 * serves metrics.k8s.io to `kubectl top` and to the HPA controller.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, deployments, horizontalpodautoscalers, pods } from '../../src/client/index.js';
import { CriClient } from '../../src/kubelet/cri/client.js';
import { Kubelet } from '../../src/kubelet/kubelet.js';
import { KubeletServer } from '../../src/kubelet/server/server.js';
import { kubeletTestCertificates } from '../../src/kubelet/server/testing.js';
import { unmountAll } from '../../src/kubelet/volumes/mount.js';
import { defaultControlLoops } from '../../src/server/control-loops.js';
import { BUSYBOX_IMAGE } from '../../src/agent/images/index.js';
import { startTestContainerd } from '../helpers/containerd.js';
import { startTestServer } from '../helpers/server.js';

const isRoot = process.getuid?.() === 0;

test('busybox pods burning cpu scale up under an HPA; kubectl top pods shows their usage', { skip: !isRoot && 'needs root', timeout: 240_000 }, async (t) => {
  const cleanups: Array<() => unknown> = [];
  t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
  const later = { after: (fn: () => unknown) => { cleanups.push(fn); } };
  const rt = await startTestContainerd(later);
  const ts = await startTestServer({
    config: { metricResolutionMs: 2000 },
    controlLoops: defaultControlLoops({
      disableScheduler: false, disableControllerManager: false,
      controllerManager: { horizontalPodAutoscaler: { syncPeriodMs: 2000, downscaleStabilizationMs: 10_000 } },
    }),
  });
  cleanups.push(() => ts.stop());
  const client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
  cleanups.push(() => client.close());
  const cri = new CriClient({ endpoint: rt.endpoint });
  cleanups.push(() => cri.close());
  const dir = await mkdtemp(join(tmpdir(), 'bosun-hpa-e2e-'));
  cleanups.push(async () => { await unmountAll(dir).catch(() => {}); await rm(dir, { recursive: true, force: true }); });
  const nodeName = `hpa-e2e-${process.pid}`;
  const logs: string[] = [];

  // The kubelet API on loopback (the node's InternalIP here), any free port: the scraper reaches it there.
  const certs = await kubeletTestCertificates(ts.dataDir, nodeName);
  let kubelet: Kubelet | undefined;
  const server = new KubeletServer({
    runtime: cri, podLogsDir: join(dir, 'pod-logs'), nodeName, address: '127.0.0.1', port: 0,
    tls: { ...certs.serving, caPem: certs.caPem },
    getPod: (ns, name) => kubelet?.pods().find((p) => p.metadata?.namespace === ns && p.metadata?.name === name),
    listPods: () => kubelet?.pods() ?? [],
  });
  await server.start();
  cleanups.push(() => server.stop());
  const abort = new AbortController();
  kubelet = new Kubelet({
    client, nodeName, nodeIP: '127.0.0.1', runtime: cri, rootDir: join(dir, 'kubelet'), podLogsDir: join(dir, 'pod-logs'),
    clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', kubeletPort: server.port, log: (m) => logs.push(m),
  });
  const running = kubelet.run(abort.signal);
  cleanups.push(async () => {
    // Pods first (their containers stop), then the kubelet.
    await client.delete(deployments, 'default', 'burn').catch(() => {});
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await client.list(pods, { namespace: 'default' })).items.length) await new Promise((r) => setTimeout(r, 500));
    abort.abort();
    await running.catch(() => {});
  });

  // Each pod burns up to its 200m limit against a 100m request: 200% of request, four times the 50% target.
  await client.create(deployments, {
    metadata: { name: 'burn', namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'burn' } },
      template: {
        metadata: { labels: { app: 'burn' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'burn', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'while :; do :; done'],
            resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } },
          }],
        },
      },
    },
  });
  const first = await waitFor('the first pod running', async () => {
    const list = await client.list(pods, { namespace: 'default', labelSelector: 'app=burn' });
    return list.items.find((p) => p.status?.phase === 'Running');
  }, 90_000);

  const top = await waitFor('kubectl top pods shows the burn', async () => {
    const r = await ts.kubectl(['top', 'pods', '--no-headers']);
    const m = new RegExp(`${first.metadata!.name}\\s+(\\d+)m`).exec(r.stdout);
    return m && Number(m[1]) >= 100 ? r.stdout : undefined;
  }, 60_000);
  const nodeTop = await ts.kubectl(['top', 'node', nodeName, '--no-headers']);
  assert.match(nodeTop.stdout, new RegExp(`${nodeName}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`));

  const loadStart = Date.now();
  await client.create(horizontalpodautoscalers, {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'burn', namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'burn' },
      minReplicas: 1, maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 5 } },
    },
  });
  await waitFor('scale-up', async () => ((await client.get(deployments, 'default', 'burn')).spec?.replicas ?? 0) > 1, 60_000);
  const scaleUpSeconds = (Date.now() - loadStart) / 1000;
  const hpa = await waitFor('HPA at max with real metrics', async () => {
    const h = await client.get(horizontalpodautoscalers, 'default', 'burn');
    return h.status?.desiredReplicas === 3 && (h.status.currentMetrics?.[0]?.resource?.current.averageUtilization ?? 0) > 50 ? h : undefined;
  }, 60_000);
  const get = await ts.kubectl(['get', 'hpa', 'burn', '--no-headers']);
  assert.match(get.stdout, /burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+3\s+\d/);
  assert.ok((hpa.status?.currentReplicas ?? 0) <= 3);
  t.diagnostic(`top: ${top.trim().split('\n')[0]}; HPA created (pods already burning) → first scale-up: ${scaleUpSeconds.toFixed(1)} s (metric resolution 2 s, sync period 2 s)`);
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) { lastErr = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

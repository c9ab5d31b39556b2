import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import { deployments, events, horizontalpodautoscalers, pods, replicasets, type Client } from '../../src/client/index.js';
import { startMetricsEnv } from './hpa-env.js';
import { eventually } from './env.js';

const MI = 2 ** 20;

function web(replicas: number, annotations?: Record<string, string>): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, ...(annotations ? { annotations } : {}) },
        spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
      },
    },
  };
}

const hpaTimings = { syncPeriodMs: 500, downscaleStabilizationMs: 3000 };

async function specReplicas(client: Client): Promise<number> {
  return (await client.get(deployments, 'default', 'web')).spec?.replicas ?? 0;
}

async function rescaleEvents(client: Client): Promise<string[]> {
  const list = await client.list(events, { namespace: 'default' });
  return list.items
    .filter((e) => e.involvedObject.kind === 'HorizontalPodAutoscaler' && e.reason === 'SuccessfulRescale')
    .sort((a, b) => (a.firstTimestamp ?? '').localeCompare(b.firstTimestamp ?? ''))
    .map((e) => e.message ?? '');
}

test('HPA follows a shared load: up past the target at once, down only after the stabilization window, within min/max', async (t) => {
  const env = await startMetricsEnv({
    nodes: 3, metricResolutionMs: 300,
    manager: { controllers: ['replicaset', 'deployment', 'garbagecollector', 'horizontalpodautoscaling'], horizontalPodAutoscaler: hpaTimings },
  });
  t.after(() => env.stop());
  const { client, hollow } = env;

  // A load of `total` millicores shared evenly by the running web pods.
  let total = 80;
  let running = 2;
  hollow.setUsageSource((pod) => (pod.metadata?.labels?.app === 'web' ? { cpuMillicores: total / Math.max(1, running), memoryBytes: 40 * MI } : undefined));
  const abort = new AbortController();
  t.after(() => abort.abort());
  let maxSeen = 0;
  const watcher = (async () => {
    while (!abort.signal.aborted) {
      const list = await client.list(pods, { namespace: 'default', labelSelector: 'app=web' }).catch(() => undefined);
      if (list) running = list.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp).length;
      maxSeen = Math.max(maxSeen, await specReplicas(client).catch(() => 0));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  t.after(() => watcher);

  await client.create(deployments, web(2));
  await eventually('2 running web pods', () => running === 2);
  const hpa: HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 2, maxReplicas: 6,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 3 } },
    },
  };
  await client.create(horizontalpodautoscalers, hpa);

  // 40% of requests against 50%: the HPA is active and holds at 2.
  const quiet = await eventually('HPA sees 40%', async () => {
    const h = await client.get(horizontalpodautoscalers, 'default', 'web');
    return h.status?.currentMetrics?.[0]?.resource?.current.averageUtilization === 40 ? h : undefined;
  });
  assert.equal(quiet.status?.desiredReplicas, 2);
  assert.equal(quiet.status?.conditions?.find((c) => c.type === 'ScalingActive')?.reason, 'ValidMetricFound');
  assert.equal(await specReplicas(client), 2);

  // Load rises to 600m: 300% a pod, six times the target.
  const loadStart = Date.now();
  total = 600;
  await eventually('first scale-up', async () => (await specReplicas(client)) > 2, 30_000, 20);
  const scaleUpSeconds = (Date.now() - loadStart) / 1000;
  await eventually('6 running pods', () => running === 6, 30_000);
  const limited = await eventually('ScalingLimited at max', async () => {
    const h = await client.get(horizontalpodautoscalers, 'default', 'web');
    const c = h.status?.conditions?.find((x) => x.type === 'ScalingLimited');
    return c?.status === 'True' && h.status?.currentMetrics?.[0]?.resource?.current.averageUtilization === 100 ? h : undefined;
  });
  assert.equal(limited.status?.conditions?.find((x) => x.type === 'ScalingLimited')?.reason, 'TooManyReplicas');
  assert.ok(limited.status?.lastScaleTime);
  assert.equal(limited.status?.currentReplicas, 6);
  const ups = await rescaleEvents(client);
  assert.match(ups[0], /^New size: 6; reason: cpu resource utilization \(percentage of request\) above target$/);

  // Load drops to 60m (10% a pod): held for the 3 s window, then down to the minimum.
  const dropAt = Date.now();
  total = 60;
  await eventually('ScaleDownStabilized', async () => {
    const h = await client.get(horizontalpodautoscalers, 'default', 'web');
    return h.status?.conditions?.find((c) => c.type === 'AbleToScale')?.reason === 'ScaleDownStabilized';
  });
  assert.equal(await specReplicas(client), 6);
  await eventually('scale-down to 2', async () => (await specReplicas(client)) === 2, 30_000, 20);
  const downSeconds = (Date.now() - dropAt) / 1000;
  // The window counts from the last high recommendation, made at the last sync before the drop showed: up to one period (0.5 s) earlier.
  assert.ok(downSeconds >= 2.5, `scaled down after ${downSeconds}s, inside the 3 s window`);
  const all = await rescaleEvents(client);
  assert.match(all.at(-1)!, /^New size: 2; reason: All metrics below target$/);
  // Stays at min while the load stays low.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await specReplicas(client), 2);
  assert.ok(maxSeen <= 6, `replicas reached ${maxSeen}, beyond max 6`);
  t.diagnostic(`load start → first scale-up: ${scaleUpSeconds.toFixed(2)} s (metric resolution 300 ms, sync period 500 ms); load drop → scale-down: ${downSeconds.toFixed(2)} s (window 3 s)`);
});

test('kubectl autoscale and get hpa; conditions when the target or its metrics are missing', async (t) => {
  const env = await startMetricsEnv({
    nodes: 2, metricResolutionMs: 300,
    manager: { controllers: ['replicaset', 'deployment', 'garbagecollector', 'horizontalpodautoscaling'], horizontalPodAutoscaler: hpaTimings },
  });
  t.after(() => env.stop());
  const { ts, client } = env;

  // Every pod burns 75m of its 100m request, however many there are: up to the max, never beyond.
  await client.create(deployments, web(2, { 'sim.bosun.io/cpu-usage': '75m', 'sim.bosun.io/memory-usage': '48Mi' }));
  const made = await ts.kubectl(['autoscale', 'deployment', 'web', '--min', '2', '--max', '10', '--cpu-percent', '50']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /horizontalpodautoscaler.autoscaling\/web autoscaled/);
  const shown = await eventually('kubectl get hpa at max', async () => {
    const r = await ts.kubectl(['get', 'hpa', 'web']);
    return /cpu: 75%\/50%\s+2\s+10\s+10\s/.test(r.stdout) ? r.stdout : undefined;
  }, 40_000, 200);
  assert.match(shown, /NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE/);
  assert.match(shown, /web\s+Deployment\/web\s+cpu: 75%\/50%/);
  const sizes = (await rescaleEvents(client)).map((m) => Number(/New size: (\d+)/.exec(m)?.[1]));
  // ceil(n × 75/50) each sync: 2 → 3 → 5 → 8 → 12, which max clamps to 10. A sync that sees pods not yet
  // reporting counts them at 0% (upstream's rule for missing metrics on scale-up), so it may take a smaller step.
  assert.equal(sizes[0], 3, `${sizes}`);
  assert.equal(sizes.at(-1), 10, `${sizes}`);
  for (let i = 1; i < sizes.length; i++) {
    assert.ok(sizes[i]! > sizes[i - 1]! && sizes[i]! <= Math.min(10, Math.ceil(sizes[i - 1]! * 1.5)), `${sizes}`);
  }
  const hpa = await client.get(horizontalpodautoscalers, 'default', 'web');
  const cond = (type: string) => hpa.status?.conditions?.find((c) => c.type === type);
  assert.equal(cond('ScalingLimited')?.status, 'True');
  assert.equal(cond('ScalingLimited')?.reason, 'TooManyReplicas');
  assert.equal(cond('AbleToScale')?.status, 'True');
  assert.equal(cond('ScalingActive')?.reason, 'ValidMetricFound');
  // The autoscaling/v1 view carries the same figure.
  const v1 = JSON.parse((await ts.kubectl(['get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web'])).stdout);
  assert.equal(v1.status.currentCPUUtilizationPercentage, 75, JSON.stringify(v1));
  const described = await ts.kubectl(['describe', 'hpa', 'web']);
  assert.match(described.stdout, /SuccessfulRescale\s+.*New size: 10; reason: cpu resource utilization \(percentage of request\) above target/);

  // Memory as an AverageValue per pod (48Mi against 32Mi), through a ReplicaSet's scale subresource.
  await client.create(replicasets, {
    metadata: { name: 'mem', namespace: 'default' },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'mem' } },
      template: {
        metadata: { labels: { app: 'mem' }, annotations: { 'sim.bosun.io/memory-usage': '48Mi' } },
        spec: { containers: [{ name: 'app', image: 'busybox' }] },
      },
    },
  });
  await client.create(horizontalpodautoscalers, {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'mem', namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'mem' }, minReplicas: 1, maxReplicas: 4,
      metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '32Mi' } } }],
    },
  });
  const mem = await eventually('memory HPA at max', async () => {
    const h = await client.get(horizontalpodautoscalers, 'default', 'mem');
    return h.status?.currentReplicas === 4 && h.status.currentMetrics?.[0]?.resource?.current.averageValue ? h : undefined;
  }, 40_000, 200);
  // As upstream: the average is written as a plain milli-quantity of bytes.
  assert.equal(mem.status?.currentMetrics?.[0]?.resource?.current.averageValue, String(48 * MI));
  assert.equal((await client.get(replicasets, 'default', 'mem')).spec?.replicas, 4);
  assert.match((await ts.kubectl(['get', 'hpa', 'mem', '--no-headers'])).stdout, new RegExp(`ReplicaSet/mem\\s+memory: ${48 * MI}/32Mi\\s+1\\s+4\\s+4`));

  // A target that does not exist: AbleToScale False.
  await client.create(horizontalpodautoscalers, {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'ghost', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ghost' }, minReplicas: 1, maxReplicas: 3 },
  });
  const ghost = await eventually('FailedGetScale', async () => {
    const h = await client.get(horizontalpodautoscalers, 'default', 'ghost');
    return h.status?.conditions?.find((c) => c.type === 'AbleToScale' && c.status === 'False') ? h : undefined;
  });
  assert.equal(ghost.status?.conditions?.find((c) => c.type === 'AbleToScale')?.reason, 'FailedGetScale');

  // Pods without a memory request cannot have a memory utilization: ScalingActive False.
  await client.create(deployments, {
    ...web(1), metadata: { name: 'norequest', namespace: 'default' },
    spec: { ...web(1).spec!, selector: { matchLabels: { app: 'norequest' } }, template: {
      metadata: { labels: { app: 'norequest' }, annotations: { 'sim.bosun.io/cpu-usage': '10m' } },
      spec: { containers: [{ name: 'app', image: 'busybox' }] },
    } },
  });
  await client.create(horizontalpodautoscalers, {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'norequest', namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'norequest' }, minReplicas: 1, maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 60 } } }],
    },
  });
  const inactive = await eventually('ScalingActive False', async () => {
    const h = await client.get(horizontalpodautoscalers, 'default', 'norequest');
    // Before the first scrape the reason is the same with "no metrics returned"; then the missing request shows.
    return h.status?.conditions?.find((c) => c.type === 'ScalingActive' && c.status === 'False' && /missing request/.test(c.message ?? '')) ? h : undefined;
  });
  const active = inactive.status?.conditions?.find((c) => c.type === 'ScalingActive');
  assert.equal(active?.reason, 'FailedGetResourceMetric');
  assert.match(active?.message ?? '', /missing request for memory in container app/);
  const get = await ts.kubectl(['get', 'hpa', 'norequest', '--no-headers']);
  assert.match(get.stdout, /memory: <unknown>\/60%/);
});

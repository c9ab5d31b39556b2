import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deployments, pods } from '../../src/client/index.js';
import { defaultControlLoops } from '../../src/server/control-loops.js';
import { BUSYBOX_IMAGE, startKubeletEnv } from './kubelet-env.js';

const isRoot = process.getuid?.() === 0;

test('a Deployment of 10 replicas runs as real containers through the scheduler and controllers', { skip: !isRoot && 'needs root', timeout: 180_000 }, async (t) => {
  const env = await startKubeletEnv(t, { controlLoops: defaultControlLoops({ disableScheduler: false, disableControllerManager: false }) });
  await env.client.create(deployments, {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 10,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'httpd', image: BUSYBOX_IMAGE, command: ['httpd', '-f', '-p', '8080', '-h', '/etc'],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
          }],
        },
      },
    },
  });
  const deadline = Date.now() + 120_000;
  let running: import('kubernetes-types/core/v1').Pod[] = [];
  while (Date.now() < deadline) {
    const list = await env.client.list(pods, { namespace: 'default', labelSelector: 'app=web' });
    running = list.items.filter((p) => p.status?.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    if (running.length === 10) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(running.length, 10, `running and ready: ${running.length}; logs: ${env.logs.slice(-5).join(' | ')}`);
  const ips = new Set(running.map((p) => p.status!.podIP));
  assert.equal(ips.size, 10);
  for (const p of running) assert.equal(p.spec!.nodeName, env.nodeName);
  const sandboxes = await env.cri.listPodSandbox({ state: { state: 'SANDBOX_READY' } });
  assert.equal(sandboxes.length, 10);
});

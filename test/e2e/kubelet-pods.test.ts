import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodes, pods, leases } from '../../src/client/index.js';
import { BUSYBOX_IMAGE, podSpec, startKubeletEnv, waitForPod } from './kubelet-env.js';

const isRoot = process.getuid?.() === 0;

test('a pod runs: Running with a pod IP, its output in the log file, the node registered with a lease', { skip: !isRoot && 'needs root' }, async (t) => {
  const env = await startKubeletEnv(t);
  const { client, nodeName } = env;
  const created = await client.create(pods, podSpec('hello', nodeName, {
    containers: [{ name: 'main', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo hello from $(hostname); sleep 3600'] }],
  }));
  const pod = await waitForPod(client, 'hello', 'Running', (p) => p.status?.phase === 'Running' && !!p.status.podIP);
  assert.match(pod.status!.podIP!, /^10\.42\./);
  const cs = pod.status!.containerStatuses![0];
  assert.equal(cs.ready, true);
  assert.match(cs.containerID!, /^containerd:\/\//);
  assert.equal(pod.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'True');
  assert.equal(pod.status!.qosClass, 'BestEffort');
  assert.equal(pod.status!.hostIP, env.rt.gateway);

  const logFile = join(env.dir, 'pod-logs', `default_hello_${created.metadata!.uid}`, 'main', '0.log');
  const log = await waitFor(async () => { const s = await readFile(logFile, 'utf8').catch(() => ''); return s.includes('hello from') ? s : ''; });
  assert.match(log, /stdout F hello from hello/);

  const node = await client.get(nodes, undefined, nodeName);
  assert.equal(node.metadata!.labels!['kubernetes.io/hostname'], nodeName);
  assert.match(node.status!.nodeInfo!.containerRuntimeVersion, /^containerd:\/\/1\./);
  assert.equal(node.status!.capacity!.pods, '110');
  assert.equal(node.status!.daemonEndpoints!.kubeletEndpoint!.Port, 10250);
  assert.equal(node.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'True');
  assert.ok(node.status!.images!.some((i) => i.names?.includes(BUSYBOX_IMAGE)), 'node images listed');
  const lease = await client.get(leases, 'kube-node-lease', nodeName);
  assert.equal(lease.spec!.holderIdentity, nodeName);
});

async function waitFor<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

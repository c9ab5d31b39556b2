import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { pods } from '../../src/client/index.js';
import { ownRulesLeft } from '../../src/proxy/index.js';
import { linkExists } from '../../src/agent/routes.js';
import { BUSYBOX_IMAGE } from '../../src/agent/images/index.js';
import { startAgentCluster } from '../helpers/agent-cluster.js';
import { eventually } from '../controllers/env.js';

/**
 * The whole node: a server with scheduler and controllers, and `bosun agent`
 * joined to it — containerd, kubelet, kubelet API, proxy and DNS — driven with
 * the real kubectl. Addresses come from ranges of this test's own (a /24 of
 * pods, a /24 of services, its own bridge and iptables chain prefix) so it
 * never meets the default 10.42/10.43 cluster of a running `bosun server`.
 */
test('bosun agent runs a Deployment as real containers, serves logs and exec, and keeps pods across a restart', { timeout: 240_000 }, async (t) => {
  const cluster = await startAgentCluster(t, 'agent');
  const { admin, logs, octet } = cluster;
  const { clusterCidr, clusterDns, proxyChainPrefix, bridge } = cluster.agentOptions;
  const ts = { kubectl: cluster.kubectl };

  const node = await cluster.nodeReady();
  assert.equal(node.spec?.podCIDR, clusterCidr);
  assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\//);

  const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: ${BUSYBOX_IMAGE}
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && echo "serving as $(hostname)" && exec httpd -f -p 8080 -h /www']
        ports: [{ name: http, containerPort: 8080 }]
        readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: http }]
`;
  const applied = await ts.kubectl(['apply', '-f', '-'], manifest);
  assert.equal(applied.code, 0, applied.stderr);
  const rolled = await ts.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s']);
  assert.equal(rolled.code, 0, rolled.stderr + logs.slice(-30).join('\n'));

  const running: Pod[] = (await admin.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items;
  assert.equal(running.length, 3);
  const ips = running.map((p) => p.status?.podIP ?? '');
  assert.equal(new Set(ips).size, 3, `distinct pod IPs: ${ips.join(', ')}`);
  for (const ip of ips) assert.ok(ip.startsWith(`10.42.${octet}.`), `${ip} is in the node's range`);
  const first = running[0].metadata!.name!;

  const logsOut = await ts.kubectl(['logs', first]);
  assert.equal(logsOut.code, 0, logsOut.stderr);
  assert.match(logsOut.stdout, new RegExp(`serving as ${first}`));

  // From inside a pod: the Service by its DNS name, through the node's DNS and proxy, reaches every backend.
  const seen = new Set<string>();
  let lastError = '';
  await eventually('every backend answers through the Service', async () => {
    const r = await ts.kubectl(['exec', first, '--', 'timeout', '3', 'wget', '-qO-', 'http://web.default.svc.cluster.local/']);
    if (r.code === 0) seen.add(r.stdout.trim());
    else lastError = r.stderr;
    return seen.size === 3;
  }, 60_000, 100).catch(async (err: Error) => {
    const resolv = await ts.kubectl(['exec', first, '--', 'cat', '/etc/resolv.conf']);
    const lookup = await ts.kubectl(['exec', first, '--', 'nslookup', 'web.default.svc.cluster.local', clusterDns]);
    throw new Error(`${err.message}: ${lastError}\nresolv.conf: ${resolv.stdout}${resolv.stderr}\nnslookup: ${lookup.stdout}${lookup.stderr}\n${logs.filter((l) => /proxy|dns/.test(l)).slice(-20).join('\n')}`);
  });
  assert.deepEqual([...seen].sort(), running.map((p) => p.metadata!.name!).sort());
  const short = await ts.kubectl(['exec', first, '--', 'timeout', '3', 'wget', '-qO-', 'http://web/']);
  assert.equal(short.code, 0, `the search path resolves "web": ${short.stderr}`);

  // A restarted agent adopts the running containers instead of restarting them.
  const before = new Map(running.map((p) => [p.metadata!.name!, p.status!.containerStatuses![0].containerID]));
  await cluster.restartAgent();
  await new Promise((r) => setTimeout(r, 3000));
  const after: Pod[] = (await admin.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items;
  for (const p of after) {
    assert.equal(p.status?.containerStatuses?.[0].containerID, before.get(p.metadata!.name!), `${p.metadata!.name} kept its container`);
    assert.equal(p.status?.containerStatuses?.[0].restartCount, 0);
  }

  // Deleting the pod stops its containers; the Deployment replaces it.
  const del = await ts.kubectl(['delete', 'pod', first, '--wait=false']);
  assert.equal(del.code, 0, del.stderr);
  await eventually('a replacement runs', async () => {
    const list: Pod[] = (await admin.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items;
    return list.length === 3 && !list.some((p) => p.metadata?.name === first) && list.every((p) => p.status?.phase === 'Running');
  }, 90_000, 200);

  await cluster.killAll();
  assert.deepEqual(await ownRulesLeft(proxyChainPrefix), [], 'no iptables chain of ours is left');
  assert.equal(await linkExists(bridge), false, 'the bridge is gone');
});

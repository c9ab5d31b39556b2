import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import { pods, services } from '../../src/client/index.js';
import { BUSYBOX_IMAGE } from '../../src/agent/images/index.js';
import { startAgentCluster } from '../helpers/agent-cluster.js';
import { sh } from '../helpers/netns.js';
import { eventually } from '../controllers/env.js';

/**
 * Services as a user sees them on one real node: three busybox httpd pods
 * behind `web`, reached from a client pod by DNS name through the node's
 * proxy (iptables) and cluster DNS — balancing, readiness, scaling, NodePort,
 * session affinity, headless and SRV records, and deletion.
 */
test('Services: balancing, readiness, scaling, NodePort, affinity, headless, SRV and deletion on a real node', { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const c = await startAgentCluster(t, 'services', { octetFrom: 150 });
  const { admin } = c;
  await c.nodeReady();
  const timings: Record<string, number> = {};

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
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: ${BUSYBOX_IMAGE}
        command: [sh, -c, 'touch /tmp/ready && mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{ name: http, containerPort: 8080 }]
        readinessProbe: { exec: { command: [cat, /tmp/ready] }, periodSeconds: 1, failureThreshold: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: default }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - { name: sh, image: ${BUSYBOX_IMAGE}, command: [sleep, '3600'] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: web-np, namespace: default }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: web-sticky, namespace: default }
spec:
  selector: { app: web }
  sessionAffinity: ClientIP
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: web-headless, namespace: default }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 8080 }]
`;
  const applied = await c.kubectl(['apply', '-f', '-'], manifest);
  assert.equal(applied.code, 0, applied.stderr);
  const rolled = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=150s']);
  assert.equal(rolled.code, 0, rolled.stderr + c.logs.slice(-30).join('\n'));
  const clientUp = await c.kubectl(['wait', '--for=condition=Ready', 'pod/client', '--timeout=120s']);
  assert.equal(clientUp.code, 0, clientUp.stderr);
  timings.podsReadyS = (Date.now() - started) / 1000;

  /** The web pods that are not going away, by name → IP. */
  const webPods = async () => {
    const list: Pod[] = (await admin.list(pods, { namespace: 'default', labelSelector: 'app=web' })).items;
    return new Map(list.filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP).map((p) => [p.metadata!.name!, p.status!.podIP!]));
  };
  const exec = (argv: string[]) => c.kubectl(['exec', 'client', '--', ...argv]);
  /** `n` fetches of `url` from the client pod in one exec; each answer is the name of the pod that served it, or FAIL. */
  const fetchMany = async (url: string, n: number): Promise<string[]> => {
    const r = await exec(['sh', '-c', `for i in $(seq ${n}); do timeout 3 wget -qO- ${url} || echo FAIL; done`]);
    if (r.code !== 0) throw new Error(`exec: ${r.stderr}`);
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  };
  const sameSet = (a: Iterable<string>, b: Iterable<string>) => JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort());

  // Balancing: every backend answers through the Service's name.
  const initial = await webPods();
  assert.equal(initial.size, 3);
  const seen = new Set<string>();
  let failures = 0;
  await eventually('all three backends answer through web.default.svc.cluster.local', async () => {
    for (const name of await fetchMany('http://web.default.svc.cluster.local/', 12)) {
      if (name === 'FAIL') failures++;
      else seen.add(name);
    }
    return sameSet(seen, initial.keys());
  }, 60_000, 200).catch((err: Error) => { throw new Error(`${err.message}: seen ${[...seen].join(', ')}, ${failures} failed\n${c.logs.filter((l) => /proxy|dns/.test(l)).slice(-20).join('\n')}`); });
  if (failures) t.diagnostic(`${failures} fetches failed before every backend had answered`);
  for (const short of ['http://web/', 'http://web.default/']) {
    const answers = await fetchMany(short, 2);
    assert.ok(answers.every((a) => initial.has(a)), `${short} resolves through the search path: ${answers.join(', ')}`);
  }

  // Readiness: a backend whose probe fails stops getting traffic, and gets it again once ready.
  const [unready] = [...initial.keys()];
  const rm = await c.kubectl(['exec', unready!, '--', 'rm', '/tmp/ready']);
  assert.equal(rm.code, 0, rm.stderr);
  let t0 = Date.now();
  await eventually(`${unready} gets no more traffic`, async () => {
    const answers = await fetchMany('http://web/', 15);
    return answers.length === 15 && !answers.includes(unready!) && !answers.includes('FAIL');
  }, 30_000, 100);
  timings.unreadyOutS = (Date.now() - t0) / 1000;
  const touch = await c.kubectl(['exec', unready!, '--', 'touch', '/tmp/ready']);
  assert.equal(touch.code, 0, touch.stderr);
  t0 = Date.now();
  await eventually(`${unready} gets traffic again`, async () => (await fetchMany('http://web/', 15)).includes(unready!), 30_000, 100);
  timings.readyBackS = (Date.now() - t0) / 1000;

  // Scaling changes the set of backends, down and up.
  const down = await c.kubectl(['scale', 'deployment/web', '--replicas=2']);
  assert.equal(down.code, 0, down.stderr);
  await eventually('two backends answer after scaling down', async () => {
    const now = await webPods();
    return now.size === 2 && sameSet(await fetchMany('http://web/', 20), now.keys());
  }, 60_000, 200);
  const up = await c.kubectl(['scale', 'deployment/web', '--replicas=3']);
  assert.equal(up.code, 0, up.stderr);
  const upRolled = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s']);
  assert.equal(upRolled.code, 0, upRolled.stderr);
  const scaled = await eventually('three backends, one of them new, answer after scaling up', async () => {
    const now = await webPods();
    return now.size === 3 && sameSet(await fetchMany('http://web/', 30), now.keys()) ? now : undefined;
  }, 60_000, 200);
  assert.ok([...scaled.keys()].some((n) => !initial.has(n)), 'the new pod is among the backends');

  // NodePort: from the node's address (loopback here: the agent allows localhost NodePorts for a loopback node).
  const np: Service = await admin.get(services, 'default', 'web-np');
  const nodePort = np.spec!.ports![0]!.nodePort!;
  assert.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort}`);
  const viaNodePort = new Set<string>();
  await eventually(`every backend answers on 127.0.0.1:${nodePort}`, async () => {
    const res = await fetch(`http://127.0.0.1:${nodePort}/`, { signal: AbortSignal.timeout(3000) });
    viaNodePort.add((await res.text()).trim());
    return sameSet(viaNodePort, scaled.keys());
  }, 60_000, 50);

  // Session affinity: one client, one backend.
  const sticky = await fetchMany('http://web-sticky/', 12);
  assert.equal(new Set(sticky).size, 1, `ClientIP affinity sticks to one backend: ${sticky.join(', ')}`);
  assert.ok(scaled.has(sticky[0]!), sticky[0]);

  // Headless: the name resolves to every ready pod; SRV records list the named port.
  const answers = (out: string) => [...out.matchAll(/Name:\s+web-headless\.default\.svc\.cluster\.local\s+Address:\s+(\S+)/g)].map((m) => m[1]!);
  let lastHeadless = '';
  await eventually('web-headless resolves to every pod, and only to them', async () => {
    const r = await exec(['nslookup', 'web-headless.default.svc.cluster.local']);
    lastHeadless = r.stdout + r.stderr;
    return sameSet(answers(r.stdout), scaled.values()) && answers(r.stdout).length === 3;
  }, 20_000, 200).catch((err: Error) => { throw new Error(`${err.message}: ${lastHeadless}`); });
  const srv = await exec(['nslookup', '-type=srv', '_http._tcp.web.default.svc.cluster.local']);
  assert.match(srv.stdout, /\b80 web\.default\.svc\.cluster\.local/, `SRV of web's named port: ${srv.stdout}${srv.stderr}`);
  const headlessSrv = await exec(['nslookup', '-type=srv', '_http._tcp.web-headless.default.svc.cluster.local']);
  assert.equal((headlessSrv.stdout.match(/\b8080 \S+\.web-headless\.default\.svc\.cluster\.local/g) ?? []).length, 3,
    `one SRV per pod of web-headless with port 8080: ${headlessSrv.stdout}${headlessSrv.stderr}`);

  // Deleting the Service removes its rules and its name.
  const natRules = () => sh(['iptables-save', '-t', 'nat']);
  const prefix = c.agentOptions.proxyChainPrefix;
  const svcChain = new RegExp(`"default/web:http cluster IP" .* -j (${prefix}-SVC-[A-Z0-9]+)`).exec(await natRules())?.[1];
  assert.ok(svcChain, `a ${prefix}-SVC- chain for default/web:http`);
  const del = await c.kubectl(['delete', 'service', 'web']);
  assert.equal(del.code, 0, del.stderr);
  t0 = Date.now();
  await eventually('the Service\'s rules are gone', async () => {
    const rules = await natRules();
    return !rules.includes(svcChain!) && !rules.includes('"default/web:http');
  }, 20_000, 100);
  timings.rulesGoneS = (Date.now() - t0) / 1000;
  const gone = await eventually('web.default.svc.cluster.local is NXDOMAIN', async () => {
    const r = await exec(['nslookup', 'web.default.svc.cluster.local']);
    return /NXDOMAIN/.test(r.stdout + r.stderr) ? r : undefined;
  }, 20_000, 100);
  timings.nameGoneS = (Date.now() - t0) / 1000;
  assert.notEqual(gone.code, 0);
  // The other Services are untouched.
  assert.ok((await fetchMany('http://web-sticky/', 1)).every((a) => scaled.has(a)));
  timings.totalS = (Date.now() - started) / 1000;
  t.diagnostic(`timings: ${JSON.stringify(timings)}`);
});

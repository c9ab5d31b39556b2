import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1';
import { Client, nodes, pods, services } from '../../src/client/index.js';
import { ensureKubeDnsService } from '../../src/dns/index.js';
import { defaultControlLoops } from '../../src/server/control-loops.js';
import { BUSYBOX_IMAGE } from '../../src/agent/images/index.js';
import { freePort, startTestServer } from '../helpers/server.js';
import { run, sh } from '../helpers/netns.js';
import { eventually } from '../controllers/env.js';

const root = join(import.meta.dirname, '../..');

/** A third octet free in the host's addresses and routes for 10.77.o (the link), 10.42.o (pods) and 10.43.o (services). */
async function freeOctet(): Promise<number> {
  const used = await sh(['ip', '-4', 'addr']) + await sh(['ip', '-4', 'route', 'show', 'table', 'all']);
  for (let i = 0; i < 50; i++) {
    const o = 100 + ((process.pid + i * 7) % 50);
    if (![`10.77.${o}.`, `10.42.${o}.`, `10.43.${o}.`].some((p) => used.includes(p))) return o;
  }
  throw new Error('no free 10.x.1xx.0/24 for the test network');
}

/**
 * Runs a command in a node's network namespace only. Not `ip netns exec`: it also mounts a sysfs of its own
 * over /sys, which hides the cgroup mounts runc needs ("no cgroup mount found in mountinfo").
 */
const enter = (n: { ns: string }) => ['nsenter', `--net=/run/netns/${n.ns}`, '--'];

interface NodeNs { name: string; ns: string; ip: string; bridge: string; dataDir: string; kubeletPort: number; agent?: ChildProcess; output: string[] }

/**
 * Two nodes on one machine: each a network namespace with its own
 * `bosun agent` process (containerd, kubelet, proxy, DNS, routes), linked
 * by veths into a test bridge on the host where the server listens. Pods on
 * node A reach node B's pods through the routes host-gw style (no overlay),
 * by pod IP and through a Service.
 */
test('two nodes in network namespaces: a pod on node A reaches a Service whose only pod is on node B', { timeout: 300_000 }, async (t) => {
  const o = await freeOctet();
  const tag = (process.pid % 100_000).toString(36);
  const link = `10.77.${o}`, hostIP = `${link}.1`;
  const clusterCidr = `10.42.${o}.0/24`, serviceCidr = `10.43.${o}.0/24`, clusterDns = `10.43.${o}.10`;
  const hostBridge = `bmn${tag}`;
  const made = { bridge: false, namespaces: [] as string[], dirs: [] as string[] };
  const nodeList: NodeNs[] = [];
  let ts: Awaited<ReturnType<typeof startTestServer>> | undefined;
  let admin: Client | undefined;

  const stopAgent = async (n: NodeNs) => {
    const child = n.agent;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  t.after(async () => {
    for (const n of nodeList) await stopAgent(n);
    for (const n of nodeList) {
      // Inside the node's namespace, as on a real node: the pods' containers, the bridge, routes and rules go.
      const r = await run([...enter(n), process.execPath, '--import', 'tsx', join(root, 'src/cli/main.ts'),
        'uninstall', '--data-dir', n.dataDir, '--bridge', n.bridge], { timeoutMs: 120_000 });
      if (r.code !== 0) console.error(`uninstall on ${n.name}: ${r.stdout}${r.stderr}`);
    }
    for (const ns of made.namespaces) {
      for (const pid of (await run(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
      await run(['ip', 'netns', 'del', ns]);
    }
    if (made.bridge) await run(['ip', 'link', 'del', hostBridge]);
    admin?.close();
    await ts?.stop();
    for (const dir of made.dirs) await rm(dir, { recursive: true, force: true });
    if (process.env.BOSUN_TEST_LOGS) for (const n of nodeList) console.error(`--- ${n.name}\n${n.output.join('')}`);
  });

  // The link: a bridge on the host with the server's address, and one veth per node namespace. No default
  // route in the namespaces and no forwarding on the bridge: nothing of the nodes can leave this segment.
  await sh(['ip', 'link', 'add', hostBridge, 'type', 'bridge']);
  made.bridge = true;
  await sh(['ip', 'addr', 'add', `${hostIP}/24`, 'dev', hostBridge]);
  await writeFile(`/proc/sys/net/ipv4/conf/${hostBridge}/forwarding`, '0');
  await sh(['ip', 'link', 'set', hostBridge, 'up']);
  for (const [i, letter] of ['a', 'b'].entries()) {
    const n: NodeNs = {
      name: `mn-${tag}-${letter}`, ns: `multinode-${tag}-${letter}`, ip: `${link}.${11 + i}`, bridge: `bm${tag}${letter}`,
      dataDir: await mkdtemp(join(tmpdir(), `bosun-multinode-${letter}-`)), kubeletPort: await freePort(), output: [],
    };
    made.dirs.push(n.dataDir);
    await sh(['ip', 'netns', 'add', n.ns]);
    made.namespaces.push(n.ns);
    const veth = `vmn${tag}${letter}`;
    await sh(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns]);
    await sh(['ip', 'link', 'set', veth, 'master', hostBridge]);
    await sh(['ip', 'link', 'set', veth, 'up']);
    const inside = (argv: string[]) => sh(['ip', 'netns', 'exec', n.ns, ...argv]);
    await inside(['ip', 'link', 'set', 'lo', 'up']);
    await inside(['ip', 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0']);
    await inside(['ip', 'link', 'set', 'eth0', 'up']);
    nodeList.push(n);
  }
  const [nodeA, nodeB] = nodeList as [NodeNs, NodeNs];

  ts = await startTestServer({
    controlLoops: defaultControlLoops({
      disableScheduler: false, disableControllerManager: false,
      controllerManager: { nodeIpam: { clusterCidr, nodeCidrMaskSize: 26 } },
    }),
    config: { bindAddress: hostIP, tlsSans: [hostIP], serviceCidr },
  });
  assert.equal(new URL(ts.url).hostname, hostIP);
  const server = ts;
  const token = (await readFile(join(server.dataDir, 'server/token'), 'utf8')).trim();
  admin = await Client.fromKubeconfig(server.kubeconfig, { qps: 0 });
  const api = admin;
  await ensureKubeDnsService(api, { clusterIP: clusterDns });

  for (const n of nodeList) {
    const child = n.agent = spawn('nsenter', [...enter(n).slice(1), process.execPath, '--import', 'tsx', join(root, 'src/cli/main.ts'), 'agent',
      '--server', server.url, '--token', token, '--data-dir', n.dataDir, '--node-name', n.name, '--node-ip', n.ip,
      '--kubelet-port', String(n.kubeletPort), '--bridge', n.bridge,
      '--cluster-cidr', clusterCidr, '--service-cidr', serviceCidr, '--cluster-dns', clusterDns,
    ], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => n.output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => n.output.push(d.toString()));
  }
  const tail = (n: NodeNs) => `\n--- ${n.name} (exit ${n.agent?.exitCode}):\n${n.output.join('').split('\n').slice(-25).join('\n')}`;

  const ready = await eventually('both nodes Ready with a pod range', async () => {
    for (const n of nodeList) if (n.agent!.exitCode !== null) throw new Error(`agent ${n.name} exited${tail(n)}`);
    const list: Node[] = (await api.list(nodes)).items;
    const isReady = (x: Node) => x.spec?.podCIDR && x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return list.length === 2 && list.every(isReady) ? new Map(list.map((x) => [x.metadata!.name!, x])) : undefined;
  }, 150_000, 500).catch((err: Error) => { throw new Error(`${err.message}${tail(nodeA)}${tail(nodeB)}`); });
  const rangeA = ready.get(nodeA.name)!.spec!.podCIDR!, rangeB = ready.get(nodeB.name)!.spec!.podCIDR!;
  assert.notEqual(rangeA, rangeB);

  // Each node routes the other's pod range to the other's address; its own stays on its bridge.
  const gatewayTo = async (n: NodeNs, range: string) => {
    const first = range.replace(/\.(\d+)\/\d+$/, (_m, last: string) => `.${Number(last) + 2}`);
    return (await run(['ip', 'netns', 'exec', n.ns, 'ip', '-o', 'route', 'get', first])).stdout;
  };
  await eventually('host-gw routes on both nodes', async () =>
    (await gatewayTo(nodeA, rangeB)).includes(`via ${nodeB.ip} dev eth0`) && (await gatewayTo(nodeB, rangeA)).includes(`via ${nodeA.ip} dev eth0`), 30_000, 200);
  assert.match(await gatewayTo(nodeA, rangeA), new RegExp(` dev ${nodeA.bridge} `));

  const httpd = (name: string, node: NodeNs) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: default, labels: { app: ${name} } }
spec:
  nodeSelector: { kubernetes.io/hostname: ${node.name} }
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: ${BUSYBOX_IMAGE}
    # /cgi-bin/peer answers with the address the request came from.
    command: [sh, -c, 'mkdir -p /www/cgi-bin && echo "$(hostname) on ${node.name}" > /www/index.html && printf "#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \\$REMOTE_ADDR\\n" > /www/cgi-bin/peer && chmod +x /www/cgi-bin/peer && exec httpd -f -p 8080 -h /www']
    ports: [{ name: http, containerPort: 8080 }]
    readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 1 }
`;
  const manifest = `${httpd('client', nodeA)}---${httpd('backend', nodeB)}---
apiVersion: v1
kind: Service
metadata: { name: backend, namespace: default }
spec:
  type: NodePort
  selector: { app: backend }
  ports: [{ port: 80, targetPort: http }]
`;
  const applied = await server.kubectl(['apply', '-f', '-'], manifest);
  assert.equal(applied.code, 0, applied.stderr);
  const waited = await server.kubectl(['wait', '--for=condition=Ready', 'pod/client', 'pod/backend', '--timeout=150s']);
  assert.equal(waited.code, 0, `${waited.stderr}${tail(nodeA)}${tail(nodeB)}`);
  const client: Pod = await api.get(pods, 'default', 'client');
  const backend: Pod = await api.get(pods, 'default', 'backend');
  assert.equal(client.spec?.nodeName, nodeA.name);
  assert.equal(backend.spec?.nodeName, nodeB.name);
  const inRange = (ip: string, range: string) => ip.split('.').slice(0, 3).join('.') === range.split('.').slice(0, 3).join('.')
    && Number(ip.split('.')[3]) >= Number(range.split('/')[0]!.split('.')[3]) && Number(ip.split('.')[3]) < Number(range.split('/')[0]!.split('.')[3]) + 64;
  assert.ok(inRange(client.status!.podIP!, rangeA), `${client.status?.podIP} in ${rangeA}`);
  assert.ok(inRange(backend.status!.podIP!, rangeB), `${backend.status?.podIP} in ${rangeB}`);

  const fetchFrom = (pod: string, url: string) => server.kubectl(['exec', pod, '--', 'timeout', '3', 'wget', '-qO-', url]);
  // Pod IP to pod IP, both ways across the link.
  const direct = await eventually('client on A fetches from the backend pod on B by pod IP', async () => {
    const r = await fetchFrom('client', `http://${backend.status!.podIP}:8080/`);
    return r.code === 0 ? r.stdout.trim() : undefined;
  }, 30_000, 250);
  assert.equal(direct, `backend on ${nodeB.name}`);
  const back = await fetchFrom('backend', `http://${client.status!.podIP}:8080/`);
  assert.equal(back.stdout.trim(), `client on ${nodeA.name}`, back.stderr);
  // No NAT between pods: node B's pod sees node A's pod by its own address. What leaves the cluster (here: the
  // host, outside the pod range) carries node A's address instead.
  const peer = await fetchFrom('client', `http://${backend.status!.podIP}:8080/cgi-bin/peer`);
  assert.equal(peer.stdout.trim().replace(/^\[::ffff:(.*)\]$/, '$1'), client.status!.podIP, `the source node B's pod sees: ${peer.stdout}${peer.stderr}`);
  const outside = createServer((req, res) => res.end(`${req.socket.remoteAddress}\n`));
  await new Promise<void>((resolve) => outside.listen(0, hostIP, resolve));
  t.after(() => new Promise<void>((resolve) => outside.close(() => resolve())));
  const seenOutside = await fetchFrom('client', `http://${hostIP}:${(outside.address() as AddressInfo).port}/`);
  assert.equal(seenOutside.stdout.trim().replace(/^::ffff:/, ''), nodeA.ip, `the source the host sees: ${seenOutside.stdout}${seenOutside.stderr}`);

  // Through the Service by its DNS name: node A's DNS answers, node A's proxy DNATs to B's pod, the route carries it.
  let lastError = '';
  const viaService = await eventually('client on A fetches from the Service whose only pod is on B', async () => {
    const r = await fetchFrom('client', 'http://backend.default.svc.cluster.local/');
    if (r.code !== 0) lastError = r.stderr;
    return r.code === 0 ? r.stdout.trim() : undefined;
  }, 60_000, 250).catch((err: Error) => { throw new Error(`${err.message}: ${lastError}${tail(nodeA)}`); });
  assert.equal(viaService, `backend on ${nodeB.name}`);
  const short = await fetchFrom('client', 'http://backend/');
  assert.equal(short.stdout.trim(), `backend on ${nodeB.name}`, `the search path resolves "backend": ${short.stderr}`);

  // NodePort on node A's address, from the host: node A's proxy sends it on to the pod on node B.
  const svc: Service = await api.get(services, 'default', 'backend');
  const nodePortUrl = `http://${nodeA.ip}:${svc.spec!.ports![0]!.nodePort}/`;
  const viaNodePort = await eventually(`${nodePortUrl} answers from node B's pod`, async () => {
    const res = await fetch(nodePortUrl, { signal: AbortSignal.timeout(3000) });
    return res.ok ? (await res.text()).trim() : undefined;
  }, 30_000, 250);
  assert.equal(viaNodePort, `backend on ${nodeB.name}`);

  // A node that goes away takes its route with it.
  await stopAgent(nodeB);
  const deleted = await server.kubectl(['delete', 'node', nodeB.name, '--wait=false']);
  assert.equal(deleted.code, 0, deleted.stderr);
  await eventually(`node A drops the route to ${rangeB}`, async () => !(await gatewayTo(nodeA, rangeB)).includes(`via ${nodeB.ip}`), 30_000, 200);
  const left = (await run(['ip', 'netns', 'exec', nodeA.ns, 'ip', '-4', 'route', 'show', 'proto', '98'])).stdout.trim();
  assert.equal(left, '', 'no node route of ours is left on node A');
});

/**
 * `kubectl logs`, `exec`, `attach`, `port-forward`, `cp` and `get --raw
 * …/proxy/stats/summary` against real containers (root): an in-process API
 * server, a real containerd with its CRI streaming server, and a KubeletServer
 * between them. The pod's containers are made straight through CRI, as the
 * kubelet's pod workers would make them, so this tests the streaming path alone.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { get as httpGet } from 'node:http';
import type { Pod, Node } from 'kubernetes-types/core/v1';
import * as k8s from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ApiHttp } from '../helpers/http.js';
import { startTestContainerd, type TestContainerd } from '../helpers/containerd.js';
import { CriClient, type PodSandboxConfig, type ContainerConfig } from '../../src/kubelet/cri/client.js';
import { KubeletServer } from '../../src/kubelet/server/server.js';
import { kubeletTestCertificates } from '../../src/kubelet/server/testing.js';
import { podLogsDirectory, containerLogRelativePath } from '../../src/kubelet/logs/paths.js';
import type { Summary } from '../../src/kubelet/server/stats.js';
import { ContainerLogManager } from '../../src/kubelet/logs/rotation.js';
import { freePort } from '../helpers/server.js';
import { startKubeletEnv, podSpec, waitForPod, BUSYBOX_IMAGE, type KubeletEnv } from './kubelet-env.js';
import { pods } from '../../src/client/index.js';

const NODE = `streaming-${process.pid}`;
const isRoot = process.getuid?.() === 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try { const v = await fn(); if (v !== undefined) return v; } catch (err) { last = err; }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** A long-running kubectl whose output we watch. */
function spawnKubectl(ts: TestServer, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('kubectl', ['--kubeconfig', ts.kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return { child, output: () => out };
}

function fetchLocal(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Sends a raw upgrade request through a TLS connection and returns the status line of the answer. */
function upgradeStatusLine(host: string, port: number, tls: { ca: string; cert: string; key: string }, path: string, headers: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, ...tls }, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n${headers}\r\n`);
    });
    let data = '';
    s.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (data.includes('\r\n')) { s.destroy(); resolve(data.split('\r\n')[0]); }
    });
    s.on('error', reject);
    setTimeout(() => { s.destroy(); reject(new Error(`no answer: ${data}`)); }, 10_000);
  });
}

const WEBSOCKET = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

describe('kubectl logs, exec, port-forward and cp through the kubelet API', { skip: !isRoot && 'needs root (real containerd)' }, () => {
  const cleanups: Array<() => unknown> = [];
  let rt: TestContainerd;
  let cri: CriClient;
  let ts: TestServer;
  let http: ApiHttp;
  let kubelet: KubeletServer;
  let podLogsDir: string;
  let pod: Pod;
  let sandboxId: string;
  let sandbox: PodSandboxConfig;
  let certs: Awaited<ReturnType<typeof kubeletTestCertificates>>;
  const containerIds = new Map<string, string>();

  const containerConfig = (name: string, attempt: number, command: string[]): ContainerConfig => ({
    metadata: { name, attempt }, image: { image: rt.busyboxImage }, command, logPath: containerLogRelativePath(name, attempt),
  });

  async function startContainer(name: string, attempt: number, command: string[]): Promise<void> {
    const id = await cri.createContainer(sandboxId, containerConfig(name, attempt, command), sandbox);
    await cri.startContainer(id);
    containerIds.set(name, id);
  }

  before(async () => {
    rt = await startTestContainerd({ after: (fn) => cleanups.push(fn) });
    cri = new CriClient({ endpoint: rt.endpoint });
    cleanups.push(() => cri.close());
    ts = await startTestServer();
    cleanups.push(() => ts.stop());
    http = new ApiHttp(ts.url, ts.dataDir);
    cleanups.push(() => http.close());
    podLogsDir = join(rt.dir, 'pod-logs');
    certs = await kubeletTestCertificates(ts.dataDir, NODE);
    const pods = ts.server.apiserver!.registry('', 'pods');
    kubelet = new KubeletServer({
      runtime: cri, podLogsDir, nodeName: NODE, address: '127.0.0.1', port: 0,
      tls: { ...certs.serving, caPem: certs.caPem },
      getPod: async (ns, name) => await pods.get(ns, name).catch(() => undefined) as Pod | undefined,
    });
    await kubelet.start();
    cleanups.push(() => kubelet.stop());

    // The node, as an agent registers it: its address and kubelet port.
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } };
    assert.equal((await http.request('POST', '/api/v1/nodes', node)).status, 201);
    const created = (await http.request('GET', `/api/v1/nodes/${NODE}`)).json<Node>();
    const withStatus = { ...created, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } };
    assert.equal((await http.request('PUT', `/api/v1/nodes/${NODE}/status`, withStatus)).status, 200);

    const manifest: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
      spec: {
        nodeName: NODE,
        containers: [
          { name: 'httpd', image: rt.busyboxImage, command: ['sh', '-c', 'mkdir -p /tmp/www && echo hello-from-pod > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'] },
          { name: 'logger', image: rt.busyboxImage, command: ['sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.5; done'] },
        ],
      },
    };
    const res = await http.request('POST', '/api/v1/namespaces/default/pods', manifest);
    assert.equal(res.status, 201, res.body);
    pod = res.json<Pod>();

    // What the kubelet's pod worker does: one sandbox, the containers in it, logs under the pod's log dir.
    sandbox = {
      metadata: { name: 'web', namespace: 'default', uid: pod.metadata!.uid!, attempt: 0 },
      hostname: 'web', logDirectory: podLogsDirectory(podLogsDir, 'default', 'web', pod.metadata!.uid!), linux: {},
    };
    sandboxId = await cri.runPodSandbox(sandbox);
    for (const c of manifest.spec!.containers) await startContainer(c.name, 0, c.command!);
    const running = { ...pod, status: { phase: 'Running', podIP: '', hostIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] } };
    const st = await http.request('PUT', '/api/v1/namespaces/default/pods/web/status', running);
    assert.equal(st.status, 200, st.body);
    // httpd listening before the tests talk to it.
    await eventually('httpd', async () => {
      const r = await cri.execSync(containerIds.get('httpd')!, ['wget', '-qO-', 'http://127.0.0.1:8080/'], 5);
      return r.stdout.toString().includes('hello-from-pod') ? true : undefined;
    });
  });

  after(async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch((err: unknown) => console.error('cleanup:', err));
  });

  it('kubectl logs -c shows the chosen container\'s output; --tail limits it', async () => {
    await eventually('ticks', async () => ((await ts.kubectl(['logs', 'web', '-c', 'logger'])).stdout.includes('tick 2') ? true : undefined));
    const tail = await ts.kubectl(['logs', 'web', '-c', 'logger', '--tail=1']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.match(tail.stdout, /^tick \d+\n$/);
    const stamped = await ts.kubectl(['logs', 'web', '-c', 'logger', '--tail=1', '--timestamps']);
    assert.match(stamped.stdout, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z tick \d+\n$/);
    const httpd = await ts.kubectl(['logs', 'web', '-c', 'httpd']);
    assert.equal(httpd.code, 0, httpd.stderr);
    assert.ok(!httpd.stdout.includes('tick'));
  });

  it('pods/log without a container names the choices, as upstream', async () => {
    const r = await http.request('GET', '/api/v1/namespaces/default/pods/web/log');
    assert.equal(r.status, 400);
    assert.equal(r.json().message, 'a container name must be specified for pod web, choose one of: [httpd logger]');
    const missing = await http.request('GET', '/api/v1/namespaces/default/pods/nope/log');
    assert.equal(missing.status, 404);
    assert.equal(missing.json().message, 'pods "nope" not found');
    const wrong = await ts.kubectl(['logs', 'web', '-c', 'nope']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /container nope is not valid for pod web/);
  });

  it('kubectl logs -f sees new lines as they are written', async () => {
    const follow = spawnKubectl(ts, ['logs', '-f', 'web', '-c', 'logger', '--tail=1']);
    try {
      const first = await eventually('a first line', async () => /tick (\d+)/.exec(follow.output())?.[1]);
      await eventually('a later line', async () => {
        const seen = [...follow.output().matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
        return seen.some((n) => n >= Number(first) + 2) ? true : undefined;
      });
      assert.equal(follow.child.exitCode, null, 'still following');
    } finally {
      follow.child.kill();
    }
  });

  it('kubectl exec runs a command, with stdin when asked', async () => {
    const hi = await ts.kubectl(['exec', 'web', '-c', 'httpd', '--', 'echo', 'hi']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, 'hi\n');
    assert.equal(hi.stderr, '', 'the fallback from WebSocket to SPDY is silent');
    const piped = await ts.kubectl(['exec', '-i', 'web', '-c', 'httpd', '--', 'sh', '-c', 'cat; echo done'], 'from-stdin\n');
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'from-stdin\ndone\n');
    // Containers of a pod share its network: the logger reaches httpd on localhost.
    const neighbour = await ts.kubectl(['exec', 'web', '-c', 'logger', '--', 'wget', '-qO-', 'http://127.0.0.1:8080/']);
    assert.equal(neighbour.stdout, 'hello-from-pod\n');
    const failing = await ts.kubectl(['exec', 'web', '-c', 'httpd', '--', 'sh', '-c', 'exit 3']);
    assert.equal(failing.code, 3);
  });

  it('kubectl port-forward serves the pod\'s web server on loopback', async () => {
    const pf = spawnKubectl(ts, ['port-forward', 'pod/web', ':8080', '--address', '127.0.0.1']);
    try {
      const port = Number(await eventually('forwarding', async () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(pf.output())?.[1]));
      assert.equal(await fetchLocal(port), 'hello-from-pod\n');
      assert.equal(await fetchLocal(port), 'hello-from-pod\n', 'a second connection through the same forward');
    } finally {
      pf.child.kill();
    }
  });

  it('kubectl cp copies files out of and into a pod', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bosun-cp-'));
    try {
      const out = await ts.kubectl(['cp', '-c', 'httpd', 'default/web:/tmp/www/index.html', join(dir, 'index.html')]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(await readFile(join(dir, 'index.html'), 'utf8'), 'hello-from-pod\n');
      await writeFile(join(dir, 'upload.txt'), 'uploaded by kubectl cp\n');
      const up = await ts.kubectl(['cp', '-c', 'httpd', join(dir, 'upload.txt'), 'default/web:/tmp/www/upload.txt']);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(await fetchViaExec('/tmp/www/upload.txt'), 'uploaded by kubectl cp\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  async function fetchViaExec(path: string): Promise<string> {
    return (await ts.kubectl(['exec', 'web', '-c', 'httpd', '--', 'cat', path])).stdout;
  }

  it('kubectl attach streams a running container\'s output', async () => {
    const attach = spawnKubectl(ts, ['attach', 'web', '-c', 'logger']);
    try {
      await eventually('attached output', async () => (/tick \d+/.test(attach.output()) ? true : undefined));
    } finally {
      attach.child.kill();
    }
  });

  it('nodes/proxy reaches the kubelet: stats summary, pods, healthz', async () => {
    const raw = await ts.kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`]);
    assert.equal(raw.code, 0, raw.stderr);
    const summary = JSON.parse(raw.stdout) as Summary;
    assert.equal(summary.node.nodeName, NODE);
    assert.ok(summary.node.cpu!.usageCoreNanoSeconds! > 0);
    assert.ok(summary.node.memory!.workingSetBytes! > 0 && summary.node.memory!.availableBytes! > 0);
    const web = summary.pods.find((p) => p.podRef.name === 'web');
    assert.ok(web, 'the pod is in the summary');
    assert.equal(web.podRef.uid, pod.metadata!.uid);
    assert.deepEqual(web.containers.map((c) => c.name), ['httpd', 'logger']);
    for (const c of web.containers) {
      assert.ok(c.cpu!.usageCoreNanoSeconds! > 0, `${c.name} cpu`);
      assert.ok(c.memory!.workingSetBytes! > 0, `${c.name} memory`);
    }
    const healthz = await ts.kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]);
    assert.equal(healthz.stdout, 'ok');
  });

  it('WebSocket v5 (which containerd 1.6 refuses) is turned away so kubectl uses SPDY; v4 passes through', async () => {
    const ca = certs.caPem;
    const admin = { ca, cert: await readFile(join(ts.dataDir, 'server/tls/client-admin.crt'), 'utf8'), key: await readFile(join(ts.dataDir, 'server/tls/client-admin.key'), 'utf8') };
    const port = Number(new URL(ts.url).port);
    const execPath = '/api/v1/namespaces/default/pods/web/exec?container=httpd&command=true&stdout=true';
    assert.match(await upgradeStatusLine('127.0.0.1', port, admin, execPath, `${WEBSOCKET}Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n`), / 400 /);
    assert.match(await upgradeStatusLine('127.0.0.1', port, admin, execPath, `${WEBSOCKET}Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n`), / 101 /);
    // The fact behind the choice: asked directly, containerd's streaming server refuses v5.
    const client = { ca, cert: certs.apiserverClient.certPem, key: certs.apiserverClient.keyPem };
    assert.match(await upgradeStatusLine('127.0.0.1', kubelet.port, client, '/exec/default/web/httpd?command=true&stdout=1', `${WEBSOCKET}Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n`), / 403 /);
  });

  it('@kubernetes/client-node Exec works over WebSocket (v4 passed through to containerd)', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(ts.kubeconfig);
    const stdout = new PassThrough(), stderr = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Exec(kc).exec('default', 'web', 'httpd', ['sh', '-c', 'echo from-websocket'], stdout, stderr, null, false, (s) => resolve(s))
        .then((ws) => ws.on('error', reject), reject);
      setTimeout(() => reject(new Error(`no status; output so far: ${out}`)), 20_000);
    });
    assert.equal(status.status, 'Success');
    assert.equal(out, 'from-websocket\n');
  });

  it('kubectl logs -p shows the previous instance after a restart', async () => {
    const follow = spawnKubectl(ts, ['logs', '-f', 'web', '-c', 'logger', '--tail=1']);
    await eventually('following', async () => (/tick \d+/.test(follow.output()) ? true : undefined));
    // A restart as the kubelet makes one: the old instance stops, attempt 1 logs to 1.log.
    await cri.stopContainer(containerIds.get('logger')!, 0);
    // Following ends when the container it follows stops, as upstream's does.
    const exited = await eventually('kubectl logs -f to end', async () => follow.child.exitCode ?? undefined, 15_000).finally(() => follow.child.kill());
    assert.equal(exited, 0, follow.output());
    await startContainer('logger', 1, ['sh', '-c', 'echo second life; exec sleep 3600']);
    await eventually('the new instance', async () => ((await ts.kubectl(['logs', 'web', '-c', 'logger'])).stdout === 'second life\n' ? true : undefined));
    const previous = await ts.kubectl(['logs', '-p', 'web', '-c', 'logger']);
    assert.equal(previous.code, 0, previous.stderr);
    assert.match(previous.stdout, /^tick 0\ntick 1\n/);
    assert.ok(!previous.stdout.includes('second life'));
  });

  it('kubectl exec -it gets a terminal', async () => {
    // `script` gives kubectl a terminal of its own, as a user's shell would.
    const cmd = `kubectl --kubeconfig ${ts.kubeconfig} exec -it web -c httpd -- sh -c 'tty; stty size >/dev/null && echo has-size'`;
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('exit', (code) => resolve({ code, out }));
      setTimeout(() => child.kill(), 30_000);
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /\/dev\/pts\/\d+/);
    assert.match(r.out, /has-size/);
  });

  it('rotated logs: containerd reopens its file, kubectl logs and logs -f read across the copies', async () => {
    const manifest: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'chatty', namespace: 'default' },
      spec: { nodeName: NODE, containers: [{ name: 'chatty', image: rt.busyboxImage }] },
    };
    const created = (await http.request('POST', '/api/v1/namespaces/default/pods', manifest)).json<Pod>();
    const uid = created.metadata!.uid!;
    const sb: PodSandboxConfig = { metadata: { name: 'chatty', namespace: 'default', uid, attempt: 0 }, hostname: 'chatty', logDirectory: podLogsDirectory(podLogsDir, 'default', 'chatty', uid), linux: {} };
    const sbId = await cri.runPodSandbox(sb);
    const cid = await cri.createContainer(sbId, {
      metadata: { name: 'chatty', attempt: 0 }, image: { image: rt.busyboxImage }, logPath: containerLogRelativePath('chatty', 0),
      command: ['sh', '-c', 'i=0; while :; do echo "line $i"; i=$((i+1)); if [ $((i % 100)) = 0 ]; then sleep 0.1; fi; done'],
    }, sb);
    await cri.startContainer(cid);
    const live = join(sb.logDirectory!, 'chatty', '0.log');
    const maxSize = 16 * 1024;
    const manager = new ContainerLogManager({ runtime: cri, maxSizeBytes: maxSize, maxFiles: 3 });
    const follow = spawnKubectl(ts, ['logs', '-f', 'chatty']);
    try {
      await eventually('following', async () => (/line \d+/.test(follow.output()) ? true : undefined));
      for (let round = 0; round < 4; round++) {
        await eventually('a big log', async () => ((await stat(live)).size >= maxSize ? true : undefined));
        await manager.rotateLogs();
      }
      // Stopped, the log is final: the follower ends with the container.
      await cri.stopContainer(cid, 0);
      await eventually('the follower to end', async () => follow.child.exitCode ?? undefined, 15_000);
      const files = (await readdir(join(sb.logDirectory!, 'chatty'))).sort();
      assert.equal(files.length, 3, files.join(' '));
      assert.ok(files.includes('0.log'));
      // Lines numbered without a gap or a repeat, across the rotated copies.
      const numbers = (text: string) => [...text.matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
      const consecutive = (n: number[]) => n.every((v, i) => i === 0 || v === n[i - 1] + 1);
      const liveLines = (await readFile(live, 'utf8')).split('\n').filter(Boolean).length;
      assert.ok(liveLines < 500, `the live file holds ${liveLines} lines`);
      const tail = numbers((await ts.kubectl(['logs', 'chatty', '--tail=500'])).stdout);
      assert.equal(tail.length, 500);
      if (!consecutive(tail)) {
        const dbg: string[] = [];
        for (const f of files) { const t = (await readFile(join(sb.logDirectory!, 'chatty', f), 'utf8')).split('\n'); dbg.push(`${f}: ${t.length} ${t[0]} ... ${t.at(-2)}`); }
        const gap = tail.findIndex((v, i) => i > 0 && v !== tail[i - 1] + 1);
        dbg.push(`gap at ${gap}: ${tail.slice(Math.max(0, gap - 2), gap + 2).join(',')}`);
        assert.fail(dbg.join('\n'));
      }
      const followed = numbers(follow.output());
      assert.ok(consecutive(followed), 'what logs -f printed across four rotations has no gap or repeat');
      assert.equal(followed.at(-1), tail.at(-1), 'the follower saw the last line');
    } finally {
      follow.child.kill();
      await cri.stopContainer(cid, 0).catch(() => {});
    }
  });

  it('errors come back as Status: no host, not running', async () => {
    const pending: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unscheduled' }, spec: { containers: [{ name: 'c', image: rt.busyboxImage }] } };
    assert.equal((await http.request('POST', '/api/v1/namespaces/default/pods', pending)).status, 201);
    const r = await http.request('GET', '/api/v1/namespaces/default/pods/unscheduled/log');
    assert.equal(r.status, 400);
    assert.equal(r.json().message, 'pod unscheduled does not have a host assigned');
    const exec = await ts.kubectl(['exec', 'web', '-c', 'nope', '--', 'true']);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /container nope is not valid for pod web/);
    // A node whose kubelet does not answer.
    const gone: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: `${NODE}-gone` } };
    const node = (await http.request('POST', '/api/v1/nodes', gone)).json<Node>();
    await http.request('PUT', `/api/v1/nodes/${NODE}-gone/status`, { ...node, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: await freePort() } } } });
    const stranded: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stranded' }, spec: { nodeName: `${NODE}-gone`, containers: [{ name: 'c', image: rt.busyboxImage }] } };
    assert.equal((await http.request('POST', '/api/v1/namespaces/default/pods', stranded)).status, 201);
    const unreachable = await http.request('GET', '/api/v1/namespaces/default/pods/stranded/log');
    assert.equal(unreachable.status, 500);
    assert.match(unreachable.json<{ message: string }>().message, /error dialing backend: .*ECONNREFUSED/);
    const execGone = await ts.kubectl(['exec', 'stranded', '--', 'true']);
    assert.notEqual(execGone.code, 0);
    assert.match(execGone.stderr, /error dialing backend/);
  });
});

describe('a two-container pod run by the Kubelet, through kubectl', { skip: !isRoot && 'needs root (real containerd)' }, () => {
  const cleanups: Array<() => unknown> = [];
  let env: KubeletEnv;
  let kubelet: KubeletServer;

  before(async () => {
    const port = await freePort();
    env = await startKubeletEnv({ after: (fn) => cleanups.push(fn) }, { kubelet: { nodeIP: '127.0.0.1', kubeletPort: port } });
    const certs = await kubeletTestCertificates(env.ts.dataDir, env.nodeName);
    kubelet = new KubeletServer({
      runtime: env.cri, podLogsDir: join(env.dir, 'pod-logs'), nodeName: env.nodeName, address: '127.0.0.1', port,
      tls: { ...certs.serving, caPem: certs.caPem },
      getPod: (ns, name) => env.kubelet.pods().find((p) => p.metadata?.namespace === ns && p.metadata?.name === name),
      listPods: () => env.kubelet.pods(),
    });
    await kubelet.start();
    cleanups.push(() => kubelet.stop());
    // An httpd and a sidecar tailing the log the web container writes to a shared emptyDir.
    await env.client.create(pods, podSpec('proof', env.nodeName, {
      volumes: [{ name: 'shared', emptyDir: {} }],
      containers: [
        {
          name: 'web', image: BUSYBOX_IMAGE, volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          // Ready once httpd answers, so the tests below do not race its start.
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          command: ['sh', '-c', 'mkdir -p /www; echo proof-page > /www/index.html; echo "web up"; (i=0; while :; do echo "app event $i" >> /shared/app.log; i=$((i+1)); sleep 1; done) & exec httpd -f -p 8080 -h /www'],
        },
        { name: 'sidecar', image: BUSYBOX_IMAGE, volumeMounts: [{ name: 'shared', mountPath: '/shared' }], command: ['sh', '-c', 'touch /shared/app.log; exec tail -f /shared/app.log'] },
      ],
    }));
    await waitForPod(env.client, 'proof', 'Ready', (p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'), 60_000);
  });

  after(async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch((err: unknown) => console.error('cleanup:', err));
  });

  it('exec from the sidecar reaches the web server on localhost; logs -c shows each container', async () => {
    const ts = env.ts;
    const fetched = await ts.kubectl(['exec', 'proof', '-c', 'sidecar', '--', 'wget', '-qO-', 'http://localhost:8080/']);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(fetched.stdout, 'proof-page\n');
    assert.equal((await ts.kubectl(['logs', 'proof', '-c', 'web'])).stdout, 'web up\n');
    await eventually('the sidecar\'s tail', async () => ((await ts.kubectl(['logs', 'proof', '-c', 'sidecar'])).stdout.includes('app event 1') ? true : undefined));
  });

  it('port-forward serves the page on loopback; cp copies a file in and out', async () => {
    const ts = env.ts;
    const dir = await mkdtemp(join(tmpdir(), 'bosun-cp-'));
    const pf = spawnKubectl(ts, ['port-forward', 'pod/proof', ':8080', '--address', '127.0.0.1']);
    try {
      const port = Number(await eventually('forwarding', async () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(pf.output())?.[1]));
      assert.equal(await fetchLocal(port), 'proof-page\n');
      await writeFile(join(dir, 'in.txt'), 'copied in\n');
      const up = await ts.kubectl(['cp', '-c', 'web', join(dir, 'in.txt'), 'default/proof:/www/in.txt']);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(await fetchLocal(port, '/in.txt'), 'copied in\n', 'served by httpd after kubectl cp');
      const down = await ts.kubectl(['cp', '-c', 'sidecar', 'default/proof:/shared/app.log', join(dir, 'app.log')]);
      assert.equal(down.code, 0, down.stderr);
      assert.match(await readFile(join(dir, 'app.log'), 'utf8'), /^app event 0\n/);
    } finally {
      pf.child.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

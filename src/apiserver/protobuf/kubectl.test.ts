import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { startTestServer, runKubectl, type TestServer, type KubectlResult } from '../../../test/helpers/server.js';
import { decodeProtobufObject, isProtobufContentType } from './index.js';

type Obj = Record<string, unknown>;

/**
 * kubectl's typed commands, each of which sends its object as protobuf, run in
 * namespace `ns` (cluster-scoped objects take `ns` into their name instead).
 */
const COMMANDS: ReadonlyArray<{ args: (ns: string) => string[]; resource: string; name: (ns: string) => string }> = [
  { args: (ns) => ['create', 'configmap', 'x', '--from-literal=a=b', '-n', ns], resource: 'configmap', name: () => 'x' },
  { args: (ns) => ['create', 'secret', 'generic', 's', '--from-literal=p=q', '-n', ns], resource: 'secret', name: () => 's' },
  { args: (ns) => ['create', 'secret', 'docker-registry', 'reg', '--docker-server=127.0.0.1:5000', '--docker-username=u', '--docker-password=p', '-n', ns], resource: 'secret', name: () => 'reg' },
  { args: (ns) => ['create', 'deployment', 'web', '--image=127.0.0.1:5000/nginx:1', '--replicas=0', '--port=80', '-n', ns], resource: 'deployment', name: () => 'web' },
  { args: (ns) => ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '-n', ns], resource: 'service', name: () => 'web' },
  { args: (ns) => ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '-n', ns], resource: 'service', name: () => 'np' },
  { args: (ns) => ['create', 'serviceaccount', 'robot', '-n', ns], resource: 'serviceaccount', name: () => 'robot' },
  { args: (ns) => ['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=50', '-n', ns], resource: 'hpa', name: () => 'web' },
  { args: (ns) => ['create', 'priorityclass', `zero-${ns}`, '--value=0', '--description=free'], resource: 'priorityclass', name: (ns) => `zero-${ns}` },
];

/** Go's JSON writes null for a zero metav1.Time and {} for a zero struct; the decoder omits both. */
function dropNullsAndEmpties(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNullsAndEmpties);
  if (v === null || typeof v !== 'object') return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v as Obj)) {
    const y = dropNullsAndEmpties(x);
    if (y === null || (typeof y === 'object' && !Array.isArray(y) && Object.keys(y as Obj).length === 0)) continue;
    out[k] = y;
  }
  return out;
}

interface Captured { method: string; path: string; contentType: string; body: Buffer }

/**
 * A loopback HTTP front for the test server that records protobuf request bodies
 * and forwards them decoded, as JSON — so this test proves the decoder on what
 * kubectl really sends whether or not the server itself accepts protobuf yet.
 */
async function startCapturingProxy(ts: TestServer): Promise<{ server: Server; port: number; captured: Captured[] }> {
  const kc = parseYaml(readFileSync(ts.kubeconfig, 'utf8')) as {
    clusters: Array<{ cluster: Record<string, string> }>; users: Array<{ user: Record<string, string> }>;
  };
  const b64 = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64');
  const tls = { ca: b64(kc.clusters[0].cluster['certificate-authority-data']), cert: b64(kc.users[0].user['client-certificate-data']), key: b64(kc.users[0].user['client-key-data']) };
  const target = new URL(ts.url);
  const captured: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      delete headers.host;
      const contentType = req.headers['content-type'] ?? '';
      if (isProtobufContentType(contentType)) {
        captured.push({ method: req.method ?? '', path: req.url ?? '', contentType, body });
        body = Buffer.from(JSON.stringify(decodeProtobufObject(body)));
        headers['content-type'] = 'application/json';
      }
      headers['content-length'] = String(body.length);
      const up = httpsRequest({ ...tls, host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', (err) => { res.writeHead(502); res.end(String(err)); });
      up.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, captured };
}

describe('kubectl 1.32 protobuf request bodies', () => {
  let ts: TestServer;
  let proxy: Awaited<ReturnType<typeof startCapturingProxy>>;
  let viaProxy: (args: string[], input?: string) => Promise<KubectlResult>;

  const ok = (r: KubectlResult, what: string): string => {
    assert.equal(r.code, 0, `kubectl ${what} failed:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  before(async () => {
    ts = await startTestServer();
    proxy = await startCapturingProxy(ts);
    const kubeconfig = join(ts.dataDir, 'proxy-kubeconfig.yaml');
    await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: "http://127.0.0.1:${proxy.port}"}}]
users: [{name: proxy, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]
current-context: proxy
`);
    const cacheDir = join(ts.dataDir, 'proxy-kubectl-cache');
    viaProxy = (args, input) => runKubectl(['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], input);
  });

  after(async () => {
    proxy?.server.close();
    await ts?.stop();
  });

  it('decodes what kubectl sends to exactly what kubectl itself writes as JSON', async () => {
    const ns = 'capture-ns';
    const cases = [['create', 'namespace', ns], ...COMMANDS.map((c) => c.args(ns))];
    for (const args of cases) {
      const before = proxy.captured.length;
      const expected = JSON.parse(ok(await viaProxy([...args, '--dry-run=client', '-o', 'json']), `${args.join(' ')} --dry-run`)) as Obj;
      ok(await viaProxy(args), args.join(' '));
      const posts = proxy.captured.slice(before).filter((x) => x.method === 'POST');
      assert.equal(posts.length, 1, `${args.join(' ')}: expected one protobuf POST, saw ${posts.length}`);
      assert.ok(posts[0].body.subarray(0, 4).equals(Buffer.from('k8s\0')), 'body starts with the protobuf magic');
      const decoded = decodeProtobufObject(posts[0].body) as Obj;
      assert.deepEqual(dropNullsAndEmpties(decoded), dropNullsAndEmpties(expected), args.join(' '));
    }
    const pc = decodeProtobufObject(proxy.captured.find((x) => x.path.includes('/priorityclasses'))!.body) as Obj;
    assert.equal(pc.value, 0, 'PriorityClass.value has no omitempty: a zero is kept');
    const deploy = decodeProtobufObject(proxy.captured.find((x) => x.path.includes('/deployments'))!.body) as { spec: Obj };
    assert.equal(deploy.spec.replicas, 0, 'an explicit replicas: 0 survives');
    const secret = decodeProtobufObject(proxy.captured.find((x) => x.path.includes('/secrets'))!.body) as { data: Obj };
    assert.equal(Buffer.from(String(secret.data.p), 'base64').toString(), 'q');
    // kubectl 1.32's autoscale still builds an autoscaling/v1 HPA (its dry-run output says so too).
    const hpa = decodeProtobufObject(proxy.captured.find((x) => x.path.includes('/horizontalpodautoscalers'))!.body) as { apiVersion: string; spec: Obj };
    assert.equal(hpa.apiVersion, 'autoscaling/v1');
    assert.deepEqual(hpa.spec, { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 50 });
  });

  it('creates the same objects from protobuf as from JSON (needs decodeBody wired to the decoder)', async () => {
    const kubectl = async (args: string[], input?: string): Promise<string> => ok(await ts.kubectl(args, input), args.join(' '));
    const get = async (resource: string, name: string, ns?: string): Promise<Obj> =>
      JSON.parse(await kubectl(['get', resource, name, ...(ns ? ['-n', ns] : []), '-o', 'json'])) as Obj;

    // Straight to the server: protobuf in "proto-ns", kubectl's own JSON (`create -f -`) in "json-ns".
    const comparable = (o: Obj, ns: string): unknown => {
      // creationTimestamp at any depth: kubectl's JSON has `template.metadata.creationTimestamp: null`, protobuf has nothing.
      const c = JSON.parse(JSON.stringify(o, (k, v: unknown) => (k === 'creationTimestamp' ? undefined : v)).replaceAll(ns, 'NS')) as
        { metadata: Obj; spec?: { clusterIP?: unknown; clusterIPs?: unknown; ports?: Obj[] }; status?: unknown };
      for (const k of ['uid', 'resourceVersion', 'generation']) delete c.metadata[k];
      for (const m of (c.metadata.managedFields as Obj[] | undefined) ?? []) delete m.time;
      delete c.status; // controllers write it on their own schedule
      const annotations = c.metadata.annotations as Obj | undefined;
      if (annotations) delete annotations['deployment.kubernetes.io/revision'];
      if (c.spec) { // allocated by the server
        delete c.spec.clusterIP;
        delete c.spec.clusterIPs;
        for (const p of c.spec.ports ?? []) delete p.nodePort;
      }
      return c;
    };
    await kubectl(['create', 'namespace', 'proto-ns']);
    await kubectl(['create', '-f', '-'], await kubectl(['create', 'namespace', 'json-ns', '--dry-run=client', '-o', 'json']));
    assert.deepEqual(comparable(await get('namespace', 'proto-ns'), 'proto-ns'), comparable(await get('namespace', 'json-ns'), 'json-ns'));

    for (const c of COMMANDS) {
      await kubectl(c.args('proto-ns'));
      // `-n` again: autoscale's dry-run object carries no namespace.
      await kubectl(['create', '-n', 'json-ns', '-f', '-'], await kubectl([...c.args('json-ns'), '--dry-run=client', '-o', 'json']));
      const pb = await get(c.resource, c.name('proto-ns'), 'proto-ns');
      const js = await get(c.resource, c.name('json-ns'), 'json-ns');
      assert.deepEqual(comparable(pb, 'proto-ns'), comparable(js, 'json-ns'), `${c.resource}/${c.name('proto-ns')}`);
    }
    assert.equal(((await get('deployment', 'web', 'proto-ns')).spec as Obj).replicas, 0);
    assert.equal(Buffer.from(String(((await get('secret', 's', 'proto-ns')).data as Obj).p), 'base64').toString(), 'q');
    assert.equal((await get('priorityclass', 'zero-proto-ns')).value, 0);
  });
});

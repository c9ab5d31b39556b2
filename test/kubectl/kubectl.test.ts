import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The real kubectl, driving real manifests: if kubectl prints an error, it is our bug. */
describe('kubectl against bosun', () => {
  let ts: TestServer;
  const ok = async (args: string[], input?: string) => {
    const r = await ts.kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
    assert.equal(r.stderr.replace(/^Warning: .*\n/gm, ''), '', `kubectl ${args.join(' ')} printed errors`);
    return r.stdout;
  };
  const json = async <T = Record<string, unknown>>(args: string[]) => JSON.parse(await ok([...args, '-o', 'json'])) as T;

  before(async () => { ts = await startTestServer(); });
  after(async () => { await ts.stop(); });

  const manifest = (image: string, extra = '') => `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 80
${extra}---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
`;

  it('apply -f creates every document of a multi-document manifest', async () => {
    const out = await ok(['apply', '-f', '-'], manifest('127.0.0.1:5000/nginx:1'));
    assert.match(out, /namespace\/shop created/);
    assert.match(out, /configmap\/settings created/);
    assert.match(out, /deployment.apps\/web created/);
    assert.match(out, /service\/web created/);
  });

  it('a second identical apply changes nothing', async () => {
    const before = await json<{ metadata: { resourceVersion: string } }>(['get', 'deployment', 'web', '-n', 'shop']);
    const out = await ok(['apply', '-f', '-'], manifest('127.0.0.1:5000/nginx:1'));
    assert.match(out, /deployment.apps\/web unchanged/);
    assert.match(out, /configmap\/settings unchanged/);
    const after_ = await json<{ metadata: { resourceVersion: string } }>(['get', 'deployment', 'web', '-n', 'shop']);
    assert.equal(after_.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  it('a changed apply patches the object', async () => {
    const env = '        env:\n        - name: MODE\n          value: fast\n';
    const out = await ok(['apply', '-f', '-'], manifest('127.0.0.1:5000/nginx:2', env));
    assert.match(out, /deployment.apps\/web configured/);
    const d = await json<{ metadata: { generation: number }; spec: { template: { spec: { containers: Array<{ image: string; env: unknown[]; ports: unknown[] }> } } } }>(['get', 'deployment', 'web', '-n', 'shop']);
    assert.equal(d.spec.template.spec.containers.length, 1);
    assert.equal(d.spec.template.spec.containers[0].image, '127.0.0.1:5000/nginx:2');
    assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'fast' }]);
    assert.equal(d.spec.template.spec.containers[0].ports.length, 1);
    assert.equal(d.metadata.generation, 2);
  });

  it('create deployment, configmap --from-literal, secret generic', async () => {
    assert.match(await ok(['create', 'deployment', 'api', '--image=127.0.0.1:5000/api:1', '--replicas=1']), /deployment.apps\/api created/);
    assert.match(await ok(['create', 'configmap', 'flags', '--from-literal=debug=true', '--from-literal=level=3']), /configmap\/flags created/);
    assert.match(await ok(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret']), /secret\/creds created/);
    const cm = await json<{ data: Record<string, string> }>(['get', 'configmap', 'flags']);
    assert.deepEqual(cm.data, { debug: 'true', level: '3' });
    const secret = await json<{ type: string; data: Record<string, string> }>(['get', 'secret', 'creds']);
    assert.equal(secret.type, 'Opaque');
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 's3cret');
  });

  it('get prints the columns users know', async () => {
    const deploys = await ok(['get', 'deployments', '-n', 'shop']);
    assert.match(deploys.split('\n')[0], /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    assert.match(deploys, /^web\s+0\/2\s+0\s+0\s+\d+s$/m);
    const svcs = await ok(['get', 'services', '-n', 'shop']);
    assert.match(svcs.split('\n')[0], /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
    assert.match(svcs, /^web\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP\s+\d+s$/m);
  });

  it('get pods shows NAME READY STATUS RESTARTS AGE, and -o wide adds IP and NODE', async () => {
    await ok(['run', 'solo', '--image=127.0.0.1:5000/busybox:1', '--labels=tier=db', '--', 'sleep', '3600']);
    const pods = await ok(['get', 'pods']);
    assert.match(pods.split('\n')[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    assert.match(pods, /^solo\s+0\/1\s+Pending\s+0\s+\d+s$/m);
    const wide = await ok(['get', 'pods', '-o', 'wide']);
    assert.match(wide.split('\n')[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
  });

  it('get -A, -l, --field-selector and -o name', async () => {
    const all = await ok(['get', 'configmaps', '-A']);
    assert.match(all.split('\n')[0], /^NAMESPACE\s+NAME\s+DATA\s+AGE$/);
    assert.match(all, /^shop\s+settings\s+1\s+/m);
    assert.match(all, /^default\s+flags\s+2\s+/m);
    assert.equal((await ok(['get', 'pods', '-l', 'tier=db', '-o', 'name'])).trim(), 'pod/solo');
    assert.equal((await ok(['get', 'pods', '-l', 'tier in (web,cache)', '-o', 'name'])).trim(), '');
    assert.equal((await ok(['get', 'pods', '--field-selector', 'status.phase=Pending', '-o', 'name'])).trim(), 'pod/solo');
    assert.equal((await ok(['get', 'pods', '--field-selector', 'metadata.name!=solo', '-o', 'name'])).trim(), '');
    const names = (await ok(['get', 'deployments', '-A', '-o', 'name'])).trim().split('\n').sort();
    assert.deepEqual(names, ['deployment.apps/api', 'deployment.apps/web']);
  });

  it('get -o yaml and -o json show the stored object with server-set fields', async () => {
    const yaml = await ok(['get', 'configmap', 'settings', '-n', 'shop', '-o', 'yaml']);
    assert.match(yaml, /color: blue/);
    assert.match(yaml, /uid: [0-9a-f-]{36}/);
    assert.match(yaml, /resourceVersion: "\d+"/);
    assert.match(yaml, /creationTimestamp: "\d{4}-\d\d-\d\dT/);
    const d = await json<{ spec: { strategy: { type: string; rollingUpdate: { maxSurge: string } }; revisionHistoryLimit: number } }>(['get', 'deploy', 'web', '-n', 'shop']);
    assert.equal(d.spec.strategy.type, 'RollingUpdate');
    assert.equal(d.spec.strategy.rollingUpdate.maxSurge, '25%');
    assert.equal(d.spec.revisionHistoryLimit, 10);
  });

  it('describe prints the object', async () => {
    const out = await ok(['describe', 'pod', 'solo']);
    assert.match(out, /^Name:\s+solo$/m);
    assert.match(out, /^Namespace:\s+default$/m);
    assert.match(out, /^Labels:\s+tier=db$/m);
    const d = await ok(['describe', 'deployment', 'web', '-n', 'shop']);
    assert.match(d, /^Replicas:\s+2 desired/m);
  });

  it('label and annotate', async () => {
    assert.match(await ok(['label', 'pod', 'solo', 'env=prod']), /pod\/solo labeled/);
    assert.match(await ok(['annotate', 'pod', 'solo', 'owner=team-a']), /pod\/solo annotated/);
    const pod = await json<{ metadata: { labels: Record<string, string>; annotations: Record<string, string> } }>(['get', 'pod', 'solo']);
    assert.deepEqual(pod.metadata.labels, { tier: 'db', env: 'prod' });
    assert.equal(pod.metadata.annotations.owner, 'team-a');
    await ok(['label', 'pod', 'solo', 'env-']);
    const relabeled = await json<{ metadata: { labels: Record<string, string> } }>(['get', 'pod', 'solo']);
    assert.deepEqual(relabeled.metadata.labels, { tier: 'db' });
  });

  it('patch: strategic (default), merge and json', async () => {
    await ok(['patch', 'deployment', 'web', '-n', 'shop', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"127.0.0.1:5000/log:1"}]}}}}']);
    let d = await json<{ spec: { replicas: number; template: { spec: { containers: Array<{ name: string }> } } } }>(['get', 'deploy', 'web', '-n', 'shop']);
    assert.deepEqual(d.spec.template.spec.containers.map((c) => c.name).sort(), ['sidecar', 'web'], 'strategic merge keeps web and adds sidecar by name');
    await ok(['patch', 'deployment', 'web', '-n', 'shop', '--type', 'merge', '-p', '{"spec":{"replicas":4}}']);
    await ok(['patch', 'deployment', 'web', '-n', 'shop', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/template/spec/containers/1"}]']);
    d = await json(['get', 'deploy', 'web', '-n', 'shop']);
    assert.equal(d.spec.replicas, 4);
    assert.equal(d.spec.template.spec.containers.length, 1);
  });

  it('scale changes replicas through the scale subresource', async () => {
    assert.match(await ok(['scale', 'deployment', 'web', '-n', 'shop', '--replicas=3']), /deployment.apps\/web scaled/);
    const d = await json<{ spec: { replicas: number } }>(['get', 'deploy', 'web', '-n', 'shop']);
    assert.equal(d.spec.replicas, 3);
  });

  it('api-resources lists kinds with short names', async () => {
    const out = await ok(['api-resources']);
    assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(out, /^nodes\s+no\s+v1\s+false\s+Node$/m);
    assert.match(out, /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m);
  });

  it('explain pod.spec.containers reads the OpenAPI schema', async () => {
    const out = await ok(['explain', 'pod.spec.containers']);
    assert.match(out, /KIND:\s+Pod/);
    assert.match(out, /FIELD:\s+containers <\[\]Container>/);
    assert.match(out, /image\s+<string>/);
  });

  it('get -w sees later changes', async () => {
    const watcher = spawn('kubectl', ['--kubeconfig', ts.kubeconfig, 'get', 'configmaps', '-w', '-n', 'shop'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    watcher.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      const until = async (re: RegExp) => {
        const deadline = Date.now() + 15_000;
        while (!re.test(out)) {
          assert.ok(Date.now() < deadline, `timed out waiting for ${re} in:\n${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await until(/^settings\s+1\s+/m);
      await ok(['create', 'configmap', 'later', '-n', 'shop', '--from-literal=a=1']);
      await until(/^later\s+1\s+/m);
    } finally {
      watcher.kill();
    }
  });

  it('delete removes objects, --all empties a namespace', async () => {
    assert.match(await ok(['delete', 'configmap', 'flags']), /configmap "flags" deleted/);
    assert.equal((await ts.kubectl(['get', 'configmap', 'flags'])).code, 1);
    await ok(['delete', 'configmaps', '--all', '-n', 'shop']);
    assert.equal((await ok(['get', 'configmaps', '-n', 'shop', '-o', 'name'])).trim(), '');
    const gone = await ts.kubectl(['get', 'configmap', 'flags']);
    assert.match(gone.stderr, /Error from server \(NotFound\): configmaps "flags" not found/);
  });
});

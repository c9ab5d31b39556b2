import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECT_SUBRESOURCES, RESOURCES, groupVersions, verbsOf } from '../resources.js';
import type { JsonSchema } from './schema-lookup.js';
import { definitionNameForKind, definitions, propertySchema, repoRoot, schemaLookup } from './schemas.js';
import {
  PATCH_CONTENT_TYPES, groupVersionPath, openapiV2, openapiV3Document, openapiV3Index,
  servedOpenapiV3Document, servedOpenapiV3Index,
} from './documents.js';
import { strictDecodingError, strictDecodingErrorMessage, unknownFields } from './field-validation.js';
import { FIELD_PATCH_METADATA } from './patch-metadata.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';

// The definitions file is a build product; regenerate it so that these tests
// check the generator as it is now, not whatever the last build left.
before(() => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot(), 'scripts', 'gen-openapi.ts')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gen-openapi failed:\n${r.stderr}${r.stdout}`);
});

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((cur, k) => (isObj(cur) ? cur[k] : undefined), v);
const def = (name: string): JsonSchema => {
  const d = definitions()[name];
  assert.ok(d, `definition ${name} exists`);
  return d;
};

/** Every `$ref` in `value`. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

const validPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: { 'example.com/x': 'y' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }],
    finalizers: ['example.com/f'],
  },
  spec: {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 10 }],
    securityContext: { runAsUser: 1000, fsGroup: 2000 },
    volumes: [{ name: 'data', emptyDir: { sizeLimit: '1Gi' } }, { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'a', path: 'a' }] } }],
    containers: [{
      name: 'web',
      image: 'nginx:1',
      command: ['nginx'], args: ['-g', 'daemon off;'],
      ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
      env: [{ name: 'A', value: '1' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      envFrom: [{ configMapRef: { name: 'cfg' } }],
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: 1 } },
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
      livenessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
      readinessProbe: { tcpSocket: { port: 80 } },
      lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } },
    }],
  },
  status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
};

const validDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    revisionHistoryLimit: 3,
    selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1', ports: [{ containerPort: 80 }] }] },
    },
  },
};

describe('generated definitions', () => {
  it('carry upstream names, descriptions and required fields', () => {
    const pod = def('io.k8s.api.core.v1.Pod');
    assert.match(pod.description ?? '', /Pod is a collection of containers/);
    assert.deepEqual(def('io.k8s.api.core.v1.Container').required, ['name']);
    assert.deepEqual(def('io.k8s.api.core.v1.PodSpec').required, ['containers']);
    for (const name of [
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.apimachinery.pkg.api.resource.Quantity',
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString', 'io.k8s.apimachinery.pkg.runtime.RawExtension',
      'io.k8s.api.apps.v1.Deployment', 'io.k8s.api.discovery.v1.EndpointSlice', 'io.k8s.api.coordination.v1.Lease',
      'io.k8s.api.autoscaling.v1.Scale', 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler', 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
    ]) def(name);
  });

  it('maps the special types as upstream publishes them', () => {
    assert.equal(def('io.k8s.apimachinery.pkg.api.resource.Quantity').type, 'string');
    const ios = def('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.equal(ios.format, 'int-or-string');
    assert.equal(ios['x-kubernetes-int-or-string'], true);
    assert.equal(def('io.k8s.apimachinery.pkg.apis.meta.v1.Time').format, 'date-time');
    assert.equal(def('io.k8s.apimachinery.pkg.runtime.RawExtension')['x-kubernetes-preserve-unknown-fields'], true);
    const port = propertySchema(def('io.k8s.api.core.v1.ServicePort'), 'targetPort');
    assert.equal(port?.allOf?.[0]?.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  });

  it('tells int64 from int32', () => {
    const spec = def('io.k8s.api.core.v1.PodSpec');
    assert.deepEqual([spec.properties?.terminationGracePeriodSeconds?.type, spec.properties?.terminationGracePeriodSeconds?.format], ['integer', 'int64']);
    assert.equal(spec.properties?.activeDeadlineSeconds?.format, 'int64');
    assert.equal(def('io.k8s.api.core.v1.ContainerPort').properties?.containerPort?.format, 'int32');
    assert.equal(def('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').properties?.generation?.format, 'int64');
    assert.equal(def('io.k8s.api.apps.v1.DeploymentStatus').properties?.observedGeneration?.format, 'int64');
    assert.equal(def('io.k8s.api.core.v1.PodSecurityContext').properties?.supplementalGroups?.items?.format, 'int64');
  });

  it('carry the strategic-merge-patch metadata', () => {
    const containers = propertySchema(def('io.k8s.api.core.v1.PodSpec'), 'containers');
    assert.equal(containers?.['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(containers?.['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(containers?.['x-kubernetes-list-type'], 'map');
    const volumes = propertySchema(def('io.k8s.api.core.v1.PodSpec'), 'volumes');
    assert.equal(volumes?.['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    const ports = propertySchema(def('io.k8s.api.core.v1.Container'), 'ports');
    assert.equal(ports?.['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.deepEqual(ports?.['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    const svcPorts = propertySchema(def('io.k8s.api.core.v1.ServiceSpec'), 'ports');
    assert.deepEqual(svcPorts?.['x-kubernetes-list-map-keys'], ['port', 'protocol']);
    assert.equal(propertySchema(def('io.k8s.api.core.v1.PodSpec'), 'tolerations')?.['x-kubernetes-list-type'], 'atomic');
    assert.equal(propertySchema(def('io.k8s.api.core.v1.PodSpec'), 'tolerations')?.['x-kubernetes-patch-strategy'], undefined);
    const finalizers = propertySchema(def('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), 'finalizers');
    assert.deepEqual([finalizers?.['x-kubernetes-patch-strategy'], finalizers?.['x-kubernetes-list-type']], ['merge', 'set']);
    assert.equal(propertySchema(def('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), 'ownerReferences')?.['x-kubernetes-patch-merge-key'], 'uid');
    assert.equal(propertySchema(def('io.k8s.api.apps.v1.DeploymentSpec'), 'strategy')?.['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.equal(def('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')['x-kubernetes-map-type'], 'atomic');
    // every entry of the table landed on a real field
    for (const [name, fields] of Object.entries(FIELD_PATCH_METADATA)) {
      for (const field of Object.keys(fields)) assert.ok(def(name).properties?.[field], `${name}.${field}`);
    }
  });

  it('give top-level kinds their group-version-kind', () => {
    assert.deepEqual(def('io.k8s.api.apps.v1.Deployment')['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    assert.deepEqual(def('io.k8s.api.core.v1.PodList')['x-kubernetes-group-version-kind'], [{ group: '', kind: 'PodList', version: 'v1' }]);
    assert.equal(def('io.k8s.api.core.v1.PodSpec')['x-kubernetes-group-version-kind'], undefined);
    assert.equal(definitionNameForKind('autoscaling', 'v1', 'Scale'), 'io.k8s.api.autoscaling.v1.Scale');
    assert.equal(definitionNameForKind('', 'v1', 'DeleteOptions'), 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  });

  it('have no dangling references', () => {
    const all = definitions();
    for (const ref of refsIn(all)) assert.ok(all[ref.replace('#/components/schemas/', '')], ref);
  });

  it('resolve through allOf and $ref', () => {
    const pod = schemaLookup.forKind('', 'v1', 'Pod')!;
    const spec = schemaLookup.resolve(pod.properties!.spec!);
    assert.ok(spec.properties?.containers);
    const meta = schemaLookup.resolve(pod.properties!.metadata!);
    assert.ok(meta.properties?.ownerReferences);
  });

  it('exist for every served kind', () => {
    for (const r of RESOURCES) {
      assert.ok(schemaLookup.forKind(r.group, r.version, r.kind), `${r.group}/${r.version} ${r.kind}`);
    }
  });
});

describe('unknownFields', () => {
  it('names unknown fields with upstream paths', () => {
    const pod = structuredClone(validPod) as Obj;
    (get(pod, 'spec', 'containers') as Obj[])[0]!.foo = 1;
    (get(pod, 'spec') as Obj).bar = true;
    pod.extra = 'x';
    (get(pod, 'metadata') as Obj).nope = 1;
    assert.deepEqual(unknownFields(pod, '', 'v1', 'Pod'), ['metadata.nope', 'spec.containers[0].foo', 'spec.bar', 'extra']);
  });

  it('accepts valid manifests', () => {
    assert.deepEqual(unknownFields(validPod, '', 'v1', 'Pod'), []);
    assert.deepEqual(unknownFields(validDeployment, 'apps', 'v1', 'Deployment'), []);
    assert.deepEqual(unknownFields({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { any: 'key' } }, '', 'v1', 'ConfigMap'), []);
    const hpa = {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      },
    };
    assert.deepEqual(unknownFields(hpa, 'autoscaling', 'v2', 'HorizontalPodAutoscaler'), []);
  });

  it('checks the values of maps but not their keys', () => {
    const pod = structuredClone(validPod) as Obj;
    (get(pod, 'spec', 'containers') as Obj[])[0]!.resources = { limits: { 'example.com/gpu': '1' } };
    assert.deepEqual(unknownFields(pod, '', 'v1', 'Pod'), []);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: 'b' } }, data: { k: 'v' }, bogus: {} };
    assert.deepEqual(unknownFields(cm, '', 'v1', 'ConfigMap'), ['bogus']);
  });

  it('does not descend into preserved-unknown or open fields', () => {
    const pod = structuredClone(validPod) as Obj;
    (get(pod, 'metadata') as Obj).managedFields = [{ manager: 'm', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:x': {} } } }];
    assert.deepEqual(unknownFields(pod, '', 'v1', 'Pod'), []);
  });

  it('knows nothing of unknown kinds', () => {
    assert.deepEqual(unknownFields({ spec: { foo: 1 } }, 'example.com', 'v1', 'Widget'), []);
  });

  it('formats upstream messages', () => {
    assert.equal(strictDecodingErrorMessage(['spec.foo', 'bar']), 'strict decoding error: unknown field "spec.foo", unknown field "bar"');
    const err = strictDecodingError(['spec.containers[0].foo'], [], { kind: 'Pod', version: 'v1' });
    assert.equal(err.message, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].foo"');
  });
});

/** kubectl's check (cli-runtime queryParamVerifierV3): the first PATCH of the GVK decides. */
function supportsFieldValidation(doc: unknown, gvk: { group: string; version: string; kind: string }): boolean {
  const paths = get(doc, 'paths');
  assert.ok(isObj(paths));
  for (const item of Object.values(paths)) {
    const op = get(item, 'patch');
    if (!isObj(op)) continue;
    const ext = op['x-kubernetes-group-version-kind'];
    if (!isObj(ext) || ext.group !== gvk.group || ext.version !== gvk.version || ext.kind !== gvk.kind) continue;
    const params = op.parameters;
    return Array.isArray(params) && params.some((p) => isObj(p) && p.name === 'fieldValidation');
  }
  return false;
}

describe('OpenAPI v3 documents', () => {
  it('index every group version with a hash-addressed URL', () => {
    const index = openapiV3Index();
    const paths = get(index, 'paths');
    assert.ok(isObj(paths));
    for (const r of RESOURCES) {
      const gvPath = groupVersionPath(r.group, r.version);
      const url = get(paths, gvPath, 'serverRelativeURL');
      assert.equal(url, `/openapi/v3/${gvPath}?hash=${servedOpenapiV3Document(gvPath)!.hash}`);
    }
    assert.ok(paths['apis/autoscaling/v1'] && paths['apis/autoscaling/v2']);
  });

  it('are built once and served from cache', () => {
    assert.equal(openapiV3Document('apis/apps/v1'), openapiV3Document('/apis/apps/v1'));
    assert.equal(servedOpenapiV3Index(), servedOpenapiV3Index());
    assert.equal(openapiV3Document('apis/nope/v1'), undefined);
    const served = servedOpenapiV3Document('api/v1')!;
    assert.deepEqual(JSON.parse(served.body.toString('utf8')), served.document);
    assert.equal(served.etag, `"${served.hash}"`);
  });

  it('have paths and operations for every resource', () => {
    for (const r of RESOURCES) {
      const doc = openapiV3Document(groupVersionPath(r.group, r.version));
      assert.equal(get(doc, 'openapi'), '3.0.0');
      const prefix = `/${groupVersionPath(r.group, r.version)}`;
      const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
      const gvk = { group: r.group, kind: r.kind, version: r.version };
      const verbs = verbsOf(r);
      const expect = (path: string, method: string, action: string) => {
        const op = get(doc, 'paths', path, method);
        assert.ok(isObj(op), `${method.toUpperCase()} ${path}`);
        assert.equal(op['x-kubernetes-action'], action, `${method} ${path}`);
        assert.equal(typeof op.operationId, 'string');
        return op;
      };
      if (verbs.includes('list')) {
        assert.deepEqual(expect(collection, 'get', 'list')['x-kubernetes-group-version-kind'], gvk);
        if (r.namespaced) expect(`${prefix}/${r.resource}`, 'get', 'list');
      }
      if (verbs.includes('create')) expect(collection, 'post', 'post');
      if (verbs.includes('deletecollection')) expect(collection, 'delete', 'deletecollection');
      if (verbs.includes('get')) expect(`${collection}/{name}`, 'get', 'get');
      if (verbs.includes('update')) expect(`${collection}/{name}`, 'put', 'put');
      if (verbs.includes('delete')) expect(`${collection}/{name}`, 'delete', 'delete');
      if (verbs.includes('patch')) {
        const patch = expect(`${collection}/{name}`, 'patch', 'patch');
        assert.deepEqual(Object.keys(get(patch, 'requestBody', 'content') as Obj).sort(), [...PATCH_CONTENT_TYPES].sort());
        assert.ok(supportsFieldValidation(doc, gvk), `${r.kind} PATCH takes fieldValidation`);
      }
      for (const sub of r.subresources ?? []) {
        if (CONNECT_SUBRESOURCES.has(sub)) continue; // kubelet-served streams: no OpenAPI paths yet
        if (sub === 'binding' || sub === 'eviction') expect(`${collection}/{name}/${sub}`, 'post', 'post');
        else if (sub === 'finalize') expect(`${collection}/{name}/finalize`, 'put', 'put');
        else expect(`${collection}/{name}/${sub}`, 'patch', 'patch');
      }
      for (const verb of ['create', 'update', 'patch'] as const) {
        if (!verbs.includes(verb)) continue;
        const [path, method] = verb === 'create' ? [collection, 'post'] : [`${collection}/{name}`, verb === 'update' ? 'put' : 'patch'];
        const names = (get(doc, 'paths', path, method, 'parameters') as Obj[]).map((p) => p.name);
        for (const p of ['dryRun', 'fieldManager', 'fieldValidation']) assert.ok(names.includes(p), `${verb} ${r.kind} takes ${p}`);
      }
      // kubectl explain finds the kind's schema by the operation's GVK
      const schemas = get(doc, 'components', 'schemas');
      assert.ok(isObj(schemas));
      const match = Object.values(schemas).filter((s) => {
        const list = get(s, 'x-kubernetes-group-version-kind');
        return Array.isArray(list) && list.some((g) => isObj(g) && g.group === r.group && g.version === r.version && g.kind === r.kind);
      });
      assert.equal(match.length, 1, `${r.kind} schema in ${prefix}`);
    }
  });

  it('carry scale subresources as autoscaling/v1 Scale', () => {
    const doc = openapiV3Document('apis/apps/v1');
    const op = get(doc, 'paths', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale', 'patch');
    assert.deepEqual(get(op, 'x-kubernetes-group-version-kind'), { group: 'autoscaling', kind: 'Scale', version: 'v1' });
    assert.ok(get(doc, 'components', 'schemas', 'io.k8s.api.autoscaling.v1.Scale'));
    assert.ok(supportsFieldValidation(doc, { group: 'autoscaling', version: 'v1', kind: 'Scale' }));
  });

  it('carry the meta kinds and resolve every reference within themselves', () => {
    for (const gvPath of Object.keys(get(openapiV3Index(), 'paths') as Obj)) {
      const doc = openapiV3Document(gvPath);
      const schemas = get(doc, 'components', 'schemas') as Obj;
      for (const meta of ['Status', 'DeleteOptions', 'WatchEvent', 'ObjectMeta', 'ListMeta']) {
        assert.ok(schemas[`io.k8s.apimachinery.pkg.apis.meta.v1.${meta}`], `${meta} in ${gvPath}`);
      }
      for (const ref of refsIn(doc)) {
        assert.ok(ref.startsWith('#/components/schemas/') && schemas[ref.slice('#/components/schemas/'.length)], `${gvPath}: ${ref}`);
      }
    }
    const quantity = get(openapiV3Document('api/v1'), 'components', 'schemas', 'io.k8s.apimachinery.pkg.api.resource.Quantity');
    assert.deepEqual(get(quantity, 'oneOf'), [{ type: 'string' }, { type: 'number' }]);
  });
});

describe('OpenAPI v2 document', () => {
  it('is Swagger 2.0 whose references all resolve', () => {
    const doc = openapiV2();
    assert.equal(get(doc, 'swagger'), '2.0');
    const defs = get(doc, 'definitions') as Obj;
    const refs = refsIn(doc);
    assert.ok(refs.length > 100);
    for (const ref of refs) {
      assert.ok(ref.startsWith('#/definitions/') && defs[ref.slice('#/definitions/'.length)], ref);
    }
    assert.equal(JSON.stringify(doc).includes('#/components/'), false);
    assert.equal(JSON.stringify(doc).includes('"allOf"'), false, 'a described reference is a $ref with siblings in v2');
  });

  it('has every served kind, its patch metadata and its fieldValidation parameter', () => {
    const doc = openapiV2();
    for (const r of RESOURCES) {
      const name = definitionNameForKind(r.group, r.version, r.kind)!;
      assert.ok(get(doc, 'definitions', name), name);
    }
    assert.equal(get(doc, 'definitions', 'io.k8s.api.core.v1.PodSpec', 'properties', 'containers', 'x-kubernetes-patch-merge-key'), 'name');
    const patch = get(doc, 'paths', '/api/v1/namespaces/{namespace}/pods/{name}', 'patch');
    assert.deepEqual(get(patch, 'consumes'), [...PATCH_CONTENT_TYPES]);
    assert.ok((get(patch, 'parameters') as Obj[]).some((p) => p.name === 'fieldValidation' && p.in === 'query'));
    assert.equal(get(doc, 'definitions', 'io.k8s.apimachinery.pkg.util.intstr.IntOrString', 'format'), 'int-or-string');
  });
});

/**
 * The real kubectl against a loopback stub serving only discovery, these
 * documents and a pod create that validates the way the API server must: shows
 * that kubectl takes the documents as upstream's, apart from the rest of the
 * server.
 */
describe('kubectl reading these documents (loopback stub)', () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;
  const seen: string[] = [];

  const send = (res: ServerResponse, code: number, body: Buffer | unknown) => {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
    res.end(bytes);
  };
  const status = (code: number, reason: string, message: string) =>
    ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

  function resourceList(group: string, version: string): unknown {
    return {
      kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version,
      resources: RESOURCES.filter((r) => r.group === group && r.version === version).map((r) => ({
        name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind,
        verbs: verbsOf(r), ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      })),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const p = url.pathname;
    seen.push(`${req.method} ${p}${url.search}`);
    if (p === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
    if (p === '/apis') {
      return send(res, 200, {
        kind: 'APIGroupList', apiVersion: 'v1',
        groups: groupVersions().filter((g) => g.group).map((g) => ({
          name: g.group,
          versions: g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${g.group}/${g.versions[0]}`, version: g.versions[0] },
        })),
      });
    }
    if (p === '/api/v1') return send(res, 200, resourceList('', 'v1'));
    const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    if (gv) return send(res, 200, resourceList(gv[1]!, gv[2]!));
    if (p === '/openapi/v3') return send(res, 200, servedOpenapiV3Index().body);
    if (p.startsWith('/openapi/v3/')) {
      const doc = servedOpenapiV3Document(p.slice('/openapi/v3/'.length));
      return doc ? send(res, 200, doc.body) : send(res, 404, status(404, 'NotFound', 'not found'));
    }
    if (req.method === 'POST' && p === '/api/v1/namespaces/default/pods') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const obj: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const unknown = unknownFields(obj, '', 'v1', 'Pod');
      if (url.searchParams.get('fieldValidation') === 'Strict' && unknown.length) {
        const err = strictDecodingError(unknown, [], { kind: 'Pod', version: 'v1' });
        return send(res, 400, status(400, 'BadRequest', err.message));
      }
      const created = isObj(obj) ? { ...obj, metadata: { ...(isObj(obj.metadata) ? obj.metadata : {}), namespace: 'default', uid: 'u-1', resourceVersion: '1' } } : obj;
      return send(res, 201, created);
    }
    return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }

  before(async () => {
    server = createServer((req, res) => { handle(req, res).catch((err: unknown) => send(res, 500, status(500, 'InternalError', String(err)))); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    dir = await mkdtemp(join(tmpdir(), 'bosun-openapi-'));
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters:
- name: stub
  cluster: {server: "http://127.0.0.1:${port}"}
users:
- name: nobody
  user: {}
contexts:
- name: stub
  context: {cluster: stub, user: nobody, namespace: default}
current-context: stub
`);
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  const kubectl = (args: string[], input?: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });

  it('explain renders fields, types and descriptions', async () => {
    const r = await kubectl(['explain', 'pod.spec.containers']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /KIND:\s+Pod/);
    assert.match(r.stdout, /FIELD: containers <\[\]Container>/);
    assert.match(r.stdout, /List of containers belonging to the pod/);
    assert.match(r.stdout, /name\s+<string> -required-/);
    assert.match(r.stdout, /ports\s+<\[\]ContainerPort>/);
    const limits = await kubectl(['explain', 'pod.spec.containers.resources.limits']);
    assert.equal(limits.code, 0, limits.stderr);
    assert.match(limits.stdout, /FIELD: limits <map\[string\]Quantity>/);
    const port = await kubectl(['explain', 'service.spec.ports.targetPort']);
    assert.equal(port.code, 0, port.stderr);
    assert.match(port.stdout, /FIELD: targetPort <IntOrString>/);
    const deploy = await kubectl(['explain', 'deployment.spec.strategy']);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stdout, /GROUP:\s+apps/);
    const hpa = await kubectl(['explain', 'hpa.spec.metrics']);
    assert.equal(hpa.code, 0, hpa.stderr);
    assert.match(hpa.stdout, /VERSION:\s+v2/);
    const hpa1 = await kubectl(['explain', 'hpa.spec', '--api-version=autoscaling/v1']);
    assert.equal(hpa1.code, 0, hpa1.stderr);
    assert.match(hpa1.stdout, /targetCPUUtilizationPercentage/);
  });

  it('create leaves validation to the server with fieldValidation=Strict', async () => {
    const manifest = (name: string, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  containers:
  - name: web
    image: nginx
${extra}`;
    const ok = await kubectl(['create', '-f', '-'], manifest('valid'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /pod\/valid created/);
    assert.ok(seen.some((s) => s.startsWith('POST /api/v1/namespaces/default/pods?') && s.includes('fieldValidation=Strict')), seen.join('\n'));
    const bad = await kubectl(['create', '-f', '-'], manifest('invalid', '    foo: bar\n'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec\.containers\[0\]\.foo"/);
  });
});

describe('kubectl against the served documents', () => {
  let ts: TestServer | undefined;

  before(async () => { ts = await startTestServer(); });
  after(async () => { await ts?.stop(); });

  const podManifest = (extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: NAME
  labels: {app: web}
spec:
  containers:
  - name: web
    image: 127.0.0.1:5000/nginx:1
    ports:
    - containerPort: 80
${extra}`;

  it('kubectl explain pod.spec.containers reads the v3 schemas', async () => {
    assert.ok(ts);
    const r = await ts.kubectl(['explain', 'pod.spec.containers']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /KIND:\s+Pod/);
    assert.match(r.stdout, /VERSION:\s+v1/);
    assert.match(r.stdout, /FIELD: containers <\[\]Container>/);
    assert.match(r.stdout, /List of containers belonging to the pod/);
    assert.match(r.stdout, /image\s+<string>/);
    assert.match(r.stdout, /name\s+<string> -required-/);
    assert.match(r.stdout, /resources\s+<ResourceRequirements>/);
    const quantity = await ts.kubectl(['explain', 'pod.spec.containers.resources.limits']);
    assert.equal(quantity.code, 0, quantity.stderr);
    assert.match(quantity.stdout, /FIELD: limits <map\[string\]Quantity>/);
    const deploy = await ts.kubectl(['explain', 'deployments.spec.strategy']);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stdout, /GROUP:\s+apps/);
  });

  it('kubectl create validates on the server and accepts a valid pod', async () => {
    assert.ok(ts);
    const r = await ts.kubectl(['create', '-f', '-'], podManifest().replace('NAME', 'valid'));
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    assert.match(r.stdout, /pod\/valid created/);
    assert.doesNotMatch(r.stderr, /openapi|validat/i);
  });

  it('kubectl create fails on an unknown field with the strict decoding error', async () => {
    assert.ok(ts);
    const r = await ts.kubectl(['create', '-f', '-'], podManifest('    foo: bar\n').replace('NAME', 'invalid'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /strict decoding error: unknown field "spec\.containers\[0\]\.foo"/);
    const get = await ts.kubectl(['get', 'pod', 'invalid']);
    assert.notEqual(get.code, 0, 'nothing was created');
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../api/status.js';
import { decodeProtobufObject, isProtobufContentType } from './index.js';
import { KINDS, MESSAGES } from './descriptors.generated.js';
import { isScalar, messageDescriptor, rootMessage } from './schema.js';
import { RESOURCES, apiVersionOf } from '../resources.js';
import { SELF_REVIEW_RESOURCES } from '../handlers/self-review.js';

// A test-only encoder, field by field as gogo writes them: f(number, value) builds one field.
type Field = Buffer;
const varint = (v: number | bigint): Buffer => {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    out.push(byte);
  } while (n > 0n);
  return Buffer.from(out);
};
const tag = (field: number, wire: number): Buffer => varint(field * 8 + wire);
const int = (field: number, v: number | bigint): Field => Buffer.concat([tag(field, 0), varint(v)]);
const bool = (field: number, v: boolean): Field => int(field, v ? 1 : 0);
const bytes = (field: number, v: Buffer): Field => Buffer.concat([tag(field, 2), varint(v.length), v]);
const str = (field: number, v: string): Field => bytes(field, Buffer.from(v, 'utf8'));
const msg = (field: number, ...fields: Field[]): Field => bytes(field, Buffer.concat(fields));
const entry = (field: number, key: string, value: Field | undefined): Field => msg(field, str(1, key), ...(value ? [value] : []));

/** magic + runtime.Unknown{typeMeta, raw, contentEncoding "", contentType ""}, as kubectl sends it. */
const envelope = (apiVersion: string, kind: string, ...raw: Field[]): Buffer => Buffer.concat([
  Buffer.from('k8s\0', 'latin1'),
  msg(1, str(1, apiVersion), str(2, kind)),
  msg(2, ...raw),
  str(3, ''),
  str(4, ''),
]);

/** ObjectMeta as gogo writes it: every non-pointer field, zero or not. */
const objectMeta = (name: string, namespace = '', ...more: Field[]): Field => msg(1,
  str(1, name), str(2, ''), str(3, namespace), str(4, ''), str(5, ''), str(6, ''), int(7, 0), msg(8), ...more);

const decode = (body: Buffer): Record<string, unknown> => decodeProtobufObject(body) as Record<string, unknown>;

function assertBadRequest(fn: () => unknown, match: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    assert.equal(err.code, 400);
    assert.match(err.message, match);
    return true;
  });
}

test('isProtobufContentType matches the media type, with or without parameters', () => {
  assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf'), true);
  assert.equal(isProtobufContentType('Application/VND.Kubernetes.Protobuf; charset=binary'), true);
  assert.equal(isProtobufContentType('application/json'), false);
  assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf+json'), false);
});

test('the exact bytes kubectl 1.32 sends for `create configmap x --from-literal=a=b`', () => {
  // From `kubectl create configmap x --from-literal=a=b -v=8`'s hex dump of the request body.
  const captured = Buffer.from([
    '6b3873000a0f0a0276311209436f6e66',
    '69674d6170121b0a110a017812001a00',
    '22002a0032003800420012060a016112',
    '01621a002200',
  ].join(''), 'hex');
  assert.deepEqual(decode(captured), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } });
});

test('Secret data (bytes) comes out base64 as in JSON; stringData and type as strings', () => {
  const out = decode(envelope('v1', 'Secret', objectMeta('s', 'default'),
    entry(2, 'p', bytes(2, Buffer.from('q'))), entry(2, 'bin', bytes(2, Buffer.from([0, 255, 1]))),
    str(3, 'Opaque'), entry(4, 'plain', str(2, 'text'))));
  assert.deepEqual(out, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' },
    data: { p: 'cQ==', bin: 'AP8B' }, type: 'Opaque', stringData: { plain: 'text' } });
});

test('pointer fields keep explicit zeros; non-pointer omitempty zeros are dropped', () => {
  const container = msg(2, str(1, 'web'), str(2, 'nginx'), str(5, ''),
    msg(6, str(1, ''), int(2, 0), int(3, 80), str(4, 'TCP'), str(5, '')), // ContainerPort: hostPort 0 dropped, containerPort kept
    msg(8), // ResourceRequirements {} (non-pointer) dropped
    str(13, '/dev/termination-log'), bool(16, false), bool(17, false), bool(18, false));
  const podSpec = msg(2, container, str(3, 'Always'), int(4, 0), str(6, ''), bool(11, false), bool(30, false),
    msg(14)); // securityContext: a set pointer, so {} stays
  const template = msg(3, objectMeta('', '', entry(11, 'app', str(2, 'web'))), podSpec);
  const out = decode(envelope('apps/v1', 'Deployment', objectMeta('web', 'default'),
    msg(2, int(1, 0), msg(2, entry(1, 'app', str(2, 'web'))), template, msg(4), int(5, 0), int(6, 10), bool(7, false)), msg(3)));
  assert.deepEqual(out, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 0, // *int32
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }], terminationMessagePath: '/dev/termination-log' }],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 0, // *int64
          enableServiceLinks: false, // *bool
          securityContext: {},
        },
      },
      revisionHistoryLimit: 10,
    },
  });
});

test('a field absent from the wire stays absent (replicas unset ≠ replicas 0)', () => {
  const out = decode(envelope('apps/v1', 'ReplicaSet', objectMeta('rs'), msg(2, int(4, 0))));
  assert.deepEqual(out, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs' } });
});

test('non-omitempty scalars keep their zero, as upstream JSON has them', () => {
  const out = decode(envelope('scheduling.k8s.io/v1', 'PriorityClass', objectMeta('zero'), int(2, 0), bool(3, false), str(4, '')));
  assert.deepEqual(out, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'zero' }, value: 0 });
});

test('negative int32 and int64 (10-byte varints) decode to negative numbers', () => {
  const pc = decode(envelope('scheduling.k8s.io/v1', 'PriorityClass', objectMeta('low'), int(2, -5), str(5, 'Never')));
  assert.equal(pc.value, -5);
  assert.equal(pc.preemptionPolicy, 'Never');
  const opts = decode(envelope('v1', 'DeleteOptions', int(1, -1n)));
  assert.deepEqual(opts, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: -1 });
  assert.equal(decode(envelope('scheduling.k8s.io/v1', 'PriorityClass', int(2, 2_000_000_000))).value, 2_000_000_000);
});

test('int64 beyond 2^53 is refused rather than rounded', () => {
  assertBadRequest(() => decode(envelope('v1', 'DeleteOptions', int(1, 2n ** 60n))), /gracePeriodSeconds: int64 value 1152921504606846976/);
});

test('Time is RFC 3339 in whole seconds, MicroTime has six fractional digits, a zero Time is dropped', () => {
  const ts = Date.UTC(2026, 0, 2, 3, 4, 5) / 1000;
  const lease = decode(envelope('coordination.k8s.io/v1', 'Lease', objectMeta('l', 'kube-node-lease', msg(9, int(1, ts), int(2, 500))),
    msg(2, str(1, 'node-1'), int(2, 40), msg(3, int(1, ts), int(2, 123_456_789)), msg(4, int(1, 0), int(2, 0)), int(5, 0))));
  assert.deepEqual(lease, {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name: 'l', namespace: 'kube-node-lease', deletionTimestamp: '2026-01-02T03:04:05Z' },
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, acquireTime: '2026-01-02T03:04:05.123456Z',
      renewTime: '1970-01-01T00:00:00.000000Z', leaseTransitions: 0 },
  });
});

test('Quantity is its string; IntOrString is a number or a string; explicit maxUnavailable 0 survives', () => {
  const deploy = decode(envelope('apps/v1', 'Deployment', objectMeta('d'), msg(2,
    msg(4, str(1, 'RollingUpdate'), msg(2, msg(1, int(1, 0), int(2, 0), str(3, '')), msg(2, int(1, 1), int(2, 0), str(3, '25%')))),
    msg(3, msg(2, msg(2, str(1, 'c'), msg(8, entry(1, 'cpu', msg(2, str(1, '500m'))), entry(2, 'memory', msg(2, str(1, '64Mi'))))))))));
  assert.deepEqual(deploy.spec, {
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
    template: { spec: { containers: [{ name: 'c', resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } } }] } },
  });
  const svc = decode(envelope('v1', 'Service', objectMeta('web'), msg(2,
    msg(1, str(1, 'a'), str(2, 'TCP'), int(3, 80), msg(4, int(1, 0), int(2, 8080), str(3, '')), int(5, 0)),
    msg(1, str(1, 'b'), str(2, 'TCP'), int(3, 81), msg(4, int(1, 1), int(2, 0), str(3, 'http'))),
    msg(1, str(1, 'c'), str(2, 'UDP'), int(3, 0), msg(4, int(1, 0), int(2, 0), str(3, ''))),
    str(4, 'ClusterIP'))));
  assert.deepEqual(svc.spec, { type: 'ClusterIP', ports: [
    { name: 'a', protocol: 'TCP', port: 80, targetPort: 8080 },
    { name: 'b', protocol: 'TCP', port: 81, targetPort: 'http' },
    { name: 'c', protocol: 'UDP', port: 0 }, // port is required (kept); a zero targetPort is unset
  ] });
});

test('inline structs: VolumeSource merges into Volume, ProbeHandler into Probe; set pointer sources stay {}', () => {
  const spec = msg(2,
    msg(1, str(1, 'scratch'), msg(2, msg(2, str(1, '')))), // emptyDir: {}
    msg(1, str(1, 'cfg'), msg(2, msg(19, msg(1, str(1, 'app-config')), int(3, 0o644), bool(4, false)))),
    msg(2, str(1, 'c'), msg(10, msg(1, msg(2, str(1, '/healthz'), msg(2, int(1, 0), int(2, 8080)), str(4, ''))), int(2, 0), int(3, 1))));
  const pod = decode(envelope('v1', 'Pod', objectMeta('p'), spec));
  assert.deepEqual(pod.spec, {
    volumes: [
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'app-config', defaultMode: 0o644, optional: false } },
    ],
    containers: [{ name: 'c', livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, timeoutSeconds: 1 } }],
  });
});

test('autoscaling/v2 HPA with a resource metric', () => {
  const hpa = decode(envelope('autoscaling/v2', 'HorizontalPodAutoscaler', objectMeta('web', 'default'), msg(2,
    msg(1, str(1, 'Deployment'), str(2, 'web'), str(3, 'apps/v1')), int(2, 2), int(3, 5),
    msg(4, str(1, 'Resource'), msg(4, str(1, 'cpu'), msg(2, str(1, 'Utilization'), int(4, 50))))), msg(3, int(4, 0))));
  assert.deepEqual(hpa, {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 2, maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    status: { desiredReplicas: 0 },
  });
});

test('Eviction carries DeleteOptions; DeleteOptions decodes under any group version', () => {
  const ev = decode(envelope('policy/v1', 'Eviction', objectMeta('p', 'default'), msg(2, int(1, 0), msg(2, str(1, 'uid-1')), str(5, 'All'))));
  assert.deepEqual(ev, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p', namespace: 'default' },
    deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'uid-1' }, dryRun: ['All'] } });
  assert.equal(decode(envelope('apps/v1', 'DeleteOptions', str(4, 'Foreground'))).propagationPolicy, 'Foreground');
});

test('EndpointSlice: pointer bools and strings, non-omitempty lists', () => {
  const out = decode(envelope('discovery.k8s.io/v1', 'EndpointSlice', objectMeta('web-abc', 'default'),
    msg(2, str(1, '10.42.0.5'), msg(2, bool(1, true), bool(2, true), bool(3, false)), str(6, 'node-1')),
    msg(3, str(1, ''), str(2, 'TCP'), int(3, 80)), str(4, 'IPv4')));
  assert.deepEqual(out, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'default' },
    endpoints: [{ addresses: ['10.42.0.5'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1' }],
    ports: [{ name: '', protocol: 'TCP', port: 80 }], addressType: 'IPv4' });
});

test('packed repeated scalars are accepted, as any protobuf decoder must', () => {
  const packed = bytes(4, Buffer.concat([varint(1000), varint(2000)]));
  const pod = decode(envelope('v1', 'Pod', msg(2, msg(14, packed, int(4, 3000)))));
  assert.deepEqual(pod.spec, { securityContext: { supplementalGroups: [1000, 2000, 3000] } });
});

test('unknown fields are skipped, whatever their wire type', () => {
  const fixed32 = Buffer.concat([tag(90, 5), Buffer.alloc(4)]);
  const fixed64 = Buffer.concat([tag(91, 1), Buffer.alloc(8)]);
  const out = decode(envelope('v1', 'ConfigMap', objectMeta('x'), int(99, 7), str(98, 'new'), fixed32, fixed64, entry(2, 'k', str(2, 'v'))));
  assert.deepEqual(out, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { k: 'v' } });
});

test('map entries: a missing value is the zero value; "__proto__" is an ordinary key', () => {
  const out = decode(envelope('v1', 'ConfigMap', entry(2, 'empty', undefined), entry(2, '__proto__', str(2, 'x'))));
  const data = out.data as Record<string, unknown>;
  assert.equal(data.empty, '');
  assert.ok(Object.hasOwn(data, '__proto__'));
  assert.equal(Object.getPrototypeOf(data), Object.prototype);
  assert.deepEqual(JSON.parse(JSON.stringify(out)).data, JSON.parse('{"empty":"","__proto__":"x"}'));
});

test('managedFields: FieldsV1 is its raw JSON', () => {
  const fields = Buffer.from('{"f:data":{"f:a":{}}}');
  const out = decode(envelope('v1', 'ConfigMap', objectMeta('x', '', msg(17, str(1, 'kubectl'), str(2, 'Update'), str(3, 'v1'), str(6, 'FieldsV1'), msg(7, bytes(1, fields)), str(8, '')))));
  assert.deepEqual((out.metadata as Record<string, unknown>).managedFields,
    [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }]);
});

test('malformed input is a 400 with a clear message', () => {
  assertBadRequest(() => decode(Buffer.from('{"kind":"ConfigMap"}')), /expected prefix \[107 56 115 0\]/);
  assertBadRequest(() => decode(Buffer.from('k8s\0')), /'Kind' is missing/);
  assertBadRequest(() => decode(envelope('v1', 'Widget')), /no kind "Widget" is registered for version "v1"/);
  assertBadRequest(() => decode(envelope('apps/v1', 'ConfigMap')), /no kind "ConfigMap" is registered for version "apps\/v1"/);
  const good = envelope('v1', 'ConfigMap', objectMeta('x'), entry(2, 'a', str(2, 'b')));
  assertBadRequest(() => decode(good.subarray(0, good.length - 9)), /malformed protobuf/);
  assertBadRequest(() => decode(Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x0a, 0x80])])), /envelope.*truncated varint/);
  // replicas sent as a string: wrong wire type, reported with its JSON path
  assertBadRequest(() => decode(envelope('apps/v1', 'Deployment', msg(2, str(1, 'three')))), /Kind=Deployment: spec\.replicas: field 1 has wire type 2/);
  assertBadRequest(() => decode(envelope('v1', 'Pod', msg(2, msg(2, str(1, 'c'), msg(6, str(3, 'x')))))), /spec\.containers\[0\]\.ports\[0\]\.containerPort/);
  const encoded = Buffer.concat([Buffer.from('k8s\0'), msg(1, str(1, 'v1'), str(2, 'ConfigMap')), msg(2), str(3, 'gzip')]);
  assertBadRequest(() => decode(encoded), /content encoding "gzip"/);
});

test('the generated table is closed: every referenced message is described or has a hand-written form', () => {
  const special = new Set(['meta/v1.Time', 'meta/v1.MicroTime', 'meta/v1.FieldsV1', 'resource.Quantity', 'intstr.IntOrString', 'runtime.RawExtension', 'strings']);
  for (const root of Object.values(KINDS)) assert.ok(MESSAGES[root], root);
  for (const name of Object.keys(MESSAGES)) {
    const fields = messageDescriptor(name);
    assert.ok(fields && fields.size > 0, name);
    for (const f of fields.values()) {
      if (isScalar(f.type) || special.has(f.type)) continue;
      assert.ok(MESSAGES[f.type], `${name}.${f.json} refers to ${f.type}`);
    }
  }
});

test('every kind bosun serves has a protobuf root (add it to gen-descriptors.ts ROOTS and regenerate)', () => {
  for (const r of RESOURCES) assert.ok(rootMessage(apiVersionOf(r), r.kind), `${apiVersionOf(r)} ${r.kind}`);
  // Subresource bodies: pods/binding, the scale subresources.
  assert.ok(rootMessage('v1', 'Binding'));
  assert.ok(rootMessage('autoscaling/v1', 'Scale'));
  // The self reviews kubectl auth whoami / can-i posts.
  for (const r of SELF_REVIEW_RESOURCES) assert.ok(rootMessage(apiVersionOf(r), r.kind), `${apiVersionOf(r)} ${r.kind}`);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Namespace, Node, Secret } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../strategy.js';
import { strategyFor } from './index.js';

const messages = (errs: Array<{ field: string; message: string }> = []) => errs.map((e) => `${e.field}: ${e.message}`);

function created(group: string, resource: string, obj: object): KubeObject {
  const s = strategyFor(group, resource);
  const o = structuredClone(obj) as KubeObject;
  s.defaults?.(o);
  s.prepareForCreate?.(o);
  return o;
}

describe('namespaces', () => {
  const ns = strategyFor('', 'namespaces');
  it('start Active, held by the kubernetes finalizer, labelled with their name', () => {
    const obj = created('', 'namespaces', { metadata: { name: 'team-a' } }) as Namespace;
    assert.deepEqual(obj.status, { phase: 'Active' });
    assert.deepEqual(obj.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(obj.metadata!.labels, { 'kubernetes.io/metadata.name': 'team-a' });
    assert.deepEqual(ns.selectableFields!(obj as KubeObject), { 'status.phase': 'Active', name: 'team-a' });
  });
  it('are DNS labels: no dots', () => {
    const obj = created('', 'namespaces', { metadata: { name: 'team.a' } });
    assert.deepEqual(messages(ns.validate!(obj)), ['metadata.name: Invalid value: "team.a": must not contain dots']);
  });
  it('may not carry a namespace themselves', () => {
    const obj = created('', 'namespaces', { metadata: { name: 'x', namespace: 'default' } });
    assert.deepEqual(messages(ns.validate!(obj)), ['metadata.namespace: Forbidden: not allowed on this type']);
  });
});

describe('secrets', () => {
  const secrets = strategyFor('', 'secrets');
  it('are Opaque by default and fold stringData into data', () => {
    const obj = created('', 'secrets', { metadata: { name: 's', namespace: 'default' }, data: { a: 'YQ==' }, stringData: { b: 'hello' } }) as Secret;
    assert.deepEqual({ type: obj.type, data: obj.data, stringData: obj.stringData }, { type: 'Opaque', data: { a: 'YQ==', b: 'aGVsbG8=' }, stringData: undefined });
    assert.deepEqual(secrets.validate!(obj as KubeObject), []);
    assert.deepEqual(secrets.selectableFields!(obj as KubeObject), { type: 'Opaque' });
  });
  it('reject bad keys, data that is not base64, and missing TLS keys', () => {
    const obj = created('', 'secrets', { metadata: { name: 's', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls crt': 'YQ==', 'tls.key': 'not base64!' } });
    assert.deepEqual(messages(secrets.validate!(obj)), [
      'data[tls crt]: Invalid value: "tls crt": a valid config key must consist of alphanumeric characters, \'-\', \'_\' or \'.\' (e.g. \'key.name\',  or \'KEY_NAME\',  or \'key-name\', regex used for validation is \'[-._a-zA-Z0-9]+\')',
      'data[tls.key]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3',
      'data[tls.crt]: Required value',
    ]);
  });
  it('keep their type for life', () => {
    const old = created('', 'secrets', { metadata: { name: 's', namespace: 'default' } });
    const next = { ...structuredClone(old), type: 'kubernetes.io/basic-auth', data: { username: 'dQ==' } } as KubeObject;
    assert.deepEqual(messages(secrets.validateUpdate!(next, old)), ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable']);
  });
});

describe('configmaps', () => {
  const cms = strategyFor('', 'configmaps');
  it('check keys, and stay frozen once immutable', () => {
    const old = created('', 'configmaps', { metadata: { name: 'c', namespace: 'default' }, data: { '..x': '1' }, immutable: true });
    assert.deepEqual(messages(cms.validate!(old)), ["data[..x]: Invalid value: \"..x\": must not start with '..'"]);
    const next = { ...structuredClone(old), data: { x: '2' } } as KubeObject;
    assert.deepEqual(messages(cms.validateUpdate!(next, old)), ['data: Forbidden: field is immutable when `immutable` is set']);
  });
});

describe('nodes', () => {
  const nodes = strategyFor('', 'nodes');
  it('default allocatable to capacity and validate taints', () => {
    const obj = created('', 'nodes', {
      metadata: { name: 'node-1' },
      spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
      status: { capacity: { cpu: '4', memory: '8Gi' } },
    }) as Node;
    assert.deepEqual(obj.status!.allocatable, { cpu: '4', memory: '8Gi' });
    assert.deepEqual(messages(nodes.validate!(obj as KubeObject)), [
      'metadata.taints[1]: Duplicate value: {"key":"dedicated","value":"db","effect":"NoSchedule"}: taints must be unique by key and effect pair',
    ]);
    assert.deepEqual(nodes.selectableFields!(obj as KubeObject), { 'spec.unschedulable': 'false' });
  });
  it('keep their pod CIDR once assigned', () => {
    const old = created('', 'nodes', { metadata: { name: 'node-1' }, spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'] } });
    const next = structuredClone(old) as Node;
    next.spec!.podCIDRs = ['10.42.1.0/24'];
    assert.deepEqual(messages(nodes.validateUpdate!(next as KubeObject, old)), ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']);
  });
});

describe('events', () => {
  const events = strategyFor('', 'events');
  it('must live in the namespace of what they are about', () => {
    const obj = created('', 'events', { metadata: { name: 'e', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'prod' }, reason: 'Pulled', type: 'Normal', source: { component: 'kubelet' } });
    assert.deepEqual(messages(events.validate!(obj)), ['involvedObject.namespace: Invalid value: "prod": does not match event.namespace']);
    assert.equal(events.selectableFields!(obj)['involvedObject.name'], 'web');
    assert.equal(events.selectableFields!(obj).source, 'kubelet');
  });
});

describe('the rest', () => {
  it('priority classes default to preempting and keep their value', () => {
    const pcs = strategyFor('scheduling.k8s.io', 'priorityclasses');
    const obj = created('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'high' }, value: 1000 });
    assert.equal(obj.preemptionPolicy, 'PreemptLowerPriority');
    assert.deepEqual(messages(pcs.validate!(obj)), []);
    const reserved = created('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'system-mine' }, value: 1 });
    assert.deepEqual(messages(pcs.validate!(reserved)), [
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    ]);
    assert.deepEqual(messages(pcs.validateUpdate!({ ...obj, value: 2000 } as KubeObject, obj)), ['value: Forbidden: may not be changed in an update.']);
  });

  it('endpoint slices default port names and protocols', () => {
    const slices = strategyFor('discovery.k8s.io', 'endpointslices');
    const obj = created('discovery.k8s.io', 'endpointslices', {
      metadata: { name: 'web-abc', namespace: 'default' }, addressType: 'IPv4',
      endpoints: [{ addresses: ['10.42.0.5'] }, { addresses: ['127.0.0.1'] }], ports: [{ port: 80 }],
    });
    assert.deepEqual(obj.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
    assert.deepEqual(messages(slices.validate!(obj)), ['endpoints[1].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']);
  });

  it('leases need a positive duration', () => {
    const leases = strategyFor('coordination.k8s.io', 'leases');
    const obj = created('coordination.k8s.io', 'leases', { metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec: { leaseDurationSeconds: 0 } });
    assert.deepEqual(messages(leases.validate!(obj)), ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
  });

  it('unknown resources get metadata validation only', () => {
    const generic = strategyFor('example.com', 'widgets');
    assert.deepEqual(messages(generic.validate!({ metadata: { namespace: 'default' } })), ['metadata.name: Required value: name or generateName is required']);
    assert.equal(generic.defaults, undefined);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1';
import { kubeletTarget } from './kubelet-address.js';

const node = (over: { labels?: Record<string, string>; annotations?: Record<string, string>; ip?: string; port?: number; kubelet?: boolean }): Node => ({
  metadata: { name: 'n1', labels: over.labels, annotations: over.annotations },
  status: {
    addresses: over.ip ? [{ type: 'InternalIP', address: over.ip }] : [],
    daemonEndpoints: over.port ? { kubeletEndpoint: { Port: over.port } } : undefined,
    nodeInfo: over.kubelet === false ? undefined : {
      kubeletVersion: 'v1.32.0', architecture: 'amd64', bootID: '', containerRuntimeVersion: '', kernelVersion: '', kubeProxyVersion: '',
      machineID: '', operatingSystem: 'linux', osImage: '', systemUUID: '',
    },
  },
});

test('a real kubelet: InternalIP and its port, server name = node name', () => {
  assert.deepEqual(kubeletTarget(node({ ip: '10.1.2.3', port: 10250 })), { node: 'n1', host: '10.1.2.3', port: 10250, servername: 'n1', pinnedSha256: undefined });
  assert.equal((kubeletTarget(node({ ip: '10.1.2.3' })) as { port: number }).port, 10250);
});

test('the kubelet-address annotation is honoured for loopback only, with a pinned certificate', () => {
  const t = kubeletTarget(node({ ip: '10.99.0.1', port: 4321, labels: { 'node.bosun.io/hollow': 'true' }, annotations: { 'bosun.io/kubelet-address': '127.0.0.1', 'bosun.io/kubelet-serving-cert-sha256': 'AB:CD' } }));
  assert.deepEqual(t, { node: 'n1', host: '127.0.0.1', port: 4321, servername: 'n1', pinnedSha256: 'abcd' });
  assert.match((kubeletTarget(node({ ip: '10.1.2.3', annotations: { 'bosun.io/kubelet-address': '192.0.2.7' } })) as { skip: string }).skip, /not a loopback/);
});

test('never contacted: hollow nodes without the annotation, nodes no kubelet reported on', () => {
  assert.ok('skip' in kubeletTarget(node({ ip: '10.99.0.1', labels: { 'node.bosun.io/hollow': 'true' } })));
  assert.ok('skip' in kubeletTarget(node({ ip: '192.0.2.1', kubelet: false })));
  assert.ok('skip' in kubeletTarget(node({})));
});

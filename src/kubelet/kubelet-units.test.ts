import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { Backoff, formatDelay } from './backoff.js';
import { expand } from './container-env.js';
import { linuxResources } from './container-config.js';
import { parseResolvConf, podDNSConfig } from './dns.js';
import { pullCredentials, pullPolicy, registryHost } from './images.js';
import type { ObjectCache } from './object-cache.js';
import { needsSync } from './kubelet.js';

test('back-off: first restart at once, then 10 s doubling to 5 min', () => {
  const b = new Backoff();
  const key = 'uid/c';
  assert.equal(b.remaining(key, 0, 1), 0);
  assert.equal(b.next(key, 1_000), 10_000);
  assert.equal(b.remaining(key, 2_000, 5_000), 7_000);
  assert.equal(b.remaining(key, 2_000, 12_000), 0);
  const delays = [20_000, 40_000, 80_000, 160_000, 300_000, 300_000].map((_, i) => b.next(key, 2_000 + i));
  assert.deepEqual(delays, [20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  assert.equal(b.next(key, 10_000_000), 10_000, 'quiet for long: starts over');
  assert.equal(formatDelay(80_000), '1m20s');
});

test('$(VAR) expansion as Kubernetes does it', () => {
  const vars = new Map([['A', 'x'], ['B', 'y']]);
  assert.equal(expand('$(A)-$(B)-$(C)-$$(A)', vars), 'x-y-$(C)-$(A)');
});

test('resources: cpu shares from requests, quota from limits, memory bytes', () => {
  assert.deepEqual(linuxResources({ name: 'c', resources: { requests: { cpu: '250m' }, limits: { cpu: '500m', memory: '64Mi' } } }),
    { cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 64 * 1024 * 1024 });
  assert.deepEqual(linuxResources({ name: 'c' }), { cpuShares: 2 });
});

test('DNS: ClusterFirst search paths and ndots, None takes dnsConfig only, options override', () => {
  const pod: Pod = { metadata: { namespace: 'shop' }, spec: { containers: [], dnsConfig: { options: [{ name: 'ndots', value: '2' }] } } };
  const c = podDNSConfig(pod, { servers: ['10.43.0.10'], domain: 'cluster.local', hostResolvConf: '/nonexistent' });
  assert.deepEqual(c, { servers: ['10.43.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:2'] });
  const none = podDNSConfig({ spec: { containers: [], dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'] } } }, { servers: ['10.43.0.10'], domain: 'cluster.local' });
  assert.deepEqual(none, { servers: ['1.2.3.4'], searches: [], options: [] });
  assert.deepEqual(parseResolvConf('nameserver 9.9.9.9\nsearch a b\noptions edns0 # x\n'), { servers: ['9.9.9.9'], searches: ['a', 'b'], options: ['edns0'] });
});

test('images: registry host and the default pull policy', () => {
  assert.equal(registryHost('127.0.0.1:5000/app:1'), '127.0.0.1:5000');
  assert.equal(registryHost('localhost/bosun/pause:3.9'), 'localhost');
  assert.equal(registryHost('library/busybox'), 'docker.io');
  assert.equal(pullPolicy({ name: 'c', image: 'x/y:1' }), 'IfNotPresent');
  assert.equal(pullPolicy({ name: 'c', image: 'x/y' }), 'Always');
  assert.equal(pullPolicy({ name: 'c', image: 'x/y:latest' }), 'Always');
});

test('only updates the kubelet acts on start a sync: not its own status writes', () => {
  const pod: Pod = { metadata: { uid: 'u', labels: { a: '1' } }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Pending' } };
  assert.equal(needsSync(pod, { ...pod, status: { phase: 'Running' } }), false);
  assert.equal(needsSync(pod, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }), true);
  assert.equal(needsSync(pod, { ...pod, metadata: { ...pod.metadata, labels: { a: '2' } } }), true);
  const gated: Pod = { ...pod, spec: { ...pod.spec!, readinessGates: [{ conditionType: 'x/ok' }] } };
  assert.equal(needsSync(gated, { ...gated, status: { conditions: [{ type: 'x/ok', status: 'True' }] } }), true);
});

test('imagePullSecrets: dockerconfigjson auths for the image registry become CRI AuthConfigs', async () => {
  const config = { auths: {
    '127.0.0.1:5000': { auth: Buffer.from('alice:pw1').toString('base64') },
    'https://other.example:443': { username: 'bob', password: 'pw2' },
  } };
  const objects = {
    secret: async (_ns: string, name: string) => (name === 'regcred'
      ? { kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') } }
      : undefined),
  } as unknown as ObjectCache;
  const pod: Pod = { metadata: { namespace: 'default' }, spec: { containers: [], imagePullSecrets: [{ name: 'missing' }, { name: 'regcred' }] } };
  assert.deepEqual(await pullCredentials(pod, '127.0.0.1:5000/app:1', objects),
    [{ username: 'alice', password: 'pw1', serverAddress: '127.0.0.1:5000', identityToken: undefined, registryToken: undefined }]);
  assert.equal((await pullCredentials(pod, 'other.example:443/x:1', objects))[0].username, 'bob');
  assert.deepEqual(await pullCredentials(pod, 'docker.io/library/busybox:1', objects), []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, InformerFactory, endpointslices, services } from '../client/index.js';
import { startTestServer } from '../../test/helpers/server.js';
import { eventually } from '../../test/controllers/env.js';
import { Proxier } from './proxier.js';

// No root: only the model the Proxier builds from its informers (the rules themselves are in rules.test.ts, the kernel in test/e2e/proxy-*).
test('the proxier\'s model: every programmable port with its endpoints from all of its slices', async (t) => {
  const ts = await startTestServer();
  const client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
  const abort = new AbortController();
  t.after(async () => { abort.abort(); client.close(); await ts.stop(); });

  await client.create(services, { metadata: { namespace: 'default', name: 'web' }, spec: { ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] } });
  await client.create(services, { metadata: { namespace: 'default', name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
  await client.create(services, { metadata: { namespace: 'default', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.org' } });
  const slice = (name: string, eps: Array<[string, boolean, string]>) => client.create(endpointslices, {
    metadata: { namespace: 'default', name, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }],
    endpoints: eps.map(([ip, ready, node]) => ({ addresses: [ip], conditions: { ready }, nodeName: node })),
  });
  await slice('web-a', [['10.42.0.2', true, 'here'], ['10.42.0.3', false, 'here']]);
  await slice('web-b', [['10.42.1.2', true, 'there']]);

  const informers = new InformerFactory(client);
  const proxier = new Proxier({ client, informers, nodeName: 'here', clusterCIDR: '10.42.0.0/16', chainPrefix: 'KTEST' });
  informers.start(abort.signal);
  await informers.waitForSync(abort.signal);
  const state = await eventually('both slices in the cache', () => {
    // The server's own `kubernetes` Service is in the model too.
    const s = proxier.buildState().filter((p) => p.port.service === 'web');
    return s.length === 2 && s.every((p) => p.endpoints.length === 3) ? s : undefined;
  }, 10_000);

  assert.deepEqual(state.map((s) => `${s.port.name}/${s.port.protocol}`).sort(), ['default/web:dns/UDP', 'default/web:http/TCP']);
  const http = state.find((s) => s.port.portName === 'http')!;
  assert.match(http.port.clusterIP, /^10\.43\./);
  assert.deepEqual(http.endpoints.map((e) => `${e.ip}:${e.port} ready=${e.ready} local=${e.isLocal}`), [
    '10.42.0.2:8080 ready=true local=true',
    '10.42.0.3:8080 ready=false local=true',
    '10.42.1.2:8080 ready=true local=false',
  ]);
  assert.deepEqual(state.find((s) => s.port.portName === 'dns')!.endpoints.map((e) => e.port), [5353, 5353, 5353]);
  assert.ok(!proxier.buildState().some((p) => p.port.service === 'headless' || p.port.service === 'ext'), 'headless and ExternalName get no rules');
  assert.equal(proxier.chainPrefix, 'KTEST');
});

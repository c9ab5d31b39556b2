import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1';
import { loadOrCreatePki } from '../server/pki.js';
import { HollowKubeletApi, hollowSummary } from '../sim/kubelet-api.js';
import { Scraper } from './scraper.js';
import { KUBELET_ADDRESS_ANNOTATION, KUBELET_CERT_SHA256_ANNOTATION } from './kubelet-address.js';

function hollowNodeAt(name: string, port: number, sha256: string): Node {
  return {
    metadata: { name, labels: { 'node.bosun.io/hollow': 'true' }, annotations: { [KUBELET_ADDRESS_ANNOTATION]: '127.0.0.1', [KUBELET_CERT_SHA256_ANNOTATION]: sha256 } },
    status: {
      addresses: [{ type: 'InternalIP', address: '10.99.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
      nodeInfo: { kubeletVersion: 'v1.32.0-hollow', architecture: '', bootID: '', containerRuntimeVersion: '', kernelVersion: '', kubeProxyVersion: '', machineID: '', operatingSystem: '', osImage: '', systemUUID: '' },
    },
  };
}

test('the scraper reads /stats/summary with the kubelet client certificate, pinned to the endpoint\'s certificate', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bosun-scraper-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pki = await loadOrCreatePki(dir, ['127.0.0.1']);
  const api = new HollowKubeletApi({
    clientCAPem: pki.ca.certPem,
    summary: (node) => (node === 'h0' ? hollowSummary('h0', [{
      pod: { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'a' }, { name: 'b' }] } },
      usage: { cpuMillicores: 500, memoryBytes: 2 * 2 ** 20 },
    }]) : undefined),
  });
  await api.start();
  t.after(() => api.stop());

  const scrape = async (nodes: Node[], client = pki.kubeletClient) => {
    const logs: string[] = [];
    const s = new Scraper({ listNodes: () => nodes, clientCertPem: client.certPem, clientKeyPem: client.keyPem, caPem: pki.ca.certPem, log: (m) => logs.push(m) });
    await s.scrapeAll();
    return { store: s.store, logs };
  };

  const ok = await scrape([hollowNodeAt('h0', api.port, api.certSha256)]);
  assert.deepEqual(ok.logs, []);
  const node = ok.store.node('h0')!;
  assert.equal(node.cpuNanoCores, 500_000_000);
  assert.equal(node.memoryBytes, 2 * 2 ** 20);
  assert.deepEqual(ok.store.pod('default', 'p')?.containers.map((c) => [c.name, c.cpuNanoCores, c.memoryBytes]), [['a', 250_000_000, 2 ** 20], ['b', 250_000_000, 2 ** 20]]);

  // Another node name on the same endpoint: not one of its nodes.
  const other = await scrape([hollowNodeAt('h9', api.port, api.certSha256)]);
  assert.equal(other.store.nodeCount, 0);
  assert.match(other.logs.join('\n'), /HTTP 404/);

  // A certificate other than the pinned one: no request is sent.
  const wrongPin = await scrape([hollowNodeAt('h0', api.port, '00'.repeat(32))]);
  assert.equal(wrongPin.store.nodeCount, 0);
  assert.match(wrongPin.logs.join('\n'), /is not the pinned/);

  // Only the API server's kubelet client certificate is served.
  const admin = await scrape([hollowNodeAt('h0', api.port, api.certSha256)], pki.admin);
  assert.match(admin.logs.join('\n'), /HTTP 403/);

  // Without a pin, the certificate must chain to the cluster CA: the self-signed one does not.
  const unpinned = hollowNodeAt('h0', api.port, '');
  const verified = await scrape([unpinned]);
  assert.equal(verified.store.nodeCount, 0);
  assert.match(verified.logs.join('\n'), /self[- ]signed|unable to verify|certificate/i);
});

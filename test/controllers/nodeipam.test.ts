import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1';
import { nodes } from '../../src/client/index.js';
import { eventually, startControllerEnv } from './env.js';

const node = (name: string, podCIDR?: string): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
});

test('node IPAM gives every node its own /24 of the cluster CIDR and keeps the ones nodes already hold', async (t) => {
  const env = await startControllerEnv({ kubelet: false, manager: { controllers: ['nodeipam'], nodeIpam: { clusterCidr: '10.42.0.0/16' } } });
  t.after(() => env.stop());
  // A node that brought its own range (as `bosun sim` does) keeps it, and nobody else gets it.
  await env.client.create(nodes, node('has-range', '10.42.0.0/24'));
  for (const name of ['a', 'b', 'c']) await env.client.create(nodes, node(name));

  const cidrs = await eventually('every node has a podCIDR', async () => {
    const list = (await env.client.list(nodes)).items;
    return list.every((n) => n.spec?.podCIDR) ? list.map((n) => [n.metadata!.name!, n.spec!.podCIDR!] as const) : undefined;
  });
  const byName = new Map(cidrs);
  assert.equal(byName.get('has-range'), '10.42.0.0/24');
  const given = ['a', 'b', 'c'].map((n) => byName.get(n)!);
  assert.equal(new Set([...given, '10.42.0.0/24']).size, 4, `ranges must not repeat: ${given.join(', ')}`);
  for (const c of given) assert.match(c, /^10\.42\.\d+\.0\/24$/);
  const a = await env.client.get(nodes, undefined, 'a');
  assert.deepEqual(a.spec?.podCIDRs, [a.spec?.podCIDR]);

  // A node deleted frees its range for the next one.
  const freed = byName.get('b')!;
  await env.client.delete(nodes, undefined, 'b');
  await env.client.delete(nodes, undefined, 'c');
  await env.client.create(nodes, node('d'));
  const d = await eventually('d gets a range', async () => (await env.client.get(nodes, undefined, 'd')).spec?.podCIDR);
  assert.ok([freed, byName.get('c')].includes(d), `d got ${d}, expected a freed range`);
});

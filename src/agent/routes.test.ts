/**
 * Cluster routes on a bridge of our own, with test-only CIDRs (10.250.x.0/24
 * and 10.251.x.0/24) so the real 10.42/10.43 routes of a running node or of
 * other tests are never touched.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { ensureBridge, linkExists, removeClusterRoutes, routeClusterCidrs, routeDeviceFor } from './routes.js';

const root = process.getuid?.() === 0;

function ip(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('ip', args, (_e, out) => resolve(out ?? '')));
}

test('pod and service CIDRs route to the bridge, which exists before any pod; removal undoes it', { skip: !root && 'needs root' }, async (t) => {
  const bridge = `brr${process.pid}`.slice(0, 15);
  const used = await ip(['-o', '-4', 'route', 'show', 'table', 'all']);
  let x = 0;
  for (let i = 0; i < 100 && (!x || used.includes(`10.250.${x}.`) || used.includes(`10.251.${x}.`)); i++) x = 1 + Math.floor(Math.random() * 250);
  const opts = { bridge, clusterCidr: `10.250.${x}.0/24`, serviceCidr: `10.251.${x}.0/24`, podCIDR: `10.250.${x}.0/26` };
  t.after(() => removeClusterRoutes({ ...opts, deleteBridge: true }));

  assert.equal(await linkExists(bridge), false);
  await routeClusterCidrs(opts);
  assert.equal(await linkExists(bridge), true);
  assert.match(await ip(['-o', '-4', 'addr', 'show', 'dev', bridge]), new RegExp(` 10\\.250\\.${x}\\.1/26 `));
  // A pod address on another node's range and a ClusterIP with no rule both stay here.
  assert.equal(await routeDeviceFor(`10.250.${x}.200`), bridge);
  assert.equal(await routeDeviceFor(`10.251.${x}.10`), bridge);
  // Idempotent (the agent runs it at every start).
  await routeClusterCidrs(opts);
  await ensureBridge(bridge, opts.podCIDR);
  assert.equal((await ip(['-o', 'route', 'show', opts.serviceCidr])).trim().split('\n').length, 1);

  await removeClusterRoutes({ ...opts, deleteBridge: true });
  assert.equal(await linkExists(bridge), false);
  assert.equal((await ip(['-o', 'route', 'show', opts.clusterCidr])).trim(), '');
  assert.notEqual(await routeDeviceFor(`10.251.${x}.10`), bridge);
});

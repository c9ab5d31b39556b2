import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1';
import { desiredNodeRoutes, onLink } from './node-routes.js';
import { parseCidr } from '../api/cidr.js';

const node = (name: string, podCIDR?: string, internalIP?: string): Node => ({
  metadata: { name },
  spec: podCIDR ? { podCIDR } : {},
  status: { addresses: internalIP ? [{ type: 'Hostname', address: name }, { type: 'InternalIP', address: internalIP }] : [] },
});

test('every other node with a range inside the cluster CIDR is routed to its InternalIP; nothing else is', () => {
  const routes = desiredNodeRoutes([
    node('a', '10.42.0.0/24', '192.168.1.10'),
    node('b', '10.42.1.0/24', '192.168.1.11'),
    node('c', '10.42.2.0/24', '192.168.1.12'),
    node('no-range', undefined, '192.168.1.13'),
    node('no-address', '10.42.3.0/24'),
    node('outside', '10.99.0.0/24', '192.168.1.14'),           // not a pod range of this cluster
    node('wide', '10.0.0.0/8', '192.168.1.15'),                // contains the cluster: never
    node('via-pod', '10.42.4.0/24', '10.42.9.9'),              // a gateway inside the pod range would loop
    node('mine-too', '10.42.0.128/25', '192.168.1.16'),        // overlaps our own range
    node('twin-1', '10.42.5.0/24', '192.168.1.17'),            // two nodes claim one range: neither
    node('twin-2', '10.42.5.0/24', '192.168.1.18'),
    node('v6', '10.42.6.0/24', 'fd00::1'),
  ], 'a', '10.42.0.0/16');
  assert.deepEqual(routes, [
    { podCIDR: '10.42.1.0/24', via: '192.168.1.11', node: 'b' },
    { podCIDR: '10.42.2.0/24', via: '192.168.1.12', node: 'c' },
  ]);
});

test('only a neighbour on one of our links is a gateway: not ourselves, not a made-up or routed address', () => {
  const links = [{ address: '192.168.1.10', network: parseCidr('192.168.1.10/24') }, { address: '10.1.2.3', network: parseCidr('10.1.2.3/32') }];
  assert.equal(onLink('192.168.1.11', links), true);
  assert.equal(onLink('192.168.1.10', links), false);   // this node
  assert.equal(onLink('10.99.0.1', links), false);      // a hollow node's made-up address
  assert.equal(onLink('10.1.2.4', links), false);       // a /32 has no neighbours
  assert.equal(onLink('fd00::1', links), false);
});

const root = process.getuid?.() === 0;
const sh = (args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
  execFile(args[0]!, args.slice(1), (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }));
});

test('routes are added, moved and removed in a network namespace; other routes are left alone', { skip: !root && 'needs root' }, async (t) => {
  const ns = `nr-${process.pid}`;
  const inNs = (args: string[]) => sh(['ip', 'netns', 'exec', ns, ...args]);
  const script = `
    import { applyNodeRoutes, removeNodeRoutes, currentNodeRoutes } from ${JSON.stringify(new URL('./node-routes.ts', import.meta.url).pathname)};
    const step = process.argv[1];
    if (step === 'one') console.log(JSON.stringify(await applyNodeRoutes([{ podCIDR: '10.42.1.0/24', via: '192.168.7.11', node: 'b' }, { podCIDR: '10.42.2.0/24', via: '192.168.7.12', node: 'c' }], '10.42.0.0/16')));
    if (step === 'two') console.log(JSON.stringify(await applyNodeRoutes([{ podCIDR: '10.42.1.0/24', via: '192.168.7.13', node: 'b' }], '10.42.0.0/16')));
    if (step === 'current') console.log(JSON.stringify([...(await currentNodeRoutes('10.42.0.0/16')).entries()]));
    if (step === 'remove') console.log(JSON.stringify(await removeNodeRoutes('10.42.0.0/16')));
  `;
  const node = (step: string) => inNs([process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, step]);
  assert.equal((await sh(['ip', 'netns', 'add', ns])).code, 0);
  t.after(() => sh(['ip', 'netns', 'del', ns]));
  await inNs(['ip', 'link', 'set', 'lo', 'up']);
  // An uplink on which the other "nodes" would be (a veth pair: no dummy links in this kernel).
  await inNs(['ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
  await inNs(['ip', 'addr', 'add', '192.168.7.1/24', 'dev', 'up0']);
  await inNs(['ip', 'link', 'set', 'up1', 'up']);
  await inNs(['ip', 'link', 'set', 'up0', 'up']);
  // Someone else's route in the cluster range, made by hand: never ours to touch.
  await inNs(['ip', 'route', 'add', '10.42.9.0/24', 'via', '192.168.7.99']);

  const one = await node('one');
  assert.equal(one.code, 0, one.out);
  assert.match((await inNs(['ip', 'route', 'get', '10.42.2.5'])).out, /via 192\.168\.7\.12 dev up0/);
  const two = await node('two');
  assert.equal(two.code, 0, two.out);
  assert.deepEqual(JSON.parse(two.out), { added: [{ podCIDR: '10.42.1.0/24', via: '192.168.7.13', node: 'b' }], removed: ['10.42.2.0/24'] });
  assert.match((await inNs(['ip', 'route', 'get', '10.42.1.5'])).out, /via 192\.168\.7\.13 dev up0/);
  assert.deepEqual(JSON.parse((await node('current')).out), [['10.42.1.0/24', '192.168.7.13']]);

  const removed = await node('remove');
  assert.deepEqual(JSON.parse(removed.out), ['10.42.1.0/24']);
  const left = (await inNs(['ip', '-4', 'route', 'show'])).out;
  assert.doesNotMatch(left, /10\.42\.1\.0/);
  assert.match(left, /10\.42\.9\.0\/24 via 192\.168\.7\.99/);
});

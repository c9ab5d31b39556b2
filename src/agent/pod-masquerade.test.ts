import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';

const root = process.getuid?.() === 0;
const sh = (args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
  execFile(args[0]!, args.slice(1), (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }));
});

test('the pod masquerade chain: pods to pods untouched, the rest NATed; idempotent, follows a new range, removed without a trace', { skip: !root && 'needs root' }, async (t) => {
  // In a namespace of our own: its nat table is empty and nobody else's.
  const ns = `pm-${process.pid}`;
  const inNs = (args: string[]) => sh(['ip', 'netns', 'exec', ns, ...args]);
  const mod = JSON.stringify(new URL('./pod-masquerade.ts', import.meta.url).pathname);
  const call = (code: string) => inNs([process.execPath, '--import', 'tsx', '--input-type=module', '-e', `import * as m from ${mod}; ${code}`]);
  assert.equal((await sh(['ip', 'netns', 'add', ns])).code, 0);
  t.after(() => sh(['ip', 'netns', 'del', ns]));
  const nat = async () => (await inNs(['iptables-save', '-t', 'nat'])).out.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':BOSUN'));

  const ensure = (podCIDR: string) => call(`await m.ensurePodMasquerade({ bridge: 'brx', podCIDR: '${podCIDR}', clusterCidr: '10.42.0.0/16' });`);
  assert.equal((await ensure('10.42.3.0/24')).code, 0);
  assert.equal((await ensure('10.42.3.0/24')).code, 0);
  assert.deepEqual(await nat(), [
    ':BOSUN-MASQ-brx - [0:0]',
    '-A POSTROUTING -s 10.42.3.0/24 -m comment --comment "bosun pods on brx" -j BOSUN-MASQ-brx',
    '-A BOSUN-MASQ-brx -d 10.42.0.0/16 -m comment --comment "pod to pod: no NAT" -j RETURN',
    '-A BOSUN-MASQ-brx -d 224.0.0.0/4 -m comment --comment "multicast: no NAT" -j RETURN',
    '-A BOSUN-MASQ-brx -m comment --comment "pods to outside the cluster" -j MASQUERADE',
  ]);
  // A node given another range (a rebuilt Node): the old jump goes.
  assert.equal((await ensure('10.42.4.0/24')).code, 0);
  assert.deepEqual((await nat()).filter((l) => l.includes('POSTROUTING')), ['-A POSTROUTING -s 10.42.4.0/24 -m comment --comment "bosun pods on brx" -j BOSUN-MASQ-brx']);

  assert.equal((await call(`await m.removePodMasquerade('brx');`)).code, 0);
  assert.deepEqual(await nat(), []);
});

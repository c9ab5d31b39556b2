/**
 * The CNI config, checked by running Debian's real plugins on it in a network
 * namespace of our own: the "pod" gets an address from the podCIDR behind the
 * bridge gateway, the host reaches it, hostPort rules appear, and DEL removes
 * what ADD made.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cniConfigList, execConfList, gatewayOf, readCniConfig, writeCniConfig } from './cni.js';
import { parseCidr as parseIPv4Cidr } from '../api/cidr.js';
import { pickPodCidr } from '../../test/helpers/containerd.js';
import { freeLoopbackPort } from '../../test/helpers/etcd.js';

const root = process.getuid?.() === 0;

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, { timeout: 15_000 }, (e, out, err) => (e ? reject(new Error(`${cmd} ${args.join(' ')}: ${err || e.message}`)) : resolve(out))));
}

test('conflist: bridge gateway with masquerade and hairpin, host-local on the podCIDR, portmap', () => {
  const c = cniConfigList({ podCIDR: '10.42.3.0/24', mtu: 1400 }) as { cniVersion: string; name: string; plugins: Record<string, any>[] };
  assert.equal(c.cniVersion, '1.0.0');
  assert.equal(c.name, 'bosun0');
  const [bridge, portmap] = c.plugins;
  assert.deepEqual(
    { type: bridge!.type, bridge: bridge!.bridge, isGateway: bridge!.isGateway, ipMasq: bridge!.ipMasq, hairpinMode: bridge!.hairpinMode, mtu: bridge!.mtu },
    { type: 'bridge', bridge: 'bosun0', isGateway: true, ipMasq: true, hairpinMode: true, mtu: 1400 });
  assert.deepEqual(bridge!.ipam, { type: 'host-local', ranges: [[{ subnet: '10.42.3.0/24', gateway: '10.42.3.1' }]], routes: [{ dst: '0.0.0.0/0' }] });
  assert.deepEqual(portmap, { type: 'portmap', capabilities: { portMappings: true }, snat: true });
  assert.deepEqual(gatewayOf('10.42.7.0/24'), { ip: '10.42.7.1', cidr: '10.42.7.1/24', network: '10.42.7.0/24' });
  assert.deepEqual(parseIPv4Cidr('10.42.7.9/24'), { base: (10 * 256 ** 3) + (42 * 256 ** 2) + 7 * 256, prefix: 24 });
  assert.throws(() => cniConfigList({ podCIDR: '10.42.300.0/24' }), /invalid IPv4 CIDR/);
  assert.throws(() => cniConfigList({ podCIDR: '10.42.3.0/24', bridge: 'a-much-too-long-bridge' }), /invalid bridge name/);
});

test('the plugins accept the config: a namespace gets a pod address the host reaches; DEL undoes it', { skip: !root && 'needs root' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bosun-cni-test-'));
  const bridge = `brc${process.pid}`.slice(0, 15);
  const netns = `rtcni${process.pid}`;
  const netnsPath = `/var/run/netns/${netns}`;
  const containerId = `rtcni-${process.pid}-${Date.now()}`;
  const podCIDR = await pickPodCidr();
  const confDir = join(dir, 'net.d');
  let server: ReturnType<typeof spawn> | undefined;
  let added = false;
  t.after(async () => {
    server?.kill('SIGKILL');
    const conf = await readCniConfig(confDir).catch(() => undefined);
    if (conf && added) await execConfList(conf, { command: 'DEL', containerId, netns: netnsPath, runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 1, protocol: 'tcp' }] }, keepGoing: true }).catch(() => {});
    await sh('ip', ['netns', 'del', netns]).catch(() => {});
    await sh('ip', ['link', 'del', bridge]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  const path = await writeCniConfig(confDir, { podCIDR, bridge, networkName: `bosun-test-${bridge}`, ipamDataDir: join(dir, 'ipam') });
  assert.equal(path, join(confDir, '10-bosun.conflist'));
  const conf = await readCniConfig(confDir);
  assert.ok(conf);
  await sh('ip', ['netns', 'add', netns]);
  const hostPort = await freeLoopbackPort();
  const runtimeConfig = { portMappings: [{ hostPort, containerPort: 8080, protocol: 'tcp' }] };
  added = true;
  const result = await execConfList(conf, { command: 'ADD', containerId, netns: netnsPath, runtimeConfig }) as { ips: { address: string; gateway: string }[] };
  const gw = gatewayOf(podCIDR);
  const podIP = result.ips[0]!.address.split('/')[0]!;
  assert.equal(result.ips[0]!.gateway, gw.ip);
  assert.equal(parseIPv4Cidr(`${podIP}/24`).base, parseIPv4Cidr(podCIDR).base);
  assert.match(await sh('ip', ['-o', '-4', 'addr', 'show', 'dev', bridge]), new RegExp(` ${gw.cidr.replace(/\./g, '\\.')} `));
  assert.match(await sh('ip', ['netns', 'exec', netns, 'ip', '-o', 'route']), new RegExp(`default via ${gw.ip.replace(/\./g, '\\.')} dev eth0`));

  // A web server in the "pod", reached from the host through the bridge.
  await sh('mkdir', ['-p', join(dir, 'www')]);
  await sh('sh', ['-c', `echo pod-ok > ${join(dir, 'www', 'index.html')}`]);
  server = spawn('ip', ['netns', 'exec', netns, '/usr/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', join(dir, 'www')], { stdio: 'ignore' });
  let body = '';
  for (let i = 0; i < 50 && body !== 'pod-ok'; i++) {
    body = await new Promise<string>((resolve) => {
      const req = request({ host: podIP, port: 8080, path: '/', timeout: 1_000 }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b.trim())); });
      req.once('error', () => setTimeout(() => resolve(''), 100));
      req.once('timeout', () => req.destroy());
      req.end();
    });
  }
  assert.equal(body, 'pod-ok');
  const nat = await sh('iptables', ['-t', 'nat', '-S']);
  assert.ok(nat.includes(containerId), 'no masquerade/hostport rules for the container');
  assert.match(nat, new RegExp(`--dport ${hostPort}\\b`));

  server.kill('SIGKILL');
  // As CRI does, DEL gets the same port mappings (portmap ignores a DEL without them).
  await execConfList(conf, { command: 'DEL', containerId, netns: netnsPath, runtimeConfig });
  added = false;
  assert.ok(!(await sh('iptables', ['-t', 'nat', '-S'])).includes(containerId), 'rules left after DEL');
  assert.doesNotMatch(await sh('ip', ['netns', 'exec', netns, 'ip', '-o', 'link']), /eth0/);
  const leases = await readFile(join(dir, 'ipam', `bosun-test-${bridge}`, podIP), 'utf8').catch(() => undefined);
  assert.equal(leases, undefined, 'host-local lease left after DEL');
});

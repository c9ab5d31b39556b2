/**
 * Keeps pod and service addresses on this machine: the cluster's pod CIDR and
 * service CIDR are routed to the node's bridge, so a packet for an address
 * with no pod (or no DNAT rule) behind it dies here instead of following the
 * default route out. The bridge is created if CNI has not made it yet, so this
 * holds before the first pod starts.
 *
 * Routes point at the bridge device, not at `unreachable`: the host's own
 * connections to a ClusterIP need a route at connect() time, before the
 * iptables DNAT in nat OUTPUT rewrites the destination.
 */
import { execFile } from 'node:child_process';
import { gatewayOf } from './cni.js';

export interface ClusterRoutesOptions {
  /** Bridge to route to; default `bosun0`. */
  bridge?: string;
  /** All pods of the cluster; default `10.42.0.0/16`. */
  clusterCidr?: string;
  /** All ClusterIPs; default `10.43.0.0/16`. */
  serviceCidr?: string;
  /** This node's pod range: when given, the bridge gets its gateway address (what CNI's bridge plugin would set). */
  podCIDR?: string;
}

function ip(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ipOrThrow(args: string[]): Promise<string> {
  const r = await ip(args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function linkExists(name: string): Promise<boolean> {
  return (await ip(['link', 'show', 'dev', name])).code === 0;
}

/** Creates the bridge (up) if missing and gives it the pod gateway address if asked. */
export async function ensureBridge(bridge: string, podCIDR?: string): Promise<void> {
  if (!(await linkExists(bridge))) {
    const r = await ip(['link', 'add', bridge, 'type', 'bridge']);
    // Someone (CNI) may have created it in the meantime.
    if (r.code !== 0 && !(await linkExists(bridge))) throw new Error(`ip link add ${bridge}: ${r.stderr.trim()}`);
  }
  await ipOrThrow(['link', 'set', bridge, 'up']);
  if (podCIDR) {
    const gw = gatewayOf(podCIDR);
    const addrs = await ipOrThrow(['-o', '-4', 'addr', 'show', 'dev', bridge]);
    if (!addrs.includes(` ${gw.cidr} `)) {
      const r = await ip(['addr', 'add', gw.cidr, 'dev', bridge]);
      if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new Error(`ip addr add ${gw.cidr} dev ${bridge}: ${r.stderr.trim()}`);
    }
  }
}

/** Routes clusterCidr and serviceCidr to the bridge (replacing any other route for exactly those prefixes). */
export async function routeClusterCidrs(opts: ClusterRoutesOptions = {}): Promise<void> {
  const bridge = opts.bridge ?? 'bosun0';
  await ensureBridge(bridge, opts.podCIDR);
  for (const cidr of [opts.clusterCidr ?? '10.42.0.0/16', opts.serviceCidr ?? '10.43.0.0/16']) {
    await ipOrThrow(['route', 'replace', cidr, 'dev', bridge]);
  }
}

/** Removes the routes routeClusterCidrs added (only those through this bridge); with deleteBridge, the bridge too. */
export async function removeClusterRoutes(opts: ClusterRoutesOptions & { deleteBridge?: boolean } = {}): Promise<void> {
  const bridge = opts.bridge ?? 'bosun0';
  for (const cidr of [opts.clusterCidr ?? '10.42.0.0/16', opts.serviceCidr ?? '10.43.0.0/16']) {
    await ip(['route', 'del', cidr, 'dev', bridge]);
  }
  if (opts.deleteBridge) await ip(['link', 'del', bridge]);
}

/** The device a route lookup for `address` picks, e.g. to check that nothing leaves the machine. */
export async function routeDeviceFor(address: string): Promise<string | undefined> {
  const out = await ip(['-o', 'route', 'get', address]);
  return / dev (\S+)/.exec(out.stdout)?.[1];
}

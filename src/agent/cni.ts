/**
 * The node's CNI network config, read by containerd's CRI plugin for every pod
 * sandbox: a Linux bridge with host-local IPAM on the node's podCIDR (the
 * bridge is the pods' gateway and masquerades their outbound traffic) plus
 * portmap for hostPort. Loopback inside the pod is set up by CRI itself.
 * Debian's plugins (in /usr/lib/cni) speak CNI 1.0.0, as does containerd 1.6.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ipString, parseCidr } from '../api/cidr.js';

export const CNI_VERSION = '1.0.0';
export const DEFAULT_BRIDGE = 'bosun0';
export const CNI_CONFIG_FILE = '10-bosun.conflist';

export interface CniConfigOptions {
  /** This node's pod range, e.g. `10.42.0.0/24`; the gateway (bridge address) is its first address. */
  podCIDR: string;
  /** Linux bridge name (at most 15 characters); default `bosun0`. */
  bridge?: string;
  /** CNI network name; host-local keeps its leases under `<dataDir>/<name>`. Default: the bridge name. */
  networkName?: string;
  mtu?: number;
  /** Where host-local records leased addresses; default /var/lib/cni/networks. */
  ipamDataDir?: string;
  /** The bridge plugin masquerades all that leaves podCIDR (default true); the agent does it itself, sparing other nodes' pods (pod-masquerade.ts). */
  ipMasq?: boolean;
}

/** The pods' gateway for a podCIDR: its first address, e.g. `10.42.0.1`, and the bridge address with prefix. */
export function gatewayOf(podCIDR: string): { ip: string; cidr: string; network: string } {
  const { base, prefix } = parseCidr(podCIDR);
  if (prefix > 30) throw new Error(`podCIDR ${podCIDR} is too small for pods`);
  return { ip: ipString(base + 1), cidr: `${ipString(base + 1)}/${prefix}`, network: `${ipString(base)}/${prefix}` };
}

export function cniConfigList(opts: CniConfigOptions): Record<string, unknown> {
  const bridge = opts.bridge ?? DEFAULT_BRIDGE;
  if (bridge.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(bridge)) throw new Error(`invalid bridge name "${bridge}"`);
  const gw = gatewayOf(opts.podCIDR);
  return {
    cniVersion: CNI_VERSION,
    name: opts.networkName ?? bridge,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: opts.ipMasq ?? true,
        hairpinMode: true,
        ...(opts.mtu ? { mtu: opts.mtu } : {}),
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: gw.network, gateway: gw.ip }]],
          routes: [{ dst: '0.0.0.0/0' }],
          ...(opts.ipamDataDir ? { dataDir: opts.ipamDataDir } : {}),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/**
 * Writes the conflist into confDir (atomically, so CRI never reads half a
 * file) and returns its path. Other bosun conflists there are removed: CRI
 * uses the first file by name.
 */
export async function writeCniConfig(confDir: string, opts: CniConfigOptions): Promise<string> {
  await mkdir(confDir, { recursive: true });
  const path = join(confDir, CNI_CONFIG_FILE);
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(cniConfigList(opts), null, 2) + '\n');
  await rename(tmp, path);
  for (const f of await readdir(confDir)) {
    if (f !== CNI_CONFIG_FILE && f.endsWith('-bosun.conflist')) await rm(join(confDir, f), { force: true });
  }
  return path;
}

export interface CniInvocation {
  command: 'ADD' | 'DEL' | 'CHECK';
  containerId: string;
  /** Path of the network namespace, e.g. /var/run/netns/NAME. */
  netns: string;
  ifName?: string;
  binDir?: string;
  /** Capability arguments, e.g. `{ portMappings: [{ hostPort, containerPort, protocol }] }`. */
  runtimeConfig?: Record<string, unknown>;
  /** DEL only: run every plugin even when one fails (cleanup), then report the first error. */
  keepGoing?: boolean;
}

/**
 * Runs a conflist's plugins the way libcni does (ADD in order, each given the
 * previous result; DEL in reverse; capability args to plugins that declare
 * them) and returns the final result. CRI does this for pods; this is for
 * tests and for cleaning up sandboxes without CRI.
 */
export async function execConfList(conflist: Record<string, unknown>, inv: CniInvocation): Promise<Record<string, unknown> | undefined> {
  const plugins = (conflist.plugins as Record<string, unknown>[]) ?? [];
  const binDir = inv.binDir ?? '/usr/lib/cni';
  let prevResult: Record<string, unknown> | undefined;
  let firstError: Error | undefined;
  const order = inv.command === 'DEL' ? [...plugins].reverse() : plugins;
  for (const plugin of order) {
    const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
    const runtimeConfig = Object.fromEntries(Object.entries(inv.runtimeConfig ?? {}).filter(([k]) => caps[k]));
    const conf = {
      ...plugin, name: conflist.name, cniVersion: conflist.cniVersion,
      ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
      ...(prevResult && inv.command !== 'DEL' ? { prevResult } : {}),
    };
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile(join(binDir, String(plugin.type)), [], {
        env: { ...process.env, CNI_COMMAND: inv.command, CNI_CONTAINERID: inv.containerId, CNI_NETNS: inv.netns, CNI_IFNAME: inv.ifName ?? 'eth0', CNI_PATH: binDir },
        timeout: 30_000,
      }, (err, stdout) => {
        if (err) {
          let msg = stdout.trim();
          try { const e = JSON.parse(msg) as { msg?: string; details?: string }; msg = [e.msg, e.details].filter(Boolean).join(': '); } catch { /* raw */ }
          reject(new Error(`CNI ${inv.command} ${String(plugin.type)}: ${msg || err.message}`));
        } else resolve(stdout);
      });
      child.stdin?.end(JSON.stringify(conf));
    }).catch((e: Error) => {
      if (!(inv.keepGoing && inv.command === 'DEL')) throw e;
      firstError ??= e;
      return '';
    });
    if (inv.command === 'ADD' && out.trim()) prevResult = JSON.parse(out) as Record<string, unknown>;
  }
  if (firstError) throw firstError;
  return prevResult;
}

/** The conflist CRI would use from confDir (the first by name), if any. */
export async function readCniConfig(confDir: string): Promise<Record<string, unknown> | undefined> {
  let files: string[];
  try { files = (await readdir(confDir)).filter((f) => f.endsWith('.conflist')).sort(); } catch { return undefined; }
  if (!files[0]) return undefined;
  return JSON.parse(await readFile(join(confDir, files[0]), 'utf8')) as Record<string, unknown>;
}

/**
 * The node's CNI network config, read by containerd's CRI plugin for every pod
 * sandbox: a Linux bridge with host-local IPAM on the node's podCIDR (the
 * bridge is the pods' gateway and masquerades their outbound traffic) plus
 * portmap for hostPort. Loopback inside the pod is set up by CRI itself.
 * Debian's plugins (in /usr/lib/cni) speak CNI 1.0.0, as does containerd 1.6.
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
}

/** Parses an IPv4 CIDR; throws on anything else. */
export function parseIPv4Cidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`invalid IPv4 CIDR "${cidr}"`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`invalid IPv4 CIDR "${cidr}"`);
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The pods' gateway for a podCIDR: its first address, e.g. `10.42.0.1`, and the bridge address with prefix. */
export function gatewayOf(podCIDR: string): { ip: string; cidr: string; network: string } {
  const { base, prefix } = parseIPv4Cidr(podCIDR);
  if (prefix > 30) throw new Error(`podCIDR ${podCIDR} is too small for pods`);
  return { ip: formatIPv4(base + 1), cidr: `${formatIPv4(base + 1)}/${prefix}`, network: `${formatIPv4(base)}/${prefix}` };
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
        ipMasq: true,
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

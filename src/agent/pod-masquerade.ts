/**
 * Source NAT for pods, as flannel does it: traffic from this node's pods to
 * anything outside the cluster's pod range leaves with the node's address;
 * traffic to pods — here or on another node — keeps the pod's own address
 * (Kubernetes' network model: pods reach each other without NAT). The CNI
 * bridge plugin's own `ipMasq` cannot say this: it masquerades everything
 * that leaves the node's range, other nodes' pods included.
 *
 * One nat chain per agent, named after its bridge, jumped to from
 * POSTROUTING for the node's pod range. RETURN lets the packet go on to the
 * other POSTROUTING rules (the proxy's masquerade for hairpin and NodePort
 * traffic still applies).
 */
import { execFile } from 'node:child_process';

function iptables(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('iptables', ['-w', '5', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function iptablesOrThrow(args: string[]): Promise<void> {
  const r = await iptables(args);
  if (r.code !== 0) throw new Error(`iptables ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** `BOSUN-MASQ-<bridge>`: one per agent on a machine (bridges are unique), at most 28 characters. */
export function podMasqueradeChain(bridge = 'bosun0'): string {
  return `BOSUN-MASQ-${bridge}`;
}

/** The POSTROUTING rules that jump to our chain, as `-A POSTROUTING …` lines of iptables-save. */
async function jumps(chain: string): Promise<string[]> {
  const r = await iptables(['-t', 'nat', '-S', 'POSTROUTING']);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').filter((l) => l.startsWith('-A POSTROUTING ') && l.endsWith(` -j ${chain}`));
}

/** Splits an `iptables -S` rule into arguments (quoted comments stay one argument). */
function ruleArgs(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Installs (or brings up to date) the masquerade for `podCIDR`; idempotent. */
export async function ensurePodMasquerade(opts: { bridge?: string; podCIDR: string; clusterCidr: string }): Promise<void> {
  const chain = podMasqueradeChain(opts.bridge);
  const created = await iptables(['-t', 'nat', '-N', chain]);
  if (created.code !== 0 && !/exists/i.test(created.stderr)) throw new Error(`iptables -t nat -N ${chain}: ${created.stderr.trim()}`);
  await iptablesOrThrow(['-t', 'nat', '-F', chain]);
  await iptablesOrThrow(['-t', 'nat', '-A', chain, '-d', opts.clusterCidr, '-m', 'comment', '--comment', 'pod to pod: no NAT', '-j', 'RETURN']);
  await iptablesOrThrow(['-t', 'nat', '-A', chain, '-d', '224.0.0.0/4', '-m', 'comment', '--comment', 'multicast: no NAT', '-j', 'RETURN']);
  await iptablesOrThrow(['-t', 'nat', '-A', chain, '-m', 'comment', '--comment', 'pods to outside the cluster', '-j', 'MASQUERADE']);
  const want = ['-s', opts.podCIDR, '-m', 'comment', '--comment', `bosun pods on ${opts.bridge ?? 'bosun0'}`, '-j', chain];
  // A jump for an older range of this bridge goes; the current one is added once.
  for (const line of await jumps(chain)) {
    const args = ruleArgs(line).slice(2);
    if (JSON.stringify(args) !== JSON.stringify(want)) await iptables(['-t', 'nat', '-D', 'POSTROUTING', ...args]);
  }
  if ((await iptables(['-t', 'nat', '-C', 'POSTROUTING', ...want])).code !== 0) {
    await iptablesOrThrow(['-t', 'nat', '-A', 'POSTROUTING', ...want]);
  }
}

/** Removes the chain and every jump to it (`bosun killall`); never throws. */
export async function removePodMasquerade(bridge?: string): Promise<void> {
  const chain = podMasqueradeChain(bridge);
  for (const line of await jumps(chain)) await iptables(['-t', 'nat', '-D', 'POSTROUTING', ...ruleArgs(line).slice(2)]);
  await iptables(['-t', 'nat', '-F', chain]);
  await iptables(['-t', 'nat', '-X', chain]);
}

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Why this machine cannot run a node agent, and what to do about it. */
export class AgentPreflightError extends Error {
  constructor(readonly reasons: string[]) {
    super(`the node agent cannot start on this machine:\n${reasons.map((r) => `  - ${r}`).join('\n')}`);
  }
}

function onPath(binary: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin'])) {
    try { accessSync(join(dir, binary), constants.X_OK); return true; } catch { /* next */ }
  }
  return false;
}

const PACKAGES: Array<[binary: string, debianPackage: string]> = [
  ['containerd', 'containerd'], ['runc', 'runc'], ['iptables', 'iptables'], ['ip', 'iproute2'], ['busybox', 'busybox-static'],
];

/**
 * What the agent needs before it touches anything: root (namespaces, cgroups,
 * iptables) and the Debian packages it runs. With an existing CRI endpoint
 * containerd need not be installed here.
 */
export function agentPreflight(opts: { containerRuntimeEndpoint?: string } = {}): void {
  const reasons: string[] = [];
  if (process.getuid?.() !== 0) reasons.push('it must run as root (containers, network namespaces and iptables need it): run it with sudo, or start the server with --disable-agent');
  const runtimeElsewhere = (bin: string) => Boolean(opts.containerRuntimeEndpoint) && (bin === 'containerd' || bin === 'runc');
  const missing = PACKAGES.filter(([bin]) => !runtimeElsewhere(bin) && !onPath(bin)).map(([, pkg]) => pkg);
  try { accessSync('/usr/lib/cni/bridge', constants.X_OK); } catch { missing.push('containernetworking-plugins'); }
  if (missing.length) reasons.push(`missing Debian packages: ${[...new Set(missing)].join(' ')} — install them with: apt-get install ${[...new Set(missing)].join(' ')} (scripts/setup.sh does)`);
  if (reasons.length) throw new AgentPreflightError(reasons);
}

/**
 * Stale UDP conntrack entries: a UDP "connection" to a service keeps its
 * DNAT to an endpoint for as long as packets flow, so a client that sends
 * DNS queries every few seconds would keep talking to a removed endpoint
 * forever. Upstream deletes such entries with conntrack; so do we, with the
 * Debian `conntrack` tool. TCP needs nothing: a removed endpoint resets.
 */
import { spawn } from 'node:child_process';

function conntrack(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('conntrack', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => resolve({ code: 127, stderr: String(err) }));
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

async function deleteEntries(args: string[]): Promise<void> {
  const r = await conntrack(['-D', ...args]);
  // Exit 1 with "0 flow entries have been deleted" is the usual, harmless outcome.
  if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) throw new Error(`conntrack -D ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Entries from a service IP (ClusterIP or external IP) to a removed endpoint. */
export function clearServiceEndpoint(serviceIP: string, endpointIP: string, protocol = 'udp'): Promise<void> {
  return deleteEntries(['-p', protocol, '--orig-dst', serviceIP, '--dst-nat', endpointIP]);
}

/** Entries to a node port that now lead to a removed endpoint. */
export function clearNodePortEndpoint(nodePort: number, endpointIP: string, protocol = 'udp'): Promise<void> {
  return deleteEntries(['-p', protocol, '--orig-port-dst', String(nodePort), '--dst-nat', endpointIP]);
}

/**
 * Entries to a service IP made while it had no endpoints (they were
 * rejected, and would stay un-NATed): upstream clears them when the first
 * endpoint appears.
 */
export function clearServiceIP(serviceIP: string, protocol = 'udp'): Promise<void> {
  return deleteEntries(['-p', protocol, '--orig-dst', serviceIP]);
}

export function clearNodePort(nodePort: number, protocol = 'udp'): Promise<void> {
  return deleteEntries(['-p', protocol, '--orig-port-dst', String(nodePort)]);
}

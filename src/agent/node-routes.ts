/**
 * Pod routing across nodes, host-gw style (flannel's `host-gw` backend):
 * every other node's pod range is routed to that node's InternalIP, learned
 * from Node objects by watch. Nodes must share a link (one L2 segment); no
 * encapsulation. This node's own range stays on its bridge (routes.ts).
 *
 * Only pod ranges inside the cluster CIDR are ever routed, and only through
 * an address outside it: a Node object can never steer any other traffic of
 * this machine. Routes made here carry their own protocol number, so a
 * restarted agent finds them, and `bosun killall` removes exactly them.
 */
import { execFile } from 'node:child_process';
import type { Node } from 'kubernetes-types/core/v1';
import { nodes, WorkQueue, type InformerFactory } from '../client/index.js';
import { cidrString, parseCidr, type Cidr } from '../api/cidr.js';

/** `ip route … proto 98`: marks the routes this module owns (98 is not in iproute2's rt_protos). */
export const NODE_ROUTE_PROTOCOL = '98';

export interface NodeRoute {
  /** Another node's `spec.podCIDR`, normalised (`10.42.1.0/24`). */
  podCIDR: string;
  /** That node's InternalIP. */
  via: string;
  node: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Number(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((a, o) => a * 256 + o, 0);
}

function tryCidr(text: string | undefined): Cidr | undefined {
  if (!text) return undefined;
  try { return parseCidr(text); } catch { return undefined; }
}

const size = (c: Cidr) => 2 ** (32 - c.prefix);
const containsAddress = (c: Cidr, n: number) => n >= c.base && n < c.base + size(c);
const containsCidr = (outer: Cidr, inner: Cidr) => inner.prefix >= outer.prefix && containsAddress(outer, inner.base);
const overlaps = (a: Cidr, b: Cidr) => containsCidr(a, b) || containsCidr(b, a);

/**
 * The routes this node wants: one per other node with a pod range inside
 * `clusterCidr` and an IPv4 InternalIP outside it. A range that overlaps this
 * node's own, or one claimed by two nodes, is skipped (a pod of ours must not
 * be shadowed, and a conflict has no right answer).
 */
export function desiredNodeRoutes(list: readonly Node[], self: string, clusterCidr: string): NodeRoute[] {
  const cluster = parseCidr(clusterCidr);
  const own = tryCidr(list.find((n) => n.metadata?.name === self)?.spec?.podCIDR);
  const candidates: Array<NodeRoute & { cidr: Cidr }> = [];
  for (const node of list) {
    const name = node.metadata?.name ?? '';
    if (name === self) continue;
    const cidr = tryCidr(node.spec?.podCIDR);
    const via = node.status?.addresses?.find((a) => a.type === 'InternalIP' && ipv4Number(a.address) !== undefined)?.address;
    if (!cidr || !via || !containsCidr(cluster, cidr) || containsAddress(cluster, ipv4Number(via)!)) continue;
    if (own && overlaps(own, cidr)) continue;
    candidates.push({ podCIDR: cidrString(cidr), via, node: name, cidr });
  }
  return candidates
    .filter((r) => !candidates.some((o) => o !== r && overlaps(o.cidr, r.cidr)))
    .map(({ podCIDR, via, node }) => ({ podCIDR, via, node }))
    .sort((a, b) => a.podCIDR.localeCompare(b.podCIDR));
}

/** An IPv4 address of this machine with its subnet: the links other nodes can be reached on directly. */
export interface LocalLink { address: string; network: Cidr }

/** This machine's IPv4 addresses of global scope (not loopback) with their subnets, from `ip -4 -o addr`. */
export async function localLinks(): Promise<LocalLink[]> {
  const r = await ip(['-4', '-o', 'addr', 'show', 'scope', 'global']);
  if (r.code !== 0) throw new Error(`ip addr show: ${r.stderr.trim()}`);
  const out: LocalLink[] = [];
  for (const m of r.stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\/(\d+)/g)) {
    out.push({ address: m[1]!, network: parseCidr(`${m[1]}/${m[2]}`) });
  }
  return out;
}

/**
 * Whether `via` is a neighbour on one of `links` (and not this machine itself): host-gw needs the other
 * node one hop away. A made-up address (a hollow node's) or one behind a router is never routed to.
 */
export function onLink(via: string, links: readonly LocalLink[]): boolean {
  const n = ipv4Number(via);
  return n !== undefined && !links.some((l) => l.address === via) && links.some((l) => l.network.prefix < 32 && containsAddress(l.network, n));
}

function ip(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Our routes now in the main table whose destination lies in `clusterCidr`: destination → gateway. */
export async function currentNodeRoutes(clusterCidr: string): Promise<Map<string, string>> {
  const cluster = parseCidr(clusterCidr);
  const r = await ip(['-4', '-o', 'route', 'show', 'proto', NODE_ROUTE_PROTOCOL]);
  if (r.code !== 0) throw new Error(`ip route show: ${r.stderr.trim()}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+)\s+via\s+(\S+)/.exec(line.trim());
    if (!m) continue;
    // `ip` prints a /32 without its prefix length.
    const dst = tryCidr(m[1]!.includes('/') ? m[1] : `${m[1]}/32`);
    if (dst && containsCidr(cluster, dst)) out.set(cidrString(dst), m[2]!);
  }
  return out;
}

/** Makes the main table hold exactly `want` among our routes in `clusterCidr`; returns what it changed. */
export async function applyNodeRoutes(want: readonly NodeRoute[], clusterCidr: string): Promise<{ added: NodeRoute[]; removed: string[] }> {
  const have = await currentNodeRoutes(clusterCidr);
  const added: NodeRoute[] = [];
  const removed: string[] = [];
  const errors: string[] = [];
  for (const r of want) {
    if (have.get(r.podCIDR) === r.via) continue;
    const res = await ip(['route', 'replace', r.podCIDR, 'via', r.via, 'proto', NODE_ROUTE_PROTOCOL]);
    if (res.code === 0) added.push(r);
    else errors.push(`ip route replace ${r.podCIDR} via ${r.via} (node ${r.node}): ${res.stderr.trim()}`);
  }
  const wanted = new Set(want.map((r) => r.podCIDR));
  for (const dst of have.keys()) {
    if (wanted.has(dst)) continue;
    const res = await ip(['route', 'del', dst, 'proto', NODE_ROUTE_PROTOCOL]);
    if (res.code === 0 || /No such process/.test(res.stderr)) removed.push(dst);
    else errors.push(`ip route del ${dst}: ${res.stderr.trim()}`);
  }
  if (errors.length) throw new Error(errors.join('; '));
  return { added, removed };
}

/** Removes every route of ours into `clusterCidr` (`bosun killall`); never throws. */
export async function removeNodeRoutes(clusterCidr = '10.42.0.0/16'): Promise<string[]> {
  try {
    return (await applyNodeRoutes([], clusterCidr)).removed;
  } catch {
    return [];
  }
}

export interface NodeRoutesOptions {
  informers: InformerFactory;
  nodeName: string;
  clusterCidr: string;
  /** A full re-check this often, in case something else removed a route (a link that went down takes its routes). */
  resyncMs?: number;
  log?: (m: string) => void;
}

const ROUTES_KEY = 'routes';

/** Keeps the other nodes' pod ranges routed to them, following Node objects by watch. */
export class NodeRoutes {
  private readonly queue: WorkQueue<string>;
  private readonly informer;
  private readonly log: (m: string) => void;
  private reportedOffLink = new Set<string>();

  constructor(private readonly opts: NodeRoutesOptions) {
    this.log = opts.log ?? (() => {});
    this.queue = new WorkQueue<string>({ name: 'node-routes', onError: (_k, err) => this.log(`${err instanceof Error ? err.message : String(err)} (will retry)`) });
    this.informer = opts.informers.for(nodes);
    // Heartbeats update every Node often; only a change of range or address matters here.
    const routeOf = (n?: Node) => `${n?.spec?.podCIDR ?? ''} ${(n?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address).join(',')}`;
    this.informer.onChange((node, type, old) => {
      if (type !== 'update' || routeOf(node) !== routeOf(old)) this.queue.add(ROUTES_KEY);
    });
  }

  /** Until `signal` aborts. Routes stay when it stops: pods on other nodes stay reachable while an agent restarts. */
  async run(signal: AbortSignal): Promise<void> {
    // Never reconcile from a half-filled cache: that would drop routes a restarted agent still needs.
    try { await this.informer.waitForSync(signal); } catch { return; }
    const timer = setInterval(() => this.queue.add(ROUTES_KEY), this.opts.resyncMs ?? 60_000);
    try {
      this.queue.add(ROUTES_KEY);
      await this.queue.process(1, () => this.sync(), signal);
    } finally {
      clearInterval(timer);
    }
  }

  async sync(): Promise<void> {
    const all = desiredNodeRoutes(this.informer.lister().list(), this.opts.nodeName, this.opts.clusterCidr);
    const links = await localLinks();
    const want = all.filter((r) => onLink(r.via, links));
    // Said once per node and address, not at every sync: a cluster with hollow nodes has many of these.
    const offLink = new Set<string>();
    for (const r of all.filter((x) => !want.includes(x))) {
      const key = `${r.node} ${r.via} ${r.podCIDR}`;
      offLink.add(key);
      if (!this.reportedOffLink.has(key)) this.log(`node ${r.node}: InternalIP ${r.via} is not on a link of this node; its pods (${r.podCIDR}) are not routed`);
    }
    this.reportedOffLink = offLink;
    const { added, removed } = await applyNodeRoutes(want, this.opts.clusterCidr);
    for (const r of added) this.log(`route ${r.podCIDR} via ${r.via} (node ${r.node})`);
    for (const dst of removed) this.log(`route ${dst} removed`);
  }
}

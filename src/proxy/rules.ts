/**
 * The iptables rules of the proxy, as text for `iptables-restore --noflush`,
 * in upstream kube-proxy's shape (pkg/proxy/iptables/proxier.go):
 *
 *   nat    PREROUTING, OUTPUT → KUBE-SERVICES → KUBE-SVC-<hash> (per service port)
 *                                             → KUBE-SEP-<hash> (per endpoint) → DNAT
 *          KUBE-SERVICES (last rule) → KUBE-NODEPORTS → KUBE-EXT-<hash> → KUBE-SVC / KUBE-SVL
 *          POSTROUTING → KUBE-POSTROUTING: MASQUERADE what KUBE-MARK-MASQ marked
 *   filter OUTPUT, FORWARD → KUBE-SERVICES: REJECT for services without endpoints
 *          INPUT, FORWARD → KUBE-EXTERNAL-SERVICES: the same for node ports and external IPs
 *          FORWARD → KUBE-FORWARD: accept marked and established traffic
 *
 * Everything here is a pure function of the model, so it is tested without
 * root; `iptables.ts` applies the text.
 */
import { createHash } from 'node:crypto';
import { categorizeEndpoints, endpointString, type EndpointInfo, type ServicePortInfo } from './model.js';

export interface RuleConfig {
  /** Prefix of every chain we own: `KUBE` as upstream; tests use their own (≤ 7 characters). */
  chainPrefix: string;
  /** Pod CIDR of the cluster: traffic to a ClusterIP from outside it is masqueraded. */
  clusterCIDR?: string;
  /** Masquerade all traffic to ClusterIPs (upstream's --masquerade-all). */
  masqueradeAll: boolean;
  /** The packet mark bit meaning "masquerade me" (upstream's --iptables-masquerade-bit, default 14). */
  masqueradeBit: number;
  /** Addresses NodePorts answer on; empty means every local address (`-m addrtype --dst-type LOCAL`). */
  nodePortAddresses: string[];
  /** NodePorts on 127.0.0.1 too (needs net.ipv4.conf.all.route_localnet=1, which the caller sets). */
  localhostNodePorts: boolean;
}

export const DEFAULT_CHAIN_PREFIX = 'KUBE';

/** The fixed chains, per table, with the built-in chain and match each is jumped from. */
export function fixedChains(prefix: string) {
  return {
    services: `${prefix}-SERVICES`,
    externalServices: `${prefix}-EXTERNAL-SERVICES`,
    forward: `${prefix}-FORWARD`,
    firewall: `${prefix}-FIREWALL`,
    nodePorts: `${prefix}-NODEPORTS`,
    postrouting: `${prefix}-POSTROUTING`,
    markMasq: `${prefix}-MARK-MASQ`,
  };
}

export interface JumpRule { table: 'nat' | 'filter'; chain: string; args: string[] }

/** The rules in built-in chains that lead into ours (upstream's iptablesJumpChains). */
export function jumpRules(prefix: string): JumpRule[] {
  const c = fixedChains(prefix);
  const comment = (text: string) => ['-m', 'comment', '--comment', text];
  const ctNew = ['-m', 'conntrack', '--ctstate', 'NEW'];
  return [
    { table: 'filter', chain: 'INPUT', args: [...ctNew, ...comment('kubernetes externally-visible service portals'), '-j', c.externalServices] },
    { table: 'filter', chain: 'FORWARD', args: [...ctNew, ...comment('kubernetes externally-visible service portals'), '-j', c.externalServices] },
    { table: 'filter', chain: 'FORWARD', args: [...ctNew, ...comment('kubernetes service portals'), '-j', c.services] },
    { table: 'filter', chain: 'OUTPUT', args: [...ctNew, ...comment('kubernetes service portals'), '-j', c.services] },
    { table: 'filter', chain: 'INPUT', args: ['-j', c.firewall] },
    { table: 'filter', chain: 'OUTPUT', args: ['-j', c.firewall] },
    { table: 'filter', chain: 'FORWARD', args: [...comment('kubernetes forwarding rules'), '-j', c.forward] },
    { table: 'nat', chain: 'PREROUTING', args: [...comment('kubernetes service portals'), '-j', c.services] },
    { table: 'nat', chain: 'OUTPUT', args: [...comment('kubernetes service portals'), '-j', c.services] },
    { table: 'nat', chain: 'POSTROUTING', args: [...comment('kubernetes postrouting rules'), '-j', c.postrouting] },
  ];
}

// ---- chain names ------------------------------------------------------------

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 16 characters of the standard base32 of sha256(text), as upstream's portProtoHash. */
export function hash16(text: string): string {
  const bytes = createHash('sha256').update(text).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
    value &= (1 << bits) - 1;
  }
  return out;
}

export type ChainKind = 'SVC' | 'SVL' | 'EXT' | 'SEP';
const PER_SERVICE_KINDS: readonly ChainKind[] = ['SVC', 'SVL', 'EXT', 'SEP'];

export function serviceChainName(prefix: string, kind: Exclude<ChainKind, 'SEP'>, port: Pick<ServicePortInfo, 'name' | 'protocol'>): string {
  return `${prefix}-${kind}-${hash16(port.name + port.protocol.toLowerCase())}`;
}

export function endpointChainName(prefix: string, port: Pick<ServicePortInfo, 'name' | 'protocol'>, ep: Pick<EndpointInfo, 'ip' | 'port'>): string {
  return `${prefix}-SEP-${hash16(port.name + port.protocol.toLowerCase() + endpointString(ep))}`;
}

/** Whether `chain` is one of the per-service chains under `prefix` (the ones a sync may delete). */
export function isServiceChain(prefix: string, chain: string): boolean {
  return PER_SERVICE_KINDS.some((k) => chain.startsWith(`${prefix}-${k}-`));
}

/** Whether `chain` is any chain we own under `prefix`. */
export function isOwnChain(prefix: string, chain: string): boolean {
  return isServiceChain(prefix, chain) || Object.values(fixedChains(prefix)).includes(chain);
}

export function validateChainPrefix(prefix: string): void {
  // KUBE-SVC- plus 16 characters must fit iptables' 28-character chain names.
  if (!/^[A-Z][A-Z0-9]{0,6}$/.test(prefix)) throw new Error(`chain prefix ${JSON.stringify(prefix)}: want 1–7 upper-case letters or digits, starting with a letter`);
}

// ---- one service port ---------------------------------------------------------

export interface ServicePortState {
  port: ServicePortInfo;
  endpoints: EndpointInfo[];
}

/** The rules of one service port: its own chains, and its lines in the shared chains. */
export interface ServicePortRules {
  name: string;
  /** nat chains owned by this service port, in order, with their rules (`-A CHAIN …` lines). */
  natChains: Map<string, string[]>;
  /** Lines for nat KUBE-SERVICES (cluster IP, external IPs) and KUBE-NODEPORTS. */
  natServices: string[];
  natNodePorts: string[];
  /** Lines for filter KUBE-SERVICES and KUBE-EXTERNAL-SERVICES (REJECT/DROP without endpoints). */
  filterServices: string[];
  filterExternal: string[];
  /** A fingerprint of `natChains`: when it is unchanged a partial sync leaves those chains alone. */
  fingerprint: string;
  /** The endpoints that may receive traffic (for conntrack clean-up of removed ones). */
  activeEndpoints: EndpointInfo[];
}

const q = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
/**
 * The verdict for a service without endpoints. Upstream REJECTs with ICMP
 * port-unreachable; for TCP we answer with a reset instead: an ICMP error
 * that arrives while connect() still holds the socket (always the case on
 * one machine, where the answer comes back at once) is only noted and the
 * SYN is retried a second later, and ICMP is rate-limited per client, so
 * "refused" could take seconds. A reset is queued and acted on at once.
 */
const rejectVerdict = (p: ServicePortInfo) => (p.protocol === 'TCP' ? 'REJECT --reject-with tcp-reset' : 'REJECT');
const probability = (n: number) => (1 / n).toFixed(10);
const proto = (p: ServicePortInfo) => p.protocol.toLowerCase();

/**
 * Upstream's largeClusterEndpointsThreshold: above this many endpoints in
 * all, per-endpoint rules are written without comments.
 */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

export function servicePortRules(state: ServicePortState, cfg: RuleConfig, opts: { largeCluster?: boolean } = {}): ServicePortRules {
  const { port } = state;
  const prefix = cfg.chainPrefix;
  const c = fixedChains(prefix);
  const p = proto(port);
  const svcChain = serviceChainName(prefix, 'SVC', port);
  const svlChain = serviceChainName(prefix, 'SVL', port);
  const extChain = serviceChainName(prefix, 'EXT', port);
  const { cluster, local, hasAny } = categorizeEndpoints(port, state.endpoints);
  const allUsable = port.internalPolicyLocal ? categorizeEndpoints({ ...port, internalPolicyLocal: false }, state.endpoints).cluster : cluster;
  const hasExternalDestinations = port.nodePort !== undefined || port.externalIPs.length > 0;

  const internalEndpoints = cluster;
  const internalChain = port.internalPolicyLocal ? svlChain : svcChain;
  const externalEndpoints = port.externalPolicyLocal ? local : allUsable;

  const natChains = new Map<string, string[]>();
  const natServices: string[] = [];
  const natNodePorts: string[] = [];
  const filterServices: string[] = [];
  const filterExternal: string[] = [];

  const clusterIPComment = `${port.name} cluster IP`;
  const dst = (ip: string) => `-d ${ip}/32 -p ${p} -m ${p} --dport ${port.port}`;

  // Cluster IP.
  if (internalEndpoints.length > 0) {
    natServices.push(`-A ${c.services} -m comment --comment ${q(clusterIPComment)} ${dst(port.clusterIP)} -j ${internalChain}`);
  } else {
    const [why, verdict] = hasAny ? ['has no local endpoints', 'DROP'] : ['has no endpoints', rejectVerdict(port)];
    filterServices.push(`-A ${c.services} -m comment --comment ${q(`${port.name} ${why}`)} ${dst(port.clusterIP)} -j ${verdict}`);
  }

  // External destinations: node ports and external/load-balancer IPs.
  const usesExt = hasExternalDestinations && externalEndpoints.length > 0;
  if (hasExternalDestinations) {
    if (usesExt) {
      for (const ip of port.externalIPs) {
        natServices.push(`-A ${c.services} -m comment --comment ${q(`${port.name} external IP`)} ${dst(ip)} -j ${extChain}`);
      }
      if (port.nodePort !== undefined) {
        natNodePorts.push(`-A ${c.nodePorts} -m comment --comment ${q(port.name)} -p ${p} -m ${p} --dport ${port.nodePort} -j ${extChain}`);
      }
    } else {
      const [why, verdict] = hasAny ? ['has no local endpoints', 'DROP'] : ['has no endpoints', rejectVerdict(port)];
      for (const ip of port.externalIPs) {
        filterExternal.push(`-A ${c.externalServices} -m comment --comment ${q(`${port.name} ${why}`)} ${dst(ip)} -j ${verdict}`);
      }
      if (port.nodePort !== undefined) {
        for (const match of nodePortDestinations(cfg)) {
          filterExternal.push(`-A ${c.externalServices} -m comment --comment ${q(`${port.name} ${why}`)} ${match} -p ${p} -m ${p} --dport ${port.nodePort} -j ${verdict}`);
        }
      }
    }
  }

  // The balancing chains.
  const sepNames = new Map<EndpointInfo, string>();
  const sep = (ep: EndpointInfo) => {
    let name = sepNames.get(ep);
    if (!name) { name = endpointChainName(prefix, port, ep); sepNames.set(ep, name); }
    return name;
  };
  // Upstream's large-cluster mode: per-endpoint rules lose their comments, which cost iptables-restore time.
  const epComment = (ep: EndpointInfo) => (opts.largeCluster ? '' : ` -m comment --comment ${q(`${port.name} -> ${endpointString(ep)}`)}`);
  const balance = (chain: string, eps: EndpointInfo[], masq: string[]) => {
    const lines = [...masq];
    if (port.stickySeconds !== undefined) {
      for (const ep of eps) {
        lines.push(`-A ${chain}${epComment(ep)} -m recent --name ${sep(ep)} --mask 255.255.255.255 --rsource --rcheck --seconds ${port.stickySeconds} --reap -j ${sep(ep)}`);
      }
    }
    eps.forEach((ep, i) => {
      const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
      lines.push(`-A ${chain}${epComment(ep)}${stat} -j ${sep(ep)}`);
    });
    natChains.set(chain, lines);
  };

  const masqOffCluster = cfg.masqueradeAll
    ? [`-A ${internalChain} -m comment --comment ${q(clusterIPComment)} ${dst(port.clusterIP)} -j ${c.markMasq}`]
    : cfg.clusterCIDR
      ? [`-A ${internalChain} -m comment --comment ${q(clusterIPComment)} ${dst(port.clusterIP)} ! -s ${cfg.clusterCIDR} -j ${c.markMasq}`]
      : [];

  // SVC serves cluster-wide internal traffic, and external traffic (all of it, or with ETP Local what pods and the node send).
  const needSvc = allUsable.length > 0 && (!port.internalPolicyLocal || usesExt);
  const needSvl = local.length > 0 && (port.internalPolicyLocal || (usesExt && port.externalPolicyLocal));
  if (usesExt) {
    const ext: string[] = [];
    if (port.externalPolicyLocal) {
      // Upstream: pods and the node itself may use any endpoint; only traffic from outside must stay local (and keep its source).
      if (cfg.clusterCIDR) ext.push(`-A ${extChain} -s ${cfg.clusterCIDR} -m comment --comment ${q(`pod traffic for ${port.name} external destinations`)} -j ${svcChain}`);
      ext.push(`-A ${extChain} -m comment --comment ${q(`masquerade LOCAL traffic for ${port.name} external destinations`)} -m addrtype --src-type LOCAL -j ${c.markMasq}`);
      ext.push(`-A ${extChain} -m comment --comment ${q(`route LOCAL traffic for ${port.name} external destinations`)} -m addrtype --src-type LOCAL -j ${svcChain}`);
      ext.push(`-A ${extChain} -j ${svlChain}`);
    } else {
      ext.push(`-A ${extChain} -m comment --comment ${q(`masquerade traffic for ${port.name} external destinations`)} -j ${c.markMasq}`);
      ext.push(`-A ${extChain} -j ${svcChain}`);
    }
    natChains.set(extChain, ext);
  }
  if (needSvc) balance(svcChain, allUsable, port.internalPolicyLocal ? [] : masqOffCluster);
  if (needSvl) balance(svlChain, local, port.internalPolicyLocal ? masqOffCluster : []);

  const used = new Map<string, EndpointInfo>();
  if (needSvc) for (const ep of allUsable) used.set(endpointString(ep), ep);
  if (needSvl) for (const ep of local) used.set(endpointString(ep), ep);
  for (const ep of used.values()) {
    const chain = sep(ep);
    const comment = opts.largeCluster ? '' : ` -m comment --comment ${q(port.name)}`;
    const recent = port.stickySeconds !== undefined ? ` -m recent --name ${chain} --set` : '';
    natChains.set(chain, [
      // Hairpin: a pod reaching itself through the service must see the node as the source, or it answers itself directly.
      `-A ${chain}${comment} -s ${ep.ip}/32 -j ${c.markMasq}`,
      `-A ${chain}${comment} -p ${p} -m ${p}${recent} -j DNAT --to-destination ${endpointString(ep)}`,
    ]);
  }

  const fp = createHash('sha1');
  for (const [chain, lines] of natChains) fp.update(`${chain}\n${lines.join('\n')}\n`);
  return {
    name: port.name, natChains, natServices, natNodePorts, filterServices, filterExternal,
    fingerprint: fp.digest('base64'), activeEndpoints: [...used.values()],
  };
}

/** The matches that select traffic to a node port's addresses. */
function nodePortDestinations(cfg: RuleConfig): string[] {
  if (cfg.nodePortAddresses.length === 0) return ['-m addrtype --dst-type LOCAL'];
  const addrs = [...cfg.nodePortAddresses, ...(cfg.localhostNodePorts ? ['127.0.0.1'] : [])].map((a) => (a.includes('/') ? a : `${a}/32`));
  // A node whose address is 127.0.0.1 (a one-machine test) would name it twice.
  return [...new Set(addrs)].map((a) => `-d ${a}`);
}

// ---- the whole table ----------------------------------------------------------

export interface RestorePlan {
  /**
   * Inputs for `iptables-restore --noflush`, to apply in order: only our
   * chains of both tables. One, unless the change is very large.
   */
  restores: string[];
  /** All of them, for reading. */
  text: string;
  /** Every per-service nat chain that exists after this restore. */
  chains: Set<string>;
  /** The per-service rules, by service port name (to diff the next partial sync against). */
  services: Map<string, ServicePortRules>;
  /** What was written: counts for metrics and logs. */
  writtenChains: number;
  deletedChains: number;
  natRules: number;
  filterRules: number;
}

export interface RenderOptions {
  /**
   * The previous sync's rules: service ports whose chains are unchanged are
   * not written again (upstream's partial sync). Absent: a full sync.
   */
  previous?: Map<string, ServicePortRules>;
  /** Per-service chains that exist now (from iptables-save or the previous plan); those not wanted are deleted. */
  existingChains: Iterable<string>;
  /** Above this many chains to write or delete, the restore is split (see renderRestore). */
  maxChainsPerRestore?: number;
}

export const DEFAULT_MAX_CHAINS_PER_RESTORE = 1000;

/**
 * The restore input for all service ports. The shared chains are always
 * rewritten whole (declaring a chain in `--noflush` mode flushes it); a
 * per-service chain is written only when new or changed (partial) or always
 * (full); chains no longer wanted are flushed and deleted in the same
 * transaction, after the rules that jumped to them are gone. Very large
 * changes (a first sync of thousands of services) are split into several
 * transactions, each consistent on its own.
 */
export function renderRestore(states: readonly ServicePortState[], cfg: RuleConfig, opts: RenderOptions): RestorePlan {
  const c = fixedChains(cfg.chainPrefix);
  const mark = `0x${(1 << cfg.masqueradeBit).toString(16)}`;
  const services = new Map<string, ServicePortRules>();
  const largeCluster = states.reduce((n, s) => n + s.endpoints.length, 0) > LARGE_CLUSTER_ENDPOINTS;
  for (const s of [...states].sort((a, b) => (a.port.name + a.port.protocol < b.port.name + b.port.protocol ? -1 : 1))) {
    services.set(`${s.port.name}/${s.port.protocol}`, servicePortRules(s, cfg, { largeCluster }));
  }

  const filter: string[] = ['*filter'];
  for (const chain of [c.services, c.externalServices, c.forward, c.firewall]) filter.push(`:${chain} - [0:0]`);
  if (cfg.localhostNodePorts) {
    // route_localnet lets packets to 127/8 arrive from outside; upstream drops those that were not DNATed by us.
    filter.push(`-A ${c.firewall} ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`);
  }
  for (const r of services.values()) filter.push(...r.filterServices, ...r.filterExternal);
  filter.push(
    `-A ${c.forward} -m conntrack --ctstate INVALID -j DROP`,
    `-A ${c.forward} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
    `-A ${c.forward} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );
  const filterRules = filter.filter((l) => l.startsWith('-A ')).length;
  filter.push('COMMIT');

  const wanted = new Set<string>();
  for (const r of services.values()) for (const chain of r.natChains.keys()) wanted.add(chain);
  const stale = [...new Set(opts.existingChains)].filter((ch) => !wanted.has(ch) && isServiceChain(cfg.chainPrefix, ch)).sort();

  const toWrite: ServicePortRules[] = [];
  for (const [key, r] of services) {
    const prev = opts.previous?.get(key);
    if (!prev || prev.fingerprint !== r.fingerprint) toWrite.push(r);
  }

  const max = opts.maxChainsPerRestore ?? DEFAULT_MAX_CHAINS_PER_RESTORE;
  const writtenChains = toWrite.reduce((n, r) => n + r.natChains.size, 0);
  const sharedDecl = [c.services, c.nodePorts, c.postrouting, c.markMasq].map((chain) => `:${chain} - [0:0]`);
  const serviceLines = (rs: ServicePortRules[]) => {
    const decl: string[] = [];
    const rules: string[] = [];
    for (const r of rs) for (const [chain, lines] of r.natChains) { decl.push(`:${chain} - [0:0]`); rules.push(...lines); }
    return { decl, rules };
  };

  const shared: string[] = [];
  for (const r of services.values()) shared.push(...r.natServices);
  if (cfg.nodePortAddresses.length === 0) {
    if (!cfg.localhostNodePorts) shared.push(`-A ${c.services} -d 127.0.0.0/8 -j RETURN`);
    shared.push(`-A ${c.services} -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j ${c.nodePorts}`);
  } else {
    for (const d of nodePortDestinations(cfg)) {
      shared.push(`-A ${c.services} -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" ${d} -j ${c.nodePorts}`);
    }
  }
  for (const r of services.values()) shared.push(...r.natNodePorts);
  shared.push(
    `-A ${c.postrouting} -m mark ! --mark ${mark}/${mark} -j RETURN`,
    // The mark would survive into a re-traversal (e.g. an IPsec re-encapsulation); upstream clears it.
    `-A ${c.postrouting} -j MARK --xor-mark ${mark}`,
    `-A ${c.postrouting} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
    `-A ${c.markMasq} -j MARK --or-mark ${mark}`,
  );

  let totalNat = shared.length;
  for (const r of services.values()) for (const lines of r.natChains.values()) totalNat += lines.length;

  const restores: string[] = [];
  const filterText = `${filter.join('\n')}\n`;
  if (writtenChains + stale.length <= max) {
    // The usual case: one transaction, all or nothing.
    const { decl, rules } = serviceLines(toWrite);
    const nat = ['*nat', ...sharedDecl, ...decl, ...stale.map((ch) => `:${ch} - [0:0]`), ...shared, ...rules, ...stale.map((ch) => `-X ${ch}`), 'COMMIT'];
    restores.push(`${filterText}${nat.join('\n')}\n`);
  } else {
    // iptables-nft 1.8.9's restore costs (rules × distinct chains) of one input: 5,000 services in one go take
    // many minutes. In batches of whole services it is linear. Each service's chains change in one
    // transaction; the shared chains switch over after all of them exist; what is no longer wanted goes last.
    let batch: ServicePortRules[] = [];
    let size = 0;
    const flush = () => {
      if (batch.length === 0) return;
      const { decl, rules } = serviceLines(batch);
      // The endpoint chains jump to MARK-MASQ: the first transaction makes sure it exists (rewriting it is harmless).
      const markMasq = restores.length === 0 ? [`:${c.markMasq} - [0:0]`, `-A ${c.markMasq} -j MARK --or-mark ${mark}`] : [];
      restores.push(['*nat', ...markMasq.slice(0, 1), ...decl, ...markMasq.slice(1), ...rules, 'COMMIT', ''].join('\n'));
      batch = [];
      size = 0;
    };
    for (const r of toWrite) {
      if (size > 0 && size + r.natChains.size > max) flush();
      batch.push(r);
      size += r.natChains.size;
    }
    flush();
    restores.push(`${filterText}${['*nat', ...sharedDecl, ...shared, 'COMMIT'].join('\n')}\n`);
    // Stale chains may jump to each other: all are flushed before any is deleted.
    for (let i = 0; i < stale.length; i += max) restores.push(['*nat', ...stale.slice(i, i + max).map((ch) => `:${ch} - [0:0]`), 'COMMIT', ''].join('\n'));
    for (let i = 0; i < stale.length; i += max) restores.push(['*nat', ...stale.slice(i, i + max).map((ch) => `:${ch} - [0:0]`), ...stale.slice(i, i + max).map((ch) => `-X ${ch}`), 'COMMIT', ''].join('\n'));
  }
  return {
    restores,
    text: restores.join(''),
    chains: wanted,
    services,
    writtenChains,
    deletedChains: stale.length,
    natRules: totalNat,
    filterRules,
  };
}

import { readFileSync } from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1';
import type { DNSConfig } from './cri/types.js';

export interface ClusterDNS { servers: string[]; domain: string; hostResolvConf?: string }

/** nameservers, search and options of a resolv.conf (the node's, for dnsPolicy Default). */
export function parseResolvConf(text: string): Required<DNSConfig> {
  const out: Required<DNSConfig> = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

/**
 * The sandbox's resolv.conf from the pod's dnsPolicy and dnsConfig, as
 * upstream: ClusterFirst uses the cluster DNS and `<ns>.svc.<domain>` search
 * paths with ndots:5; Default the node's own; None only what dnsConfig says.
 * A host-network pod with ClusterFirst gets Default (ClusterFirstWithHostNet
 * opts in to the cluster DNS).
 */
export function podDNSConfig(pod: Pod, cluster: ClusterDNS): DNSConfig {
  let policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && pod.spec?.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && cluster.servers.length === 0) policy = 'Default';
  let base: Required<DNSConfig> = { servers: [], searches: [], options: [] };
  if (policy === 'ClusterFirst') {
    const ns = pod.metadata?.namespace ?? 'default';
    const host = hostResolv(cluster.hostResolvConf);
    base = {
      servers: [...cluster.servers],
      searches: [`${ns}.svc.${cluster.domain}`, `svc.${cluster.domain}`, cluster.domain, ...host.searches],
      options: ['ndots:5'],
    };
  } else if (policy === 'Default') {
    base = hostResolv(cluster.hostResolvConf);
  }
  const extra = pod.spec?.dnsConfig;
  const servers = [...base.servers, ...(extra?.nameservers ?? [])];
  const searches = [...new Set([...base.searches, ...(extra?.searches ?? [])])].slice(0, 32);
  // dnsConfig options override the policy's options of the same name.
  const options = new Map(base.options.map((o) => [o.split(':')[0], o]));
  for (const o of extra?.options ?? []) options.set(o.name ?? '', o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? '');
  return { servers, searches, options: [...options.values()].filter(Boolean) };
}

function hostResolv(path = '/etc/resolv.conf'): Required<DNSConfig> {
  try { return parseResolvConf(readFileSync(path, 'utf8')); } catch { return { servers: [], searches: [], options: [] }; }
}

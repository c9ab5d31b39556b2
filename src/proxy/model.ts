/**
 * What the proxy needs to know about Services and their endpoints, derived
 * from API objects by pure functions (upstream's ServicePort / Endpoint
 * change trackers, without the incremental bookkeeping).
 */
import type { Service, ServicePort } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One port of one Service, as upstream's servicePortInfo. */
export interface ServicePortInfo {
  /** `namespace/service:port` with the port's name (upstream's ServicePortName string; `ns/svc` when unnamed). */
  name: string;
  namespace: string;
  service: string;
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** spec.externalIPs and status.loadBalancer.ingress IPs: traffic to them is "external". */
  externalIPs: string[];
  /** sessionAffinity ClientIP: how long a client sticks to its endpoint. */
  stickySeconds?: number;
  /** externalTrafficPolicy Local (NodePort, LoadBalancer, external IPs only). */
  externalPolicyLocal: boolean;
  /** internalTrafficPolicy Local. */
  internalPolicyLocal: boolean;
}

/** One endpoint of one service port. */
export interface EndpointInfo {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
  /** On this proxy's node. */
  isLocal: boolean;
}

export const endpointString = (ep: Pick<EndpointInfo, 'ip' | 'port'>): string => `${ep.ip}:${ep.port}`;

const isIPv4 = (ip: string | undefined): ip is string => !!ip && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/** The key by which slices are grouped: the Service's `namespace/name`. */
export function serviceKeyOfSlice(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  return svc ? `${slice.metadata?.namespace ?? ''}/${svc}` : undefined;
}

export function servicePortName(namespace: string, service: string, portName: string): string {
  return `${namespace}/${service}${portName ? `:${portName}` : ''}`;
}

/**
 * The ports the proxy programs for a Service. Headless, ExternalName and
 * IPv6-only Services get none, as upstream's iptables proxier for IPv4.
 */
export function servicePortsOf(svc: Service): ServicePortInfo[] {
  const spec = svc.spec;
  if (!spec || spec.type === 'ExternalName') return [];
  const clusterIP = spec.clusterIP;
  if (!isIPv4(clusterIP)) return [];
  const namespace = svc.metadata?.namespace ?? 'default';
  const service = svc.metadata?.name ?? '';
  const externalIPs = [
    ...(spec.externalIPs ?? []),
    ...(spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip) : []),
  ].filter(isIPv4);
  const sticky = spec.sessionAffinity === 'ClientIP'
    ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10_800)
    : undefined;
  const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer' || externalIPs.length > 0;
  return (spec.ports ?? []).map((p: ServicePort) => ({
    name: servicePortName(namespace, service, p.name ?? ''),
    namespace,
    service,
    portName: p.name ?? '',
    protocol: (p.protocol ?? 'TCP') as Protocol,
    clusterIP,
    port: p.port,
    ...(p.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer') ? { nodePort: p.nodePort } : {}),
    externalIPs: [...new Set(externalIPs)],
    ...(sticky !== undefined ? { stickySeconds: sticky } : {}),
    externalPolicyLocal: external && spec.externalTrafficPolicy === 'Local',
    internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
  }));
}

/**
 * The endpoints of one service port from all of the Service's IPv4 slices:
 * the slice port with the same name and protocol. A nil `ready` means ready,
 * a nil `serving` means `ready` (the API's rules). The same address in two
 * slices (a slice being replaced) counts once, the ready copy winning.
 */
export function endpointsFor(port: ServicePortInfo, slices: readonly EndpointSlice[], nodeName: string): EndpointInfo[] {
  const byAddr = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if ((slice.addressType ?? 'IPv4') !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === port.portName && (p.protocol ?? 'TCP') === port.protocol);
    if (!sp || typeof sp.port !== 'number') continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!isIPv4(ip)) continue;
      const ready = ep.conditions?.ready ?? true;
      const info: EndpointInfo = {
        ip, port: sp.port, ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating ?? false,
        ...(ep.nodeName ? { nodeName: ep.nodeName } : {}),
        isLocal: !!ep.nodeName && ep.nodeName === nodeName,
      };
      const key = endpointString(info);
      const seen = byAddr.get(key);
      if (!seen || (!seen.ready && info.ready)) byAddr.set(key, info);
    }
  }
  return [...byAddr.values()].sort((a, b) => compareEndpoints(a, b));
}

function compareEndpoints(a: EndpointInfo, b: EndpointInfo): number {
  const ka = a.ip.split('.').map(Number);
  const kb = b.ip.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
  return a.port - b.port;
}

/**
 * Upstream's CategorizeEndpoints (without topology hints): traffic goes to
 * ready endpoints; when none is ready, to serving-terminating ones (a
 * rolling update's last pods keep answering). Local traffic policies narrow
 * the set to this node's endpoints, with the same fallback among them.
 */
export function categorizeEndpoints(port: ServicePortInfo, eps: readonly EndpointInfo[]): {
  cluster: EndpointInfo[];
  local: EndpointInfo[];
  /** Whether any endpoint may receive traffic at all (for the REJECT rule). */
  hasAny: boolean;
} {
  const usable = (set: readonly EndpointInfo[]) => {
    const ready = set.filter((e) => e.ready);
    return ready.length > 0 ? ready : set.filter((e) => e.serving && e.terminating);
  };
  const all = usable(eps);
  const local = usable(eps.filter((e) => e.isLocal));
  const cluster = port.internalPolicyLocal ? local : all;
  // Both chains may be empty while the other has endpoints: then only that path rejects or drops.
  return { cluster, local, hasAny: all.length > 0 };
}

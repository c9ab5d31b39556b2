import { isIPv4, isIPv6 } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';

/** An SRV record's data, as RFC 2782 orders it. */
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  /** A name without the trailing dot. */
  target: string;
}

/** The records one owner (a Service, or the zone itself) holds at one name. */
export interface RecordSet {
  a?: string[];
  aaaa?: string[];
  srv?: SrvRecord[];
  ptr?: string[];
  cname?: string;
  txt?: string[];
}

/** Name (lower case, no trailing dot) → records: what one Service puts in the zone. */
export type Contribution = Map<string, RecordSet>;

/** The label of the EndpointSlices of a Service (upstream's `discovery.LabelServiceName`). */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

/** `10.42.0.5` → `5.0.42.10.in-addr.arpa`; an IPv6 address in nibble form under `ip6.arpa`. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (isIPv6(ip)) return `${expandIPv6(ip).split('').reverse().join('.')}.ip6.arpa`;
  return undefined;
}

/** The 32 hex digits of an IPv6 address. */
function expandIPv6(ip: string): string {
  let text = ip.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/**
 * The name of one endpoint under its Service, as CoreDNS's kubernetes plugin
 * makes it: its hostname (a StatefulSet pod with a matching subdomain), else
 * its address with dashes (`10-42-0-5`).
 */
export function endpointLabel(ip: string, hostname: string | undefined): string {
  if (hostname) return hostname.toLowerCase();
  return isIPv6(ip) ? ip.toLowerCase().replace(/:/g, '-') : ip.replace(/\./g, '-');
}

/** `a-b-c-d` (or an IPv6 address with dashes) → the IP, for pod records; undefined when it is none. */
export function ipFromDashed(label: string): string | undefined {
  const v4 = label.replace(/-/g, '.');
  if (isIPv4(v4)) return v4;
  const v6 = label.replace(/-/g, ':');
  return isIPv6(v6) ? v6 : undefined;
}

const isHeadless = (svc: Service) => svc.spec?.clusterIP === 'None';

function clusterIPsOf(svc: Service): string[] {
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter((ip) => isIPv4(ip) || isIPv6(ip));
}

function add(c: Contribution, name: string): RecordSet {
  let set = c.get(name);
  if (!set) { set = {}; c.set(name, set); }
  return set;
}

function addAddress(set: RecordSet, ip: string): void {
  const list = isIPv6(ip) ? (set.aaaa ??= []) : (set.a ??= []);
  if (!list.includes(ip)) list.push(ip);
}

/** One ready address of a Service, with what names it carries. */
interface ReadyEndpoint { ip: string; label: string }

/** A named port's SRV owner: `_http._tcp`. */
const srvOwner = (portName: string, protocol: string | undefined) => `_${portName.toLowerCase()}._${(protocol ?? 'TCP').toLowerCase()}`;

/**
 * Every record a Service puts in the cluster zone, following the Kubernetes
 * DNS specification (schema 1.1.0) as CoreDNS's kubernetes plugin answers it:
 *
 * - `svc.ns.svc.<zone>`: A/AAAA of the cluster IPs; for a headless Service
 *   every ready endpoint address; for an ExternalName Service a CNAME.
 * - `<hostname or a-b-c-d>.svc.ns.svc.<zone>`: each ready endpoint, and the
 *   PTR of its address back to that name.
 * - `_port._proto.svc.ns.svc.<zone>`: SRV for each named port — to the
 *   Service's name when it has a cluster IP, to each endpoint's name when
 *   headless (with the endpoint's port). SRV at the Service's own name lists
 *   every port.
 * - PTR of each cluster IP to the Service's name.
 *
 * Not-ready endpoints are left out (the EndpointSlice controller already
 * marks them ready when `publishNotReadyAddresses` is set).
 */
export function recordsForService(svc: Service, slices: readonly EndpointSlice[], domain: string): Contribution {
  const c: Contribution = new Map();
  const name = svc.metadata?.name?.toLowerCase();
  const ns = svc.metadata?.namespace?.toLowerCase();
  if (!name || !ns) return c;
  const base = `${name}.${ns}.svc.${domain}`;
  const root = add(c, base);

  if (svc.spec?.type === 'ExternalName') {
    const target = svc.spec.externalName?.toLowerCase().replace(/\.$/, '');
    if (target) root.cname = target;
    return c;
  }

  // Ready endpoints, once per address across all slices; per slice its named ports.
  const ready: ReadyEndpoint[] = [];
  const seen = new Set<string>();
  const portsByName = new Map<string, { port: number; protocol?: string; targets: Set<string> }>();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const sliceTargets: string[] = [];
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) {
        if (!isIPv4(ip) && !isIPv6(ip)) continue;
        const label = endpointLabel(ip, ep.hostname);
        sliceTargets.push(`${label}.${base}`);
        if (seen.has(ip)) continue;
        seen.add(ip);
        ready.push({ ip, label });
      }
    }
    for (const p of slice.ports ?? []) {
      if (!p.name || p.port === undefined) continue;
      const key = `${srvOwner(p.name, p.protocol)}|${p.port}`;
      let entry = portsByName.get(key);
      if (!entry) { entry = { port: p.port, protocol: p.protocol, targets: new Set() }; portsByName.set(key, entry); }
      for (const t of sliceTargets) entry.targets.add(t);
    }
  }

  for (const ep of ready) {
    const epName = `${ep.label}.${base}`;
    addAddress(add(c, epName), ep.ip);
    const ptr = reverseName(ep.ip);
    if (ptr) (add(c, ptr).ptr ??= []).push(epName);
  }

  if (isHeadless(svc)) {
    for (const ep of ready) addAddress(root, ep.ip);
    const all: SrvRecord[] = [];
    for (const [key, { port, targets }] of portsByName) {
      if (targets.size === 0) continue;
      const owner = `${key.slice(0, key.indexOf('|'))}.${base}`;
      const weight = Math.floor(100 / targets.size);
      const records = [...targets].sort().map((target) => ({ priority: 0, weight, port, target }));
      (add(c, owner).srv ??= []).push(...records);
      all.push(...records);
    }
    if (all.length) root.srv = all.map((r) => ({ ...r, weight: Math.floor(100 / all.length) }));
    return c;
  }

  const ips = clusterIPsOf(svc);
  for (const ip of ips) {
    addAddress(root, ip);
    const ptr = reverseName(ip);
    if (ptr) (add(c, ptr).ptr ??= []).push(base);
  }
  if (ips.length) {
    const ports = svc.spec?.ports ?? [];
    for (const p of ports) {
      if (!p.name) continue;
      (add(c, `${srvOwner(p.name, p.protocol)}.${base}`).srv ??= []).push({ priority: 0, weight: 100, port: p.port, target: base });
    }
    if (ports.length) {
      const weight = Math.floor(100 / ports.length);
      root.srv = ports.map((p) => ({ priority: 0, weight, port: p.port, target: base }));
    }
  }
  return c;
}

/** `ns/name` of the Service an EndpointSlice belongs to, from its label. */
export function serviceKeyOfSlice(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  return svc && slice.metadata?.namespace ? `${slice.metadata.namespace}/${svc}` : undefined;
}

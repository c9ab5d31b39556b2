import type { Answer, RecordType, SoaAnswer } from 'dns-packet';
import { ipFromDashed, type Contribution, type RecordSet, type SrvRecord } from './records.js';

/** CoreDNS's kubernetes plugin default TTL. */
export const DEFAULT_TTL_SECONDS = 5;
/** The DNS schema version of the Kubernetes DNS specification this zone follows. */
export const SCHEMA_VERSION = '1.1.0';
const MAX_CNAME_CHAIN = 8;

export const RCODE_NOERROR = 0;
export const RCODE_NXDOMAIN = 3;

/** What the zone says about one question. */
export interface ZoneAnswer {
  rcode: typeof RCODE_NOERROR | typeof RCODE_NXDOMAIN;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** The answer ends in a CNAME out of the zone: the server asks upstream for this name and appends what it gets. */
  chase?: string;
  /** False when the answer depends on other names than the question's own (then it is not cached by name). */
  cacheable: boolean;
}

export interface ZoneOptions {
  /** `cluster.local` */
  domain: string;
  ttl?: number;
  /** The cluster DNS Service's address, for the apex NS's glue (`ns.dns.<zone>`). */
  nameserverIP?: string;
}

const STATIC_OWNER = '\0zone';

/**
 * The cluster zone and the reverse names it owns, kept incrementally: each
 * owner (a Service) replaces its own contribution and learns which names
 * changed, so caches of answers can drop exactly those.
 *
 * Authoritative for `<domain>`: unknown names are NXDOMAIN, names that exist
 * only as parents of others (`ns.svc.<domain>`) are NODATA. Under
 * `in-addr.arpa`/`ip6.arpa` only the names it holds are its own; the rest
 * fall through to the upstream resolvers, as CoreDNS's `fallthrough` does.
 */
export class Zone {
  readonly domain: string;
  private readonly suffix: string;
  private readonly podSuffix: string;
  readonly ttl: number;
  /** name → owner → records */
  private readonly names = new Map<string, Map<string, RecordSet>>();
  /** Names in the domain that exist as parents of others: name → how many names below. */
  private readonly parents = new Map<string, number>();
  private readonly owners = new Map<string, Contribution>();
  private readonly soa: SoaAnswer;

  constructor(opts: ZoneOptions) {
    this.domain = opts.domain.toLowerCase().replace(/\.$/, '');
    this.suffix = `.${this.domain}`;
    this.podSuffix = `.pod.${this.domain}`;
    this.ttl = opts.ttl ?? DEFAULT_TTL_SECONDS;
    const ns = `ns.dns.${this.domain}`;
    this.soa = {
      name: this.domain, type: 'SOA', class: 'IN', ttl: this.ttl,
      data: { mname: ns, rname: `hostmaster.${this.domain}`, serial: Math.floor(Date.now() / 1000), refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
    const statics: Contribution = new Map([
      [`dns-version.${this.domain}`, { txt: [SCHEMA_VERSION] }],
      // Pod records are computed from the name; these make `pod.<zone>` and `svc.<zone>` exist.
      [`pod.${this.domain}`, {}],
      [`svc.${this.domain}`, {}],
    ]);
    if (opts.nameserverIP) statics.set(ns, { a: [opts.nameserverIP] });
    this.setOwner(STATIC_OWNER, statics);
  }

  /** How many owners (Services) hold records. */
  get ownerCount(): number { return this.owners.size - 1; }

  /** Whether a name is this zone's to answer (else it is forwarded). */
  owns(name: string): boolean {
    return name === this.domain || name.endsWith(this.suffix) || this.names.has(name);
  }

  /**
   * Replaces everything `owner` put in the zone with `contribution` (nothing
   * when undefined). Returns the names whose answers may have changed:
   * those touched and their parents.
   */
  setOwner(owner: string, contribution: Contribution | undefined): Set<string> {
    const changed = new Set<string>();
    const old = this.owners.get(owner);
    if (old) {
      for (const name of old.keys()) {
        const byOwner = this.names.get(name);
        byOwner?.delete(owner);
        if (byOwner && byOwner.size === 0) {
          this.names.delete(name);
          this.adjustParents(name, -1, changed);
        }
        changed.add(name);
      }
    }
    if (contribution && contribution.size) {
      this.owners.set(owner, contribution);
      for (const [name, records] of contribution) {
        let byOwner = this.names.get(name);
        if (!byOwner) {
          byOwner = new Map();
          this.names.set(name, byOwner);
          this.adjustParents(name, 1, changed);
        }
        byOwner.set(owner, records);
        changed.add(name);
      }
    } else {
      this.owners.delete(owner);
    }
    return changed;
  }

  private adjustParents(name: string, delta: number, changed: Set<string>): void {
    if (!name.endsWith(this.suffix)) return;
    let at = name.indexOf('.');
    while (at >= 0) {
      const parent = name.slice(at + 1);
      const n = (this.parents.get(parent) ?? 0) + delta;
      if (n <= 0) this.parents.delete(parent); else this.parents.set(parent, n);
      changed.add(parent);
      if (parent === this.domain) break;
      at = name.indexOf('.', at + 1);
    }
  }

  /** The merged records at a name, or undefined when no owner holds it. */
  recordsAt(name: string): RecordSet | undefined {
    const byOwner = this.names.get(name);
    if (!byOwner) return undefined;
    if (byOwner.size === 1) return byOwner.values().next().value;
    const merged: RecordSet = {};
    for (const set of byOwner.values()) {
      if (set.a) merged.a = union(merged.a, set.a);
      if (set.aaaa) merged.aaaa = union(merged.aaaa, set.aaaa);
      if (set.ptr) merged.ptr = union(merged.ptr, set.ptr);
      if (set.txt) merged.txt = union(merged.txt, set.txt);
      if (set.srv) merged.srv = [...(merged.srv ?? []), ...set.srv];
      if (set.cname && !merged.cname) merged.cname = set.cname;
    }
    return merged;
  }

  /**
   * The zone's answer to `name` (lower case, no trailing dot) of `type`, or
   * undefined when the name is not the zone's (a reverse name it does not
   * hold, or a name outside the domain).
   */
  lookup(name: string, type: RecordType | 'ANY'): ZoneAnswer | undefined {
    if (!this.owns(name)) return undefined;
    const answer: ZoneAnswer = { rcode: RCODE_NOERROR, answers: [], authorities: [], additionals: [], cacheable: true };
    let current = name;
    for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
      const records = this.recordsAt(current) ?? this.podRecords(current);
      if (!records) {
        if (hop > 0 && !this.owns(current)) { answer.chase = current; return answer; }
        if (!this.parents.has(current) && current !== this.domain) answer.rcode = RCODE_NXDOMAIN;
        break;
      }
      if (records.cname && type !== 'CNAME') {
        answer.answers.push({ name: current, type: 'CNAME', class: 'IN', ttl: this.ttl, data: records.cname });
        current = records.cname;
        answer.cacheable = false;
        continue;
      }
      this.addRecords(answer, current, records, type);
      break;
    }
    // The apex answers SOA and NS itself.
    if (current === this.domain) {
      if (type === 'SOA' || type === 'ANY') answer.answers.push(this.soa);
      if (type === 'NS' || type === 'ANY') {
        const ns = this.soa.data.mname;
        answer.answers.push({ name: this.domain, type: 'NS', class: 'IN', ttl: this.ttl, data: ns });
        this.addAddresses(answer.additionals, ns);
      }
    }
    // NXDOMAIN and NODATA carry the SOA, whose minimum is how long to remember them.
    if (answer.answers.length === 0 || answer.rcode === RCODE_NXDOMAIN) answer.authorities.push(this.soa);
    return answer;
  }

  /** `10-42-0-5.ns.pod.<zone>`: the address in the name, not checked against any pod (CoreDNS's `pods insecure`, k3s' default). */
  private podRecords(name: string): RecordSet | undefined {
    if (!name.endsWith(this.podSuffix)) return undefined;
    const labels = name.slice(0, -this.podSuffix.length).split('.');
    if (labels.length !== 2) return undefined;
    const ip = ipFromDashed(labels[0]);
    if (!ip) return undefined;
    return ip.includes(':') ? { aaaa: [ip] } : { a: [ip] };
  }

  private addRecords(answer: ZoneAnswer, name: string, records: RecordSet, type: RecordType | 'ANY'): void {
    const ttl = this.ttl;
    const out = answer.answers;
    const any = type === 'ANY';
    if ((type === 'A' || any) && records.a) for (const ip of records.a) out.push({ name, type: 'A', class: 'IN', ttl, data: ip });
    if ((type === 'AAAA' || any) && records.aaaa) for (const ip of records.aaaa) out.push({ name, type: 'AAAA', class: 'IN', ttl, data: ip });
    if ((type === 'PTR' || any) && records.ptr) for (const target of records.ptr) out.push({ name, type: 'PTR', class: 'IN', ttl, data: target });
    if ((type === 'TXT' || any) && records.txt) for (const text of records.txt) out.push({ name, type: 'TXT', class: 'IN', ttl, data: text });
    if (type === 'CNAME' && records.cname) out.push({ name, type: 'CNAME', class: 'IN', ttl, data: records.cname });
    if ((type === 'SRV' || any) && records.srv) {
      const glue = new Set<string>();
      for (const srv of records.srv) {
        out.push({ name, type: 'SRV', class: 'IN', ttl, data: srvData(srv) });
        glue.add(srv.target);
      }
      // The targets' addresses, so that a client needs no second query.
      for (const target of glue) this.addAddresses(answer.additionals, target);
    }
  }

  private addAddresses(out: Answer[], name: string): void {
    const records = this.recordsAt(name);
    if (!records) return;
    for (const ip of records.a ?? []) out.push({ name, type: 'A', class: 'IN', ttl: this.ttl, data: ip });
    for (const ip of records.aaaa ?? []) out.push({ name, type: 'AAAA', class: 'IN', ttl: this.ttl, data: ip });
  }
}

const srvData = (s: SrvRecord) => ({ priority: s.priority, weight: s.weight, port: s.port, target: s.target });

function union(a: string[] | undefined, b: string[]): string[] {
  if (!a) return b;
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out;
}

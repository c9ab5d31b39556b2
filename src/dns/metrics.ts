import { Counter, Gauge, type Registry } from 'prom-client';
import type { ForwarderStats } from './forwarder.js';

export type Proto = 'udp' | 'tcp';
export type ZoneLabel = 'cluster' | 'forward';

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 255: 'ANY' };

/**
 * Plain counters bumped on the hot path (a Map or array increment, no label
 * hashing); prom-client reads them only when scraped.
 */
export class DnsStats {
  /** (qtype << 2 | cluster zone << 1 | tcp) → requests: a number key costs no string per query. */
  readonly requests = new Map<number, number>();
  readonly rcodes = new Array<number>(24).fill(0);
  /** Answers served from the per-name answer cache vs. built from the zone. */
  answerCacheHits = 0;
  answerCacheMisses = 0;

  request(proto: Proto, zone: ZoneLabel, qtype: number): void {
    const key = (qtype << 2) | (zone === 'cluster' ? 2 : 0) | (proto === 'tcp' ? 1 : 0);
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  response(rcode: number): void { this.rcodes[rcode & 0x1f]++; }
}

/** Registers CoreDNS's metric names for this server's counters on `registry`. */
export function registerDnsMetrics(registry: Registry, server: string, zoneName: string, stats: DnsStats, forwarder: () => ForwarderStats | undefined, zoneSize: () => number): void {
  const registers = [registry];
  // Counters are rebuilt from the plain numbers at scrape time.
  new Counter({
    name: 'coredns_dns_requests_total', help: 'Counter of DNS requests made per zone, protocol and family.',
    labelNames: ['server', 'zone', 'proto', 'type'], registers,
    collect() {
      this.reset();
      for (const [key, n] of stats.requests) {
        const type = TYPE_NAMES[key >> 2] ?? 'other';
        this.inc({ server, zone: key & 2 ? `${zoneName}.` : '.', proto: key & 1 ? 'tcp' : 'udp', type }, n);
      }
    },
  });
  new Counter({
    name: 'coredns_dns_responses_total', help: 'Counter of response status codes.',
    labelNames: ['server', 'rcode'], registers,
    collect() {
      this.reset();
      stats.rcodes.forEach((n, code) => { if (n) this.inc({ server, rcode: RCODE_NAMES[code] ?? String(code) }, n); });
    },
  });
  new Counter({
    name: 'coredns_cache_hits_total', help: 'The count of cache hits.', labelNames: ['server', 'type'], registers,
    collect() {
      this.reset();
      this.inc({ server, type: 'cluster' }, stats.answerCacheHits);
      this.inc({ server, type: 'forward' }, forwarder()?.cacheHits ?? 0);
    },
  });
  new Counter({
    name: 'coredns_cache_misses_total', help: 'The count of cache misses.', labelNames: ['server', 'type'], registers,
    collect() {
      this.reset();
      this.inc({ server, type: 'cluster' }, stats.answerCacheMisses);
      this.inc({ server, type: 'forward' }, forwarder()?.cacheMisses ?? 0);
    },
  });
  new Counter({
    name: 'coredns_forward_requests_total', help: 'Counter of requests made per upstream.', labelNames: ['to'], registers,
    collect() {
      this.reset();
      for (const [to, n] of forwarder()?.requests ?? []) this.inc({ to }, n);
    },
  });
  new Gauge({
    name: 'bosun_dns_services', help: 'Services with records in the cluster zone.', registers,
    collect() { this.set(zoneSize()); },
  });
}

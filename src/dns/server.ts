import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer as createTcpServer, isIPv6, type AddressInfo, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer, type Packet, type RecordType } from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { Registry } from 'prom-client';
import { InformerFactory, endpointslices, keyOf, services, type Client, type Lister } from '../client/index.js';
import { Forwarder, parseUpstream, upstreamsFromResolvConf, type Upstream } from './forwarder.js';
import { recordsForService, serviceKeyOfSlice } from './records.js';
import { Zone, DEFAULT_TTL_SECONDS, type ZoneAnswer } from './zone.js';
import {
  CLASS_IN, MAX_UDP_PAYLOAD, MIN_UDP_PAYLOAD, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_CNAME, TYPE_NS, TYPE_PTR, TYPE_SOA, TYPE_SRV, TYPE_TXT,
  frame, nameOfWireKey, newQueryView, personalise, readQuery, wireKeyOf, type QueryView,
} from './wire.js';
import { encodeMessage } from './encode.js';
import { DnsStats, registerDnsMetrics, type Proto } from './metrics.js';
import {
  DEFAULT_CLUSTER_DNS_IP, KUBE_DNS_NAMESPACE, dnsEndpointSliceName, registerDnsEndpoint, unregisterDnsEndpoint, type DnsEndpointPorts,
} from './kube-dns-service.js';

const FLAG_AA = 1 << 10;
const FLAG_TC = 1 << 9;
const FLAG_RD = 1 << 8;
const FLAG_RA = 1 << 7;
const FLAG_CD = 1 << 4;
const RCODE_FORMERR = 1;
const RCODE_SERVFAIL = 2;
const RCODE_NOTIMP = 4;
const RCODE_REFUSED = 5;
/** BADVERS is extended rcode 16: 0 in the header, 1 in the OPT record's upper bits. */
const EXTENDED_BADVERS = 1;
const SERVICE_INDEX = 'bosun.dns/service';
/** Past this many cached names the answer cache starts over (random names must not grow it without bound). */
const MAX_CACHED_NAMES = 100_000;
const TCP_IDLE_MS = 10_000;

/** The query types whose answers are cached per name: the slot order in a name's cache array. */
const CACHED_TYPES = [TYPE_A, TYPE_AAAA, TYPE_SRV, TYPE_PTR, TYPE_CNAME, TYPE_TXT, TYPE_SOA, TYPE_NS, TYPE_ANY];
const TYPE_NAMES: RecordType[] = ['A', 'AAAA', 'SRV', 'PTR', 'CNAME', 'TXT', 'SOA', 'NS', 'ANY' as RecordType];
const slotOf = (qtype: number) => {
  switch (qtype) {
    case TYPE_A: return 0; case TYPE_AAAA: return 1; case TYPE_SRV: return 2; case TYPE_PTR: return 3; case TYPE_CNAME: return 4;
    case TYPE_TXT: return 5; case TYPE_SOA: return 6; case TYPE_NS: return 7; case TYPE_ANY: return 8; default: return -1;
  }
};

export interface ClusterDnsServerOptions {
  client: Client;
  /** Share the agent's informers (the proxy watches the same Services and slices); its owner starts it. Else the server makes and starts its own. */
  informers?: InformerFactory;
  /** `--cluster-domain`; default `cluster.local`. */
  clusterDomain?: string;
  /** The kube-dns Service's address, the zone's nameserver; default 10.43.0.10. Never forwarded to. */
  clusterDnsIP?: string;
  /** Resolvers for other names (`1.2.3.4`, `1.2.3.4:5353`); default the `nameserver`s of `resolvConf`, without our own addresses. */
  upstreams?: string[];
  /** Default `/etc/resolv.conf`. */
  resolvConf?: string;
  /** The longest a forwarded answer is cached; default 30 s (k3s' Corefile). */
  cacheTtlSeconds?: number;
  /** TTL of the zone's records; default 5 s, as CoreDNS's kubernetes plugin. */
  ttlSeconds?: number;
  /** How long one upstream gets to answer before the next is asked; default 2 s. */
  forwardTimeoutMs?: number;
  /** How long `listen` waits for the first list of Services and slices before serving anyway; default 5 s (as CoreDNS). */
  syncTimeoutMs?: number;
  /** Where the `coredns_*` metrics go; a new Registry by default (see `registry`). */
  registry?: Registry;
  log?: (message: string) => void;
}

interface Registration { nodeName: string; address: string; ports: DnsEndpointPorts }

export interface ListenOptions {
  address: string;
  /** Default 53; 0 picks a free port. */
  port?: number;
  /**
   * While the address is not on any interface yet (EADDRNOTAVAIL: the pod
   * bridge is made a moment later), retry for up to this long; default 0.
   */
  waitForAddressMs?: number;
}
export interface BoundAddress { address: string; port: number; family: 'IPv4' | 'IPv6' }

/**
 * The cluster DNS server each node agent runs next to its pods, bound to
 * the node's pod-bridge gateway. In-zone names come from an in-memory zone
 * fed by watches of Services and EndpointSlices; the rest go to the host's
 * resolvers through a small cache.
 *
 * The hot path (a plain query for a cached in-zone answer) reads the
 * question's bytes without decoding, finds a ready-made answer by the
 * name's wire form and type, and copies it with the query's id and name.
 * A change to a Service or its slices drops exactly the names it touched.
 */
export class ClusterDnsServer {
  readonly zone: Zone;
  readonly registry: Registry;
  readonly stats = new DnsStats();
  private readonly client: Client;
  private readonly informers: InformerFactory;
  private readonly ownInformers: boolean;
  private readonly services: Lister<Service>;
  private readonly slices: Lister<EndpointSlice>;
  private readonly log: (m: string) => void;
  private readonly opts: ClusterDnsServerOptions;
  /** Name's wire key → ready-made answers, two per cached type (without, with EDNS0). */
  private readonly answers = new Map<string, Array<Buffer | undefined>>();
  private readonly view = newQueryView();
  private forwarder?: Forwarder;
  private udp?: Socket;
  private tcp?: TcpServer;
  private metricsServer?: HttpServer;
  private readonly connections = new Set<TcpSocket>();
  private readonly abort = new AbortController();
  private registration?: Registration;
  private bound?: BoundAddress;

  constructor(opts: ClusterDnsServerOptions) {
    this.opts = opts;
    this.client = opts.client;
    this.log = opts.log ?? ((m) => console.error(`dns: ${m}`));
    this.zone = new Zone({ domain: opts.clusterDomain ?? 'cluster.local', ttl: opts.ttlSeconds ?? DEFAULT_TTL_SECONDS, nameserverIP: opts.clusterDnsIP ?? DEFAULT_CLUSTER_DNS_IP });
    this.ownInformers = !opts.informers;
    this.informers = opts.informers ?? new InformerFactory(opts.client);
    const serviceInformer = this.informers.for(services);
    const sliceInformer = this.informers.for(endpointslices);
    try {
      sliceInformer.addIndex(SERVICE_INDEX, (s) => { const k = serviceKeyOfSlice(s); return k ? [k] : []; });
    } catch { /* a second server on a shared factory: the index is already there */ }
    this.services = serviceInformer.lister();
    this.slices = sliceInformer.lister();
    this.registry = opts.registry ?? new Registry();
    registerDnsMetrics(this.registry, 'dns://', this.zone.domain, this.stats, () => this.forwarder?.stats, () => this.zone.ownerCount);
    serviceInformer.onChange((svc) => this.syncService(keyOf(svc)));
    // This node's kube-dns endpoint deleted by someone else (or collected with a re-made Node): put it back.
    sliceInformer.onDelete((slice) => {
      const reg = this.registration;
      if (!reg || this.abort.signal.aborted || slice.metadata?.namespace !== KUBE_DNS_NAMESPACE || slice.metadata?.name !== dnsEndpointSliceName(reg.nodeName)) return;
      setTimeout(() => { if (this.registration === reg && !this.abort.signal.aborted) void this.writeRegistration(reg); }, 1000).unref();
    });
    sliceInformer.onChange((slice, _type, old) => {
      const key = serviceKeyOfSlice(slice);
      if (key) this.syncService(key);
      const oldKey = old && serviceKeyOfSlice(old);
      if (oldKey && oldKey !== key) this.syncService(oldKey);
    });
  }

  /** Rebuilds one Service's records from the caches and drops the answers it touched. */
  private syncService(key: string): void {
    const svc = this.services.get(key);
    const contribution = svc ? recordsForService(svc, this.slices.byIndex(SERVICE_INDEX, key), this.zone.domain) : undefined;
    const changed = this.zone.setOwner(key, contribution);
    for (const name of changed) this.answers.delete(wireKeyOf(name));
  }

  /** Where the server answers, once listening. */
  get address(): BoundAddress | undefined { return this.bound; }

  /**
   * Starts the watches (unless shared), waits for their first list (at most
   * `syncTimeoutMs`), then answers on `address`:`port` over UDP and TCP. Port
   * 0 picks a port free for both.
   */
  async listen(opts: ListenOptions): Promise<BoundAddress> {
    if (this.udp) throw new Error('dns: already listening');
    if (this.ownInformers) this.informers.start(this.abort.signal);
    const syncTimeout = AbortSignal.timeout(this.opts.syncTimeoutMs ?? 5000);
    await this.informers.waitForSync(AbortSignal.any([syncTimeout, this.abort.signal])).catch(() => {
      if (!this.abort.signal.aborted) this.log('services and endpointslices not synced yet; serving what is known');
    });
    this.forwarder = new Forwarder({
      upstreams: this.upstreams(opts.address),
      cacheTtlSeconds: this.opts.cacheTtlSeconds,
      timeoutMs: this.opts.forwardTimeoutMs,
    });
    const family = isIPv6(opts.address) ? 'IPv6' : 'IPv4';
    const waitUntil = Date.now() + (opts.waitForAddressMs ?? 0);
    for (let attempt = 0; ; attempt++) {
      // A larger receive buffer rides out bursts and short stalls (GC, a busy CPU) without drops; the kernel caps it at rmem_max.
      const udp = createSocket({ type: family === 'IPv6' ? 'udp6' : 'udp4', recvBufferSize: 1 << 20 });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind(opts.port ?? 53, opts.address, () => { udp.off('error', reject); resolve(); });
        });
        const port = udp.address().port;
        const tcp = createTcpServer((conn) => this.onTcpConnection(conn));
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, opts.address, () => { tcp.off('error', reject); resolve(); });
        });
        udp.on('message', (msg, rinfo) => this.onUdp(msg, rinfo));
        udp.on('error', (err) => this.log(`udp: ${err.message}`));
        tcp.on('error', (err) => this.log(`tcp: ${err.message}`));
        this.udp = udp;
        this.tcp = tcp;
        this.bound = { address: opts.address, port, family };
        const ups = this.forwarder.upstreamList.map((u) => `${u.host}:${u.port}`).join(', ') || 'none';
        this.log(`serving ${this.zone.domain} on ${opts.address}:${port} (udp, tcp); upstreams: ${ups}`);
        return this.bound;
      } catch (err) {
        try { udp.close(); } catch { /* never bound */ }
        // With port 0 the TCP side of the UDP port may be taken: try another.
        const code = (err as NodeJS.ErrnoException).code;
        if ((opts.port ?? 53) === 0 && code === 'EADDRINUSE' && attempt < 10) continue;
        if (code === 'EADDRNOTAVAIL' && Date.now() < waitUntil && !this.abort.signal.aborted) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        throw err;
      }
    }
  }

  private upstreams(ownAddress: string): Upstream[] {
    if (this.opts.upstreams) return this.opts.upstreams.map(parseUpstream);
    const path = this.opts.resolvConf ?? '/etc/resolv.conf';
    let text = '';
    try { text = readFileSync(path, 'utf8'); } catch (err) { this.log(`cannot read ${path}: ${(err as Error).message}; no upstream resolvers`); }
    return upstreamsFromResolvConf(text, [ownAddress, this.opts.clusterDnsIP ?? DEFAULT_CLUSTER_DNS_IP]);
  }

  /** `/metrics` (CoreDNS's `prometheus` plugin, :9153), `/health` and `/ready`. */
  async serveMetrics(opts: ListenOptions): Promise<BoundAddress> {
    const server = createHttpServer((req, res) => {
      if (req.url === '/metrics') {
        this.registry.metrics().then((text) => { res.setHeader('Content-Type', this.registry.contentType); res.end(text); },
          (err: Error) => { res.statusCode = 500; res.end(err.message); });
      } else if (req.url === '/health' || req.url === '/ready') {
        const ok = req.url === '/health' || !!this.udp;
        res.statusCode = ok ? 200 : 503;
        res.end(ok ? 'OK' : 'not ready');
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 9153, opts.address, () => { server.off('error', reject); resolve(); });
    });
    this.metricsServer = server;
    const addr = server.address() as AddressInfo;
    return { address: opts.address, port: addr.port, family: isIPv6(opts.address) ? 'IPv6' : 'IPv4' };
  }

  /**
   * Makes this node an endpoint of the kube-dns Service (an EndpointSlice
   * `kube-dns-<node>` at `address`); `stop` takes it away again. The ports
   * default to where this server listens.
   */
  async registerEndpoint(nodeName: string, address: string, ports: DnsEndpointPorts = {}): Promise<void> {
    const metricsPort = this.metricsServer ? (this.metricsServer.address() as AddressInfo).port : undefined;
    const reg = { nodeName, address, ports: { dns: ports.dns ?? this.bound?.port, metrics: ports.metrics ?? metricsPort } };
    await registerDnsEndpoint(this.client, nodeName, address, reg.ports);
    this.registration = reg;
  }

  private async writeRegistration(reg: Registration): Promise<void> {
    try {
      await registerDnsEndpoint(this.client, reg.nodeName, reg.address, reg.ports);
      this.log(`re-registered ${KUBE_DNS_NAMESPACE}/${dnsEndpointSliceName(reg.nodeName)}`);
    } catch (err) {
      if (this.abort.signal.aborted || this.registration !== reg) return;
      this.log(`re-registering the kube-dns endpoint: ${(err as Error).message}; retrying`);
      setTimeout(() => { if (this.registration === reg) void this.writeRegistration(reg); }, 5000).unref();
    }
  }

  /** Stops answering, removes this node's kube-dns endpoint if it registered one, stops its own watches. */
  async stop(): Promise<void> {
    this.abort.abort();
    const reg = this.registration;
    this.registration = undefined;
    if (reg) await unregisterDnsEndpoint(this.client, reg.nodeName).catch((err: Error) => this.log(`removing endpoint: ${err.message}`));
    for (const conn of this.connections) conn.destroy();
    this.connections.clear();
    await Promise.all([
      this.udp && new Promise<void>((r) => this.udp!.close(() => r())),
      this.tcp && new Promise<void>((r) => this.tcp!.close(() => r())),
      this.metricsServer && new Promise<void>((r) => { this.metricsServer!.closeAllConnections(); this.metricsServer!.close(() => r()); }),
    ]);
    this.udp = undefined;
    this.tcp = undefined;
    this.metricsServer = undefined;
    this.forwarder?.close();
    this.answers.clear();
  }

  // ---- serving ---------------------------------------------------------------

  /**
   * The answer to one raw query, as the sockets give it: a Buffer at once on
   * the hot path, a Promise when it needs the slow path or upstream;
   * undefined (or a Promise of it) when the message gets no answer.
   */
  handle(msg: Buffer, proto: Proto = 'udp'): Buffer | Promise<Buffer | undefined> {
    return this.answerFast(msg, proto) ?? this.answerSlow(msg, proto);
  }

  private onUdp(msg: Buffer, rinfo: RemoteInfo): void {
    const udp = this.udp;
    if (!udp) return;
    const fast = this.answerFast(msg, 'udp');
    if (fast) { udp.send(fast, rinfo.port, rinfo.address); return; }
    void this.answerSlow(msg, 'udp').then((answer) => { if (answer && this.udp) this.udp.send(answer, rinfo.port, rinfo.address); });
  }

  private onTcpConnection(conn: TcpSocket): void {
    this.connections.add(conn);
    conn.setNoDelay(true);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    let pending: Buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        const fast = this.answerFast(msg, 'tcp');
        if (fast) conn.write(frame(fast));
        else void this.answerSlow(Buffer.from(msg), 'tcp').then((answer) => { if (answer && !conn.destroyed) conn.write(frame(answer)); });
      }
    });
    conn.on('error', () => conn.destroy());
    conn.on('close', () => this.connections.delete(conn));
  }

  /**
   * The answer to a plain in-zone query from the per-name cache (built on a
   * miss); undefined sends the query down the slow path (anything unusual,
   * names outside the zone, answers that depend on other names).
   */
  private answerFast(msg: Buffer, proto: Proto): Buffer | undefined {
    const v = this.view;
    if (!readQuery(msg, v) || v.qclass !== CLASS_IN || v.ednsVersion !== 0) return undefined;
    const slot = slotOf(v.qtype);
    if (slot < 0) return undefined;
    const index = slot * 2 + (v.ednsSize ? 1 : 0);
    let cached = this.answers.get(v.wireKey);
    let template = cached?.[index];
    if (template) {
      this.stats.answerCacheHits++;
    } else {
      const name = nameOfWireKey(v.wireKey);
      const answer = this.zone.lookup(name, TYPE_NAMES[slot]);
      if (!answer || answer.chase || !answer.cacheable) return undefined;
      this.stats.answerCacheMisses++;
      template = encodeMessage(this.zonePacket(answer, name, TYPE_NAMES[slot], 0, 0, v.ednsSize > 0));
      if (!cached) {
        if (this.answers.size >= MAX_CACHED_NAMES) this.answers.clear();
        cached = new Array<Buffer | undefined>(CACHED_TYPES.length * 2);
        this.answers.set(v.wireKey, cached);
      }
      cached[index] = template;
    }
    if (proto === 'udp' && template.length > udpLimit(v.ednsSize)) return undefined; // the slow path truncates
    this.stats.request(proto, 'cluster', v.qtype);
    this.stats.response(template[3] & 0xf);
    return personalise(template, msg, v);
  }

  /** A full decode: anything the fast path left, forwarding, CNAMEs out of the zone, truncation. */
  private async answerSlow(msg: Buffer, proto: Proto): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return msg.length >= 12 ? errorHeader(msg, RCODE_FORMERR) : undefined;
    }
    if (query.type === 'response') return undefined;
    const opt = query.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
    const ednsSize = opt ? Math.max(MIN_UDP_PAYLOAD, opt.udpPayloadSize) : 0;
    const limit = proto === 'udp' ? udpLimit(ednsSize) : 65535;
    const q = query.questions?.[0];
    const respond = (p: Packet) => this.encodeFitting(p, limit, !!opt);
    const opcode = ((query.flags ?? 0) >> 11) & 0xf;
    if (opcode !== 0) return respond(this.bare(query, RCODE_NOTIMP));
    if (!q || query.questions!.length !== 1) return respond(this.bare(query, RCODE_FORMERR));
    if (opt && opt.ednsVersion > 0) {
      return this.encodeFitting({ ...this.bare(query, 0), additionals: [ednsRecord(EXTENDED_BADVERS)] }, limit, false);
    }
    const name = q.name.toLowerCase().replace(/\.$/, '');
    const zoneName = this.zone.owns(name);
    this.stats.request(proto, zoneName ? 'cluster' : 'forward', typeCode(q.type));
    let packet: Packet | Buffer;
    try {
      if (zoneName && (q.class ?? 'IN') !== 'IN') {
        packet = this.bare(query, RCODE_REFUSED);
      } else if (zoneName) {
        const answer = this.zone.lookup(name, q.type)!;
        packet = this.zonePacket(answer, q.name, q.type, query.id ?? 0, query.flags ?? 0, false);
        if (answer.chase) await this.chase(packet, answer.chase, q.type, proto === 'tcp');
      } else {
        packet = await this.forwarder!.resolve(msg, query, proto === 'tcp');
      }
    } catch (err) {
      if (!this.abort.signal.aborted) this.log(`${q.name} ${q.type}: ${(err as Error).message}`);
      packet = this.bare(query, RCODE_SERVFAIL);
    }
    if (Buffer.isBuffer(packet)) {
      // Upstream's own bytes: they honour the client's EDNS0 size already (or carry TC).
      this.stats.response(packet[3] & 0xf);
      return packet;
    }
    this.stats.response((packet.flags ?? 0) & 0xf);
    return respond(packet);
  }

  /** Follows a CNAME out of the zone through the upstream resolvers and appends what they answer. */
  private async chase(packet: Packet, target: string, type: RecordType, tcp: boolean): Promise<void> {
    const ask: Packet = { type: 'query', id: randomInt(0, 65536), flags: FLAG_RD, questions: [{ name: target, type, class: 'IN' }] };
    const raw = dnsPacket.encode(ask);
    const got = await this.forwarder!.resolve(raw, dnsPacket.decode(raw), tcp);
    const answer = Buffer.isBuffer(got) ? dnsPacket.decode(got) : got;
    packet.answers = [...(packet.answers ?? []), ...(answer.answers ?? [])];
    packet.flags = ((packet.flags ?? 0) & ~0xf) | ((answer.flags ?? 0) & 0xf);
  }

  /** The message for a zone answer: authoritative, recursion available, the question as asked. */
  private zonePacket(answer: ZoneAnswer, qname: string, qtype: RecordType, id: number, queryFlags: number, edns: boolean): Packet {
    return {
      type: 'response', id,
      flags: FLAG_AA | FLAG_RA | (queryFlags & (FLAG_RD | FLAG_CD)) | answer.rcode,
      questions: [{ name: qname, type: qtype, class: 'IN' }],
      answers: answer.answers,
      authorities: answer.authorities,
      additionals: edns ? [...answer.additionals, ednsRecord(0)] : answer.additionals,
    };
  }

  private bare(query: DecodedPacket, rcode: number): Packet {
    return {
      type: 'response', id: query.id,
      flags: FLAG_RA | ((query.flags ?? 0) & (FLAG_RD | FLAG_CD | (0xf << 11))) | rcode,
      questions: query.questions,
    };
  }

  /**
   * Encodes `packet` within `limit` bytes: additional records go first, then
   * answers from the end with TC set (as CoreDNS truncates), so a client
   * that cannot retry over TCP still gets what fits.
   */
  private encodeFitting(packet: Packet, limit: number, edns: boolean): Buffer {
    const opt = edns ? [ednsRecord(0)] : [];
    const additionals = (packet.additionals ?? []).filter((a) => a.type !== 'OPT');
    let p: Packet = { ...packet, additionals: [...additionals, ...opt] };
    let out = encodeMessage(p);
    if (out.length <= limit) return out;
    p = { ...p, additionals: opt };
    out = encodeMessage(p);
    if (out.length <= limit) return out;
    const answers: Answer[] = [...(p.answers ?? [])];
    p = { ...p, flags: (p.flags ?? 0) | FLAG_TC, authorities: [] };
    do {
      answers.pop();
      p.answers = answers;
      out = encodeMessage(p);
    } while (out.length > limit && answers.length > 0);
    return out;
  }
}

const udpLimit = (ednsSize: number) => (ednsSize ? Math.min(ednsSize, MAX_UDP_PAYLOAD) : MIN_UDP_PAYLOAD);

function ednsRecord(extendedRcode: number): OptAnswer {
  return { name: '.', type: 'OPT', udpPayloadSize: MAX_UDP_PAYLOAD, extendedRcode, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
}

/** A header-only answer for a message that does not decode: its id, QR, and the rcode. */
function errorHeader(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  msg.copy(out, 0, 0, 2);
  out[2] = 0x80 | (msg[2] & 0x79);
  out[3] = 0x80 | rcode; // RA
  return out;
}

function typeCode(type: string): number {
  const codes: Record<string, number> = { A: TYPE_A, NS: TYPE_NS, CNAME: TYPE_CNAME, SOA: TYPE_SOA, PTR: TYPE_PTR, TXT: TYPE_TXT, AAAA: TYPE_AAAA, SRV: TYPE_SRV, ANY: TYPE_ANY };
  return codes[type] ?? 0;
}

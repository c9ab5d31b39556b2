import { createSocket, type Socket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { frame } from './wire.js';

/** A resolver other names are sent to. */
export interface Upstream { host: string; port: number }

export const RCODE_SERVFAIL = 2;
const FLAG_TC = 1 << 9;
const FLAG_RD = 1 << 8;
const FLAG_CD = 1 << 4;

/** `1.2.3.4`, `1.2.3.4:5353`, `[fd00::1]:53` or `fd00::1` → host and port. */
export function parseUpstream(text: string): Upstream {
  const s = text.trim().replace(/^(udp|dns):\/\//, '');
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) return { host: bracket[1], port: bracket[2] ? Number(bracket[2]) : 53 };
  if (isIP(s)) return { host: s, port: 53 };
  const colon = s.lastIndexOf(':');
  if (colon > 0 && isIP(s.slice(0, colon)) === 4) return { host: s.slice(0, colon), port: Number(s.slice(colon + 1)) };
  throw new Error(`upstream ${JSON.stringify(text)}: not an IP address with an optional port`);
}

/**
 * The `nameserver` lines of a resolv.conf, leaving out `skip` (our own
 * addresses: forwarding to ourselves would loop).
 */
export function upstreamsFromResolvConf(text: string, skip: readonly string[] = []): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = m[1].replace(/%.*$/, '');
    if (!isIP(host) || skip.includes(host)) continue;
    out.push({ host, port: 53 });
  }
  return out;
}

const sameAddress = (a: string, b: string) => a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** How long one upstream gets before the next is asked. */
  timeoutMs?: number;
  /** The longest an answer is kept, whatever its TTL (k3s' Corefile: `cache 30`). */
  cacheTtlSeconds?: number;
  maxCacheEntries?: number;
}

interface CacheEntry { packet: DecodedPacket; storedAt: number; expiresAt: number }

interface Pending { resolve(msg: Buffer): void; reject(err: Error): void; timer: NodeJS.Timeout; from: Upstream }

/** Counters the server exports as metrics. */
export interface ForwarderStats {
  cacheHits: number;
  cacheMisses: number;
  /** Requests sent, per upstream `host:port`. */
  requests: Map<string, number>;
}

/**
 * Sends names outside the cluster zone to the host's resolvers and keeps
 * their answers for their TTL (at most `cacheTtlSeconds`), the way CoreDNS's
 * `forward` and `cache` plugins do. Upstreams are asked in order; one that
 * does not answer in time is skipped for the next.
 */
export class Forwarder {
  private readonly upstreams: Upstream[];
  private readonly timeoutMs: number;
  private readonly cacheTtl: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pending = new Map<number, Pending>();
  private readonly sockets = new Map<4 | 6, Socket>();
  private closed = false;
  readonly stats: ForwarderStats = { cacheHits: 0, cacheMisses: 0, requests: new Map() };

  constructor(opts: ForwarderOptions) {
    this.upstreams = opts.upstreams;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.cacheTtl = opts.cacheTtlSeconds ?? 30;
    this.maxEntries = opts.maxCacheEntries ?? 10_000;
  }

  get upstreamList(): readonly Upstream[] { return this.upstreams; }

  /**
   * The answer to `query` (raw, as the client sent it, already decoded as
   * `decoded`), with the client's id. Over UDP a truncated upstream answer
   * is passed on so the client retries over TCP; over TCP upstream is asked
   * over TCP.
   */
  async resolve(query: Buffer, decoded: DecodedPacket, overTcp: boolean): Promise<Packet | Buffer> {
    const q = decoded.questions?.[0];
    const key = q ? `${q.type}/${q.class ?? 'IN'}/${q.name.toLowerCase()}` : '';
    const hit = key ? this.fromCache(key, decoded) : undefined;
    if (hit) { this.stats.cacheHits++; return hit; }
    this.stats.cacheMisses++;
    if (this.upstreams.length === 0) throw new Error('no upstream resolvers');
    let lastErr: unknown;
    for (const upstream of this.upstreams) {
      const name = `${upstream.host}:${upstream.port}`;
      this.stats.requests.set(name, (this.stats.requests.get(name) ?? 0) + 1);
      try {
        let answer = await this.exchange(upstream, query, false);
        let packet = dnsPacket.decode(answer);
        if ((packet.flags ?? 0) & FLAG_TC && overTcp) {
          answer = await this.exchange(upstream, query, true);
          packet = dnsPacket.decode(answer);
        }
        const rcode = (packet.flags ?? 0) & 0xf;
        if (rcode === RCODE_SERVFAIL || rcode === 5 /* REFUSED */) { lastErr = new Error(`${name} answered rcode ${rcode}`); continue; }
        if (key && !((packet.flags ?? 0) & FLAG_TC)) this.store(key, packet);
        answer.writeUInt16BE(decoded.id ?? 0, 0);
        return answer;
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  private fromCache(key: string, query: DecodedPacket): Packet | undefined {
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    const now = Date.now();
    if (now >= entry.expiresAt) { this.cache.delete(key); return undefined; }
    const elapsed = Math.floor((now - entry.storedAt) / 1000);
    const age = (rs: Answer[] | undefined) => (rs ?? []).filter((r) => r.type !== 'OPT')
      .map((r) => ('ttl' in r ? { ...r, ttl: Math.max(0, (r.ttl ?? 0) - elapsed) } : r) as Answer);
    const cached = entry.packet;
    const flags = ((cached.flags ?? 0) & ~(FLAG_RD | FLAG_CD | FLAG_TC)) | ((query.flags ?? 0) & (FLAG_RD | FLAG_CD));
    return {
      type: 'response', id: query.id, flags,
      questions: query.questions,
      answers: age(cached.answers), authorities: age(cached.authorities), additionals: age(cached.additionals),
    };
  }

  private store(key: string, packet: DecodedPacket): void {
    const rcode = (packet.flags ?? 0) & 0xf;
    if (rcode !== 0 && rcode !== 3) return;
    let ttl = this.cacheTtl;
    const records = [...(packet.answers ?? []), ...(packet.authorities ?? [])].filter((r) => r.type !== 'OPT');
    for (const r of packet.answers ?? []) if ('ttl' in r && r.ttl !== undefined) ttl = Math.min(ttl, r.ttl);
    // A denial lives as long as its SOA says (RFC 2308).
    if (!packet.answers?.length) {
      const soa = records.find((r) => r.type === 'SOA');
      ttl = soa && soa.type === 'SOA' ? Math.min(ttl, soa.ttl ?? 0, soa.data.minimum ?? ttl) : Math.min(ttl, 5);
    }
    if (ttl <= 0) return;
    if (this.cache.size >= this.maxEntries) {
      // Drop the oldest tenth: Map keeps insertion order.
      let n = Math.ceil(this.maxEntries / 10);
      for (const k of this.cache.keys()) { this.cache.delete(k); if (--n <= 0) break; }
    }
    const now = Date.now();
    this.cache.set(key, { packet, storedAt: now, expiresAt: now + ttl * 1000 });
  }

  /** One question to one upstream; resolves with its raw answer (its id is ours, not the client's). */
  private exchange(upstream: Upstream, query: Buffer, tcp: boolean): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('forwarder is closed'));
    return tcp ? this.exchangeTcp(upstream, query) : this.exchangeUdp(upstream, query);
  }

  private exchangeUdp(upstream: Upstream, query: Buffer): Promise<Buffer> {
    const family = isIP(upstream.host) === 6 ? 6 : 4;
    const socket = this.socket(family);
    let id = randomInt(0, 65536);
    while (this.pending.has(id)) id = (id + 1) & 0xffff;
    const msg = Buffer.from(query);
    msg.writeUInt16BE(id, 0);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${upstream.host}:${upstream.port} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer, from: upstream });
      socket.send(msg, upstream.port, upstream.host, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  private socket(family: 4 | 6): Socket {
    let socket = this.sockets.get(family);
    if (socket) return socket;
    socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => {
      if (msg.length < 12) return;
      const p = this.pending.get(msg.readUInt16BE(0));
      // Only the resolver asked may answer (a forged answer from elsewhere is dropped).
      if (!p || rinfo.port !== p.from.port || !sameAddress(rinfo.address, p.from.host)) return;
      this.pending.delete(msg.readUInt16BE(0));
      clearTimeout(p.timer);
      p.resolve(msg);
    });
    socket.on('error', () => { /* a send error reaches its callback; nothing else is fatal */ });
    socket.unref();
    this.sockets.set(family, socket);
    return socket;
  }

  private exchangeTcp(upstream: Upstream, query: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const conn = connect({ host: upstream.host, port: upstream.port });
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => { conn.destroy(); reject(new Error(`${upstream.host}:${upstream.port} (tcp) did not answer within ${this.timeoutMs} ms`)); }, this.timeoutMs);
      conn.on('connect', () => conn.write(frame(query)));
      conn.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          clearTimeout(timer);
          conn.destroy();
          const answer = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          answer.writeUInt16BE(query.readUInt16BE(0), 0);
          resolve(answer);
        }
      });
      conn.on('error', (err) => { clearTimeout(timer); reject(err); });
      conn.on('close', () => { clearTimeout(timer); reject(new Error(`${upstream.host}:${upstream.port} (tcp) closed the connection`)); });
    });
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error('forwarder is closed')); }
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    this.cache.clear();
  }
}

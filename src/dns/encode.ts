import { isIPv4, isIPv6 } from 'node:net';
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';

/**
 * A DNS message encoder with name compression (RFC 1035 §4.1.4), which
 * dns-packet's encoder lacks: without it a headless Service's 60 A records
 * take 2.7 kB instead of 1 kB, and fall back to TCP far sooner than with
 * CoreDNS. Covers the record types the zone makes and common upstream
 * ones; a message with another type is left to dns-packet.
 */

const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 };
const CLASSES: Record<string, number> = { IN: 1, CH: 3, HS: 4, ANY: 255 };
const RESPONSE = 1 << 15;

class Writer {
  buf = Buffer.allocUnsafe(512);
  at = 0;
  /** Lower-case name suffix → where it was written. */
  private readonly names = new Map<string, number>();

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  u8(v: number): void { this.room(1); this.buf[this.at++] = v; }
  u16(v: number): void { this.room(2); this.buf.writeUInt16BE(v & 0xffff, this.at); this.at += 2; }
  u32(v: number): void { this.room(4); this.buf.writeUInt32BE(v >>> 0, this.at); this.at += 4; }
  bytes(b: Buffer): void { this.room(b.length); b.copy(this.buf, this.at); this.at += b.length; }

  /** A name, pointing at an earlier copy of its longest known suffix when `compress`. */
  name(name: string, compress: boolean): void {
    const trimmed = name.replace(/\.$/, '');
    const labels = trimmed ? trimmed.split('.') : [];
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const seen = compress ? this.names.get(suffix) : undefined;
      if (seen !== undefined) { this.u16(0xc000 | seen); return; }
      if (this.at < 0x3fff && !this.names.has(suffix)) this.names.set(suffix, this.at);
      const label = Buffer.from(labels[i], 'utf8');
      if (label.length > 63) throw new Error(`label "${labels[i]}" is longer than 63 bytes`);
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  /** Writes the rdata written by `fn` behind its 16-bit length. */
  rdata(fn: () => void): void {
    this.u16(0);
    const start = this.at;
    fn();
    this.buf.writeUInt16BE(this.at - start, start - 2);
  }
}

const supported = (r: Answer) => r.type in TYPES;

function ipBytes(ip: string, v6: boolean): Buffer {
  if (!v6) {
    if (!isIPv4(ip)) throw new Error(`${ip} is not an IPv4 address`);
    return Buffer.from(ip.split('.').map(Number));
  }
  if (!isIPv6(ip)) throw new Error(`${ip} is not an IPv6 address`);
  const [head, tail] = ip.split('::');
  const part = (s: string | undefined) => (s ? s.split(':') : []);
  let left = part(head);
  let right = part(tail);
  const v4tail = (xs: string[]) => {
    const last = xs[xs.length - 1];
    if (!last || !last.includes('.')) return xs;
    const o = last.split('.').map(Number);
    return [...xs.slice(0, -1), ((o[0] << 8) | o[1]).toString(16), ((o[2] << 8) | o[3]).toString(16)];
  };
  if (tail === undefined) left = v4tail(left); else right = v4tail(right);
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

function record(w: Writer, r: Answer): void {
  if (r.type === 'OPT') {
    w.u8(0);
    w.u16(TYPES.OPT);
    w.u16(r.udpPayloadSize);
    w.u8(r.extendedRcode ?? 0);
    w.u8(r.ednsVersion ?? 0);
    w.u16((r.flags ?? 0) | (r.flag_do ? 0x8000 : 0));
    w.u16(0); // no options
    return;
  }
  w.name(r.name, true);
  w.u16(TYPES[r.type]);
  w.u16(CLASSES[r.class ?? 'IN'] ?? 1);
  w.u32(r.ttl ?? 0);
  w.rdata(() => {
    switch (r.type) {
      case 'A': w.bytes(ipBytes(r.data, false)); break;
      case 'AAAA': w.bytes(ipBytes(r.data, true)); break;
      case 'CNAME': case 'PTR': case 'NS': w.name(r.data, true); break;
      case 'SOA':
        w.name(r.data.mname, true); w.name(r.data.rname, true);
        w.u32(r.data.serial ?? 0); w.u32(r.data.refresh ?? 0); w.u32(r.data.retry ?? 0); w.u32(r.data.expire ?? 0); w.u32(r.data.minimum ?? 0);
        break;
      case 'MX': w.u16(r.data.preference ?? 0); w.name(r.data.exchange, true); break;
      // RFC 2782: the target is not compressed.
      case 'SRV': w.u16(r.data.priority ?? 0); w.u16(r.data.weight ?? 0); w.u16(r.data.port); w.name(r.data.target, false); break;
      case 'TXT': {
        const parts = Array.isArray(r.data) ? r.data : [r.data];
        for (const p of parts) {
          const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
          for (let i = 0; i < b.length || i === 0; i += 255) { const chunk = b.subarray(i, i + 255); w.u8(chunk.length); w.bytes(chunk); }
        }
        break;
      }
      default: throw new Error(`cannot encode ${r.type}`);
    }
  });
}

/** Encodes a message, compressing names; falls back to dns-packet (no compression) for other record types. */
export function encodeMessage(p: Packet): Buffer {
  const sections = [p.answers ?? [], p.authorities ?? [], p.additionals ?? []];
  if (!sections.every((s) => s.every(supported)) || !(p.questions ?? []).every((q) => q.type in TYPES)) return dnsPacket.encode(p);
  const w = new Writer();
  w.u16(p.id ?? 0);
  w.u16(((p.flags ?? 0) & 0x7fff) | (p.type === 'response' ? RESPONSE : 0));
  const questions: Question[] = p.questions ?? [];
  w.u16(questions.length);
  for (const s of sections) w.u16(s.length);
  for (const q of questions) {
    w.name(q.name, true);
    w.u16(TYPES[q.type]);
    w.u16(CLASSES[q.class ?? 'IN'] ?? 1);
  }
  for (const s of sections) for (const r of s) record(w, r);
  return Buffer.from(w.buf.subarray(0, w.at));
}

/**
 * The few bytes of a DNS message the hot path needs, read without decoding
 * the whole message (RFC 1035 §4.1, RFC 6891 for the OPT record).
 */

export const TYPE_A = 1;
export const TYPE_NS = 2;
export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const TYPE_TXT = 16;
export const TYPE_AAAA = 28;
export const TYPE_SRV = 33;
export const TYPE_OPT = 41;
export const TYPE_ANY = 255;
export const CLASS_IN = 1;

/** The classic limit of a UDP answer without EDNS0. */
export const MIN_UDP_PAYLOAD = 512;
/** What we advertise and the most we send over UDP: the DNS Flag Day 2020 size, which avoids IP fragmentation. */
export const MAX_UDP_PAYLOAD = 1232;

/** A query's header and single question, as the fast path reads them. */
export interface QueryView {
  id: number;
  /** Byte 2 of the header: QR, opcode, AA, TC, RD. */
  flags1: number;
  /** Byte 3: RA, Z, AD, CD, rcode. */
  flags2: number;
  /** Where the question's name ends (its zero byte included); the name's wire bytes are [12, nameEnd). */
  nameEnd: number;
  qtype: number;
  qclass: number;
  /** The name in wire form, lower-cased, as a latin1 string: a cheap, exact map key. */
  wireKey: string;
  /** 0 without an OPT record, else the requester's UDP payload size. */
  ednsSize: number;
  /** The OPT record's EDNS version (only meaningful with ednsSize > 0). */
  ednsVersion: number;
}

/**
 * Reads a plain query: QR=0, opcode QUERY, one question, no answer or
 * authority records, at most one additional record which must be an OPT.
 * Anything else returns false and takes the slow path (a full decode).
 */
export function readQuery(msg: Buffer, out: QueryView): boolean {
  const len = msg.length;
  if (len < 17) return false;
  const flags1 = msg[2];
  // QR set (a response) or an opcode other than QUERY.
  if ((flags1 & 0xf8) !== 0) return false;
  if (msg[4] !== 0 || msg[5] !== 1 || msg[6] !== 0 || msg[7] !== 0 || msg[8] !== 0 || msg[9] !== 0 || msg[10] !== 0 || msg[11] > 1) return false;
  let i = 12;
  let upper = false;
  for (;;) {
    if (i >= len) return false;
    const l = msg[i];
    if (l === 0) break;
    // Compression pointers have no place in a question of a query; extended labels are obsolete.
    if (l > 63) return false;
    const end = i + 1 + l;
    if (end > len) return false;
    for (let j = i + 1; j < end; j++) { const c = msg[j]; if (c >= 65 && c <= 90) upper = true; }
    i = end;
  }
  const nameEnd = i + 1;
  if (nameEnd - 12 > 255 || nameEnd + 4 > len) return false;
  out.id = (msg[0] << 8) | msg[1];
  out.flags1 = flags1;
  out.flags2 = msg[3];
  out.nameEnd = nameEnd;
  out.qtype = (msg[nameEnd] << 8) | msg[nameEnd + 1];
  out.qclass = (msg[nameEnd + 2] << 8) | msg[nameEnd + 3];
  const key = msg.toString('latin1', 12, nameEnd);
  out.wireKey = upper ? key.toLowerCase() : key;
  out.ednsSize = 0;
  out.ednsVersion = 0;
  let at = nameEnd + 4;
  if (msg[11] === 1) {
    // OPT: root name (one zero byte), TYPE 41, CLASS = UDP payload size, TTL = extended rcode, version, flags.
    if (at + 11 > len || msg[at] !== 0 || ((msg[at + 1] << 8) | msg[at + 2]) !== TYPE_OPT) return false;
    out.ednsSize = Math.max(MIN_UDP_PAYLOAD, (msg[at + 3] << 8) | msg[at + 4]);
    out.ednsVersion = msg[at + 6];
    at += 11 + ((msg[at + 9] << 8) | msg[at + 10]);
    if (at > len) return false;
  }
  return true;
}

export function newQueryView(): QueryView {
  return { id: 0, flags1: 0, flags2: 0, nameEnd: 0, qtype: 0, qclass: 0, wireKey: '', ednsSize: 0, ednsVersion: 0 };
}

/** `a.b.c` → the wire form as a latin1 string (`\x01a\x01b\x01c\x00`), the key `readQuery` makes. */
export function wireKeyOf(name: string): string {
  let out = '';
  if (name) for (const label of name.split('.')) out += String.fromCharCode(label.length) + label;
  return out + '\0';
}

/** The dotted name (lower case, no trailing dot) of a wire key. */
export function nameOfWireKey(key: string): string {
  const labels: string[] = [];
  let i = 0;
  while (i < key.length) {
    const l = key.charCodeAt(i);
    if (l === 0) break;
    labels.push(key.slice(i + 1, i + 1 + l));
    i += 1 + l;
  }
  return labels.join('.');
}

/**
 * A cached answer made fit for one query: its id, its RD and CD bits, and
 * its question name exactly as the query spelled it (resolvers that
 * randomise case, "0x20", check it).
 */
export function personalise(template: Buffer, query: Buffer, view: QueryView): Buffer {
  const out = Buffer.allocUnsafe(template.length);
  template.copy(out);
  out[0] = view.id >> 8;
  out[1] = view.id & 0xff;
  out[2] = (out[2] & 0xfe) | (view.flags1 & 0x01);
  out[3] = (out[3] & 0xef) | (view.flags2 & 0x10);
  query.copy(out, 12, 12, view.nameEnd);
  return out;
}

/** Prefixes a message with its two-byte length, as DNS over TCP sends it. */
export function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

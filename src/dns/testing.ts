/**
 * Helpers for tests and the benchmark: a DNS client over UDP and TCP, and a
 * fake upstream resolver on loopback (the tests never ask a real one).
 */
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type RecordType } from 'dns-packet';
import { frame } from './wire.js';

export interface QueryOptions {
  /** Advertise EDNS0 with this UDP payload size. */
  edns?: number;
  tcp?: boolean;
  timeoutMs?: number;
  host?: string;
}

/** One question to a DNS server; resolves with the decoded answer (rcode at `.rcode`). */
export async function query(port: number, name: string, type: RecordType, opts: QueryOptions = {}): Promise<DecodedPacket & { rcode: string; size: number }> {
  const packet: Packet = {
    type: 'query', id: randomInt(0, 65536), flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: opts.edns ? [{ name: '.', type: 'OPT', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  };
  const raw = dnsPacket.encode(packet);
  const answer = opts.tcp ? await exchangeTcp(port, raw, opts) : await exchangeUdp(port, raw, opts);
  const decoded = dnsPacket.decode(answer) as DecodedPacket & { rcode: string; size: number };
  if (decoded.id !== packet.id) throw new Error(`answer id ${decoded.id} is not the query's ${packet.id}`);
  decoded.size = answer.length;
  return decoded;
}

function exchangeUdp(port: number, raw: Buffer, opts: QueryOptions): Promise<Buffer> {
  const host = opts.host ?? '127.0.0.1';
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error(`no answer from ${host}:${port} within ${opts.timeoutMs ?? 2000} ms`)); }, opts.timeoutMs ?? 2000);
    socket.on('message', (msg) => { clearTimeout(timer); socket.close(); resolve(msg); });
    socket.on('error', (err) => { clearTimeout(timer); socket.close(); reject(err); });
    socket.send(raw, port, host);
  });
}

function exchangeTcp(port: number, raw: Buffer, opts: QueryOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const conn = connect({ host: opts.host ?? '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { conn.destroy(); reject(new Error('no TCP answer in time')); }, opts.timeoutMs ?? 2000);
    conn.on('connect', () => conn.write(frame(raw)));
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        conn.end();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    conn.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

/** The data of the answers of one type, sorted: `['10.43.0.20']`. */
export function dataOf(packet: Packet, type: string): string[] {
  return (packet.answers ?? []).filter((a) => a.type === type).map((a) => {
    const data = (a as { data: unknown }).data;
    if (typeof data === 'string') return data;
    if (a.type === 'SRV') { const s = a.data; return `${s.priority ?? 0} ${s.weight ?? 0} ${s.port} ${s.target}`; }
    if (a.type === 'TXT') return (Array.isArray(a.data) ? a.data : [a.data]).map(String).join('');
    return JSON.stringify(data);
  }).sort();
}

/** A fake upstream resolver on loopback, UDP and TCP on one port, answering from a fixed table. */
export interface FakeUpstream {
  port: number;
  /** Questions it has been asked, `name TYPE` lower-case. */
  asked: string[];
  stop(): Promise<void>;
}

/** `records`: lower-case name → answers it holds; other names get NXDOMAIN. */
export async function startFakeUpstream(records: Record<string, Answer[]>): Promise<FakeUpstream> {
  const asked: string[] = [];
  const answer = (msg: Buffer, udp: boolean): Buffer => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0];
    asked.push(`${question.name.toLowerCase()} ${question.type}`);
    const held = records[question.name.toLowerCase()];
    const answers = (held ?? []).filter((a) => a.type === question.type || a.type === 'CNAME');
    const packet: Packet = {
      type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | (held ? 0 : 3),
      questions: q.questions, answers,
      authorities: answers.length ? [] : [{ name: 'test', type: 'SOA', ttl: 60, data: { mname: 'ns.test', rname: 'root.test', serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 30 } }],
    };
    let out = dnsPacket.encode(packet);
    if (udp && out.length > 512) out = dnsPacket.encode({ ...packet, flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
    return out;
  };
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(answer(msg, true), rinfo.port, rinfo.address));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const port = udp.address().port;
  const tcp: Server = createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        conn.write(frame(answer(msg, false)));
      }
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(port, '127.0.0.1', () => resolve()); });
  return {
    port, asked,
    async stop() {
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => { tcp.close(() => r()); })]);
    },
  };
}

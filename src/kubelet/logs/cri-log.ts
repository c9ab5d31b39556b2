/**
 * The CRI container log format, as containerd writes it for every container
 * (kubernetes/cri-api's "CRI log format"):
 *
 *   2016-10-06T00:17:09.669794202Z stdout F log line text
 *   2016-10-06T00:17:09.669794203Z stderr P a partial line (no newline followed)
 *
 * `F` closes a line; `P` is a chunk of a longer line that continues in the next
 * entry. Timestamps are RFC 3339 with up to nine fraction digits (Go's
 * RFC3339Nano trims trailing zeros), so they are compared as numbers, not text.
 */

export type LogStream = 'stdout' | 'stderr';

export interface CriLogEntry {
  /** Nanoseconds since the epoch. */
  timestampNs: bigint;
  stream: LogStream;
  /** True for a `P` entry: the line continues in the next entry. */
  partial: boolean;
  /** The text, without the newline the container wrote (a `F` entry had one). */
  content: Buffer;
}

const SPACE = 0x20;

/** Parses one line of a CRI log file (without its trailing `\n`); undefined when malformed. */
export function parseCriLogLine(line: Buffer): CriLogEntry | undefined {
  const s1 = line.indexOf(SPACE);
  if (s1 <= 0) return undefined;
  const s2 = line.indexOf(SPACE, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const timestampNs = parseTimestampNs(line.toString('latin1', 0, s1));
  if (timestampNs === undefined) return undefined;
  // The tag field may carry several `:`-separated tags; only P/F is defined.
  const s3 = line.indexOf(SPACE, s2 + 1);
  const tagEnd = s3 < 0 ? line.length : s3;
  const tags = line.toString('latin1', s2 + 1, tagEnd).split(':');
  const content = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  return { timestampNs, stream, partial: tags[0] === 'P', content };
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 (with optional fraction up to nanoseconds) → nanoseconds since the epoch. */
export function parseTimestampNs(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(seconds) * 1_000_000n + fraction;
}

/** Nanoseconds since the epoch → `2006-01-02T15:04:05.000000000Z`, upstream kubelet's fixed-width output format. */
export function formatTimestampNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** One CRI log line for `content` (a writer of the format, for tests and tools). */
export function formatCriLogLine(at: Date | bigint, stream: LogStream, content: string, partial = false): string {
  const ns = typeof at === 'bigint' ? at : BigInt(at.getTime()) * 1_000_000n;
  return `${formatTimestampNs(ns)} ${stream} ${partial ? 'P' : 'F'} ${content}\n`;
}

/**
 * Reads a container's CRI log files as `kubectl logs` wants them: the
 * container's own text (optionally with timestamps), the last N lines, lines
 * since a time, at most N bytes, and — when following — new lines as they are
 * written, across a rotation of the live file, until the container stops.
 *
 * Unlike upstream's kubelet, which reads only the live file, rotated copies of
 * the same container instance are read too, so `--tail` and `--since` reach
 * back past a rotation.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { formatTimestampNs, parseCriLogLine } from './cri-log.js';

export interface LogReadOptions {
  /** Only the last N lines (counted in log entries); all when undefined. */
  tailLines?: number;
  /** Only entries at or after this time (nanoseconds since the epoch). */
  sinceNs?: bigint;
  /** Prefix each entry with its RFC 3339 timestamp. */
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Only this stream; both when undefined. */
  stream?: 'stdout' | 'stderr';
}

export interface FollowOptions {
  /** Asked when the live file has been idle; false ends the follow (the container stopped). */
  stillRunning(): Promise<boolean>;
  /** Ends the follow (the client went away). */
  signal: AbortSignal;
  /** How often to look for new data; 250 ms by default. */
  pollMs?: number;
  /** How long the file must be idle before `stillRunning` is asked again; 1 s by default. */
  runningCheckMs?: number;
}

const CHUNK = 64 * 1024;
const NL = 0x0a;

/** Why a read stopped early: the byte limit was reached or the client left. */
class Stop extends Error {}

/** Writes formatted entries to a sink, honouring back-pressure and limitBytes. */
class EntryWriter {
  private written = 0;
  constructor(private readonly sink: Writable, private readonly opts: LogReadOptions, private readonly signal?: AbortSignal) {}

  async line(raw: Buffer): Promise<void> {
    const entry = parseCriLogLine(raw);
    if (!entry) return; // a torn or foreign line: skip rather than fail the whole read
    if (this.opts.sinceNs !== undefined && entry.timestampNs < this.opts.sinceNs) return;
    if (this.opts.stream && entry.stream !== this.opts.stream) return;
    const parts: Buffer[] = [];
    if (this.opts.timestamps) parts.push(Buffer.from(`${formatTimestampNs(entry.timestampNs)} `));
    parts.push(entry.content);
    if (!entry.partial) parts.push(Buffer.from('\n'));
    let out = Buffer.concat(parts);
    const limit = this.opts.limitBytes;
    if (limit !== undefined && this.written + out.length >= limit) {
      out = out.subarray(0, limit - this.written);
      await this.write(out);
      throw new Stop();
    }
    await this.write(out);
  }

  private async write(buf: Buffer): Promise<void> {
    if (this.signal?.aborted || this.sink.destroyed) throw new Stop();
    this.written += buf.length;
    if (buf.length && !this.sink.write(buf)) {
      await Promise.race([once(this.sink, 'drain'), once(this.sink, 'close')]);
    }
  }
}

/**
 * Where the last `n` complete lines of `files` (oldest first) begin:
 * the index of the file and the byte offset in it.
 */
export async function findTailStart(files: string[], n: number): Promise<{ file: number; offset: number }> {
  let wanted = n;
  for (let i = files.length - 1; i >= 0; i--) {
    if (wanted <= 0) return { file: i + 1, offset: 0 };
    let fh: FileHandle;
    try { fh = await open(files[i], 'r'); } catch { continue; }
    try {
      const { size } = await fh.stat();
      // Newlines seen from the end; the first one ends the file's last complete line.
      let seen = 0;
      let end = size;
      let lastNewline = -1;
      const buf = Buffer.alloc(CHUNK);
      while (end > 0) {
        const start = Math.max(0, end - CHUNK);
        const { bytesRead } = await fh.read(buf, 0, end - start, start);
        for (let j = bytesRead - 1; j >= 0; j--) {
          if (buf[j] !== NL) continue;
          if (lastNewline < 0) { lastNewline = start + j; seen = 1; continue; }
          if (seen === wanted) return { file: i, offset: start + j + 1 };
          seen++;
        }
        end = start;
      }
      wanted -= lastNewline < 0 ? 0 : seen; // every complete line of this file is wanted
    } finally {
      await fh.close();
    }
  }
  return { file: 0, offset: 0 };
}

/** Streams complete lines of `fh` from `offset`; returns the offset after the last complete line. */
async function readLines(fh: FileHandle, offset: number, onLine: (line: Buffer) => Promise<void>): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  let pending: Buffer = Buffer.alloc(0);
  let pos = offset;
  let consumed = offset;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    let data = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    let from = 0;
    for (let nl = data.indexOf(NL, from); nl >= 0; nl = data.indexOf(NL, from)) {
      await onLine(data.subarray(from, nl));
      consumed += nl + 1 - from;
      from = nl + 1;
    }
    data = data.subarray(from);
    pending = Buffer.from(data); // the read buffer is reused: copy the unfinished line out
  }
  return consumed;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(done, ms);
  signal.addEventListener('abort', done, { once: true });
  function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
});

/**
 * Writes the log of one container instance — `files` are its rotated copies,
 * oldest first, then its live file — to `sink`. Resolves when done (or, when
 * following, when the container stops or the signal fires). Does not end the sink.
 */
export async function readContainerLogs(files: string[], opts: LogReadOptions, sink: Writable, follow?: FollowOptions): Promise<void> {
  const out = new EntryWriter(sink, opts, follow?.signal);
  const onLine = (line: Buffer) => out.line(line);
  let start = opts.tailLines !== undefined && opts.tailLines >= 0
    ? await findTailStart(files, opts.tailLines)
    : { file: 0, offset: 0 };
  // `--tail=0 -f`: nothing old, only what comes next.
  if (start.file >= files.length) start = { file: files.length - 1, offset: await stat(files[files.length - 1]).then((s) => s.size, () => 0) };
  const livePath = files[files.length - 1];
  try {
    // Rotated copies (and the live file, unless following) are read once to their end.
    const last = follow ? files.length - 1 : files.length;
    for (let i = start.file; i < last; i++) {
      const fh = await open(files[i], 'r').catch(() => undefined);
      if (!fh) continue;
      try { await readLines(fh, i === start.file ? start.offset : 0, onLine); } finally { await fh.close(); }
    }
    if (!follow) return;
    await followLive(livePath, start.file === files.length - 1 ? start.offset : 0, onLine, follow);
  } catch (err) {
    if (err instanceof Stop) return;
    throw err;
  }
}

/**
 * Follows the live file: reads what is appended; when the file is rotated
 * (renamed away and a new one opened at the same path) finishes the old one
 * through its open handle, then carries on with the new file from its start.
 */
async function followLive(path: string, offset: number, onLine: (line: Buffer) => Promise<void>, follow: FollowOptions): Promise<void> {
  const pollMs = follow.pollMs ?? 250;
  const checkMs = follow.runningCheckMs ?? 1000;
  let fh = await open(path, 'r').catch(() => undefined);
  let pos = offset;
  let idleSince = Date.now();
  try {
    for (;;) {
      if (follow.signal.aborted) return;
      if (fh) {
        const before = pos;
        pos = await readLines(fh, pos, onLine);
        if (pos !== before) idleSince = Date.now();
        // A rotated file: the path now names another file (or none yet).
        const [mine, current] = await Promise.all([fh.stat(), stat(path).catch(() => undefined)]);
        if (!current || current.ino !== mine.ino) {
          if (current) {
            pos = await readLines(fh, pos, onLine);
            await fh.close();
            fh = await open(path, 'r');
            pos = 0;
            continue;
          }
        } else if (current.size < pos) {
          pos = 0; // truncated in place
        }
      } else {
        fh = await open(path, 'r').catch(() => undefined);
      }
      if (Date.now() - idleSince >= checkMs) {
        if (!(await follow.stillRunning())) {
          if (fh) await readLines(fh, pos, onLine); // what it wrote before it stopped
          return;
        }
        idleSince = Date.now();
      }
      await sleep(pollMs, follow.signal);
    }
  } finally {
    await fh?.close();
  }
}

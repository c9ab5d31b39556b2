import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rename, rm, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { formatCriLogLine, formatTimestampNs, parseCriLogLine, parseTimestampNs } from './cri-log.js';
import { findTailStart, readContainerLogs, type LogReadOptions, type FollowOptions } from './read.js';
import { containerLogInstances, podLogsDirectory } from './paths.js';
import { ContainerLogManager } from './rotation.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bosun-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Collects what readContainerLogs writes. */
async function read(files: string[], opts: LogReadOptions = {}, follow?: FollowOptions): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  await readContainerLogs(files, opts, sink, follow);
  return Buffer.concat(chunks).toString();
}

const T0 = Date.parse('2026-01-02T03:04:05Z');
const at = (s: number) => new Date(T0 + s * 1000);
const lines = (from: number, to: number, stream: 'stdout' | 'stderr' = 'stdout') =>
  Array.from({ length: to - from + 1 }, (_, i) => formatCriLogLine(at(from + i), stream, `line ${from + i}`)).join('');

describe('CRI log lines', () => {
  it('parse full and partial entries with nanosecond timestamps', () => {
    const e = parseCriLogLine(Buffer.from('2016-10-06T00:17:09.669794202Z stdout F hello world'))!;
    assert.equal(e.stream, 'stdout');
    assert.equal(e.partial, false);
    assert.equal(e.content.toString(), 'hello world');
    assert.equal(e.timestampNs, BigInt(Date.parse('2016-10-06T00:17:09Z')) * 1_000_000n + 669794202n);
    const p = parseCriLogLine(Buffer.from('2016-10-06T00:17:09.6Z stderr P part'))!;
    assert.equal(p.partial, true);
    assert.equal(p.stream, 'stderr');
    assert.equal(p.timestampNs % 1_000_000_000n, 600_000_000n);
    assert.equal(parseCriLogLine(Buffer.from('2016-10-06T00:17:09Z stdout F '))!.content.length, 0);
  });

  it('reject malformed lines', () => {
    for (const bad of ['', 'garbage', 'notatime stdout F x', '2016-10-06T00:17:09Z stdin F x']) {
      assert.equal(parseCriLogLine(Buffer.from(bad)), undefined, bad);
    }
  });

  it('compare timestamps with trimmed fractions numerically and print them fixed-width', () => {
    assert.ok(parseTimestampNs('2016-10-06T00:17:09.1Z')! > parseTimestampNs('2016-10-06T00:17:09.09Z')!);
    assert.equal(parseTimestampNs('2016-10-06T02:17:09+02:00'), parseTimestampNs('2016-10-06T00:17:09Z'));
    assert.equal(formatTimestampNs(parseTimestampNs('2016-10-06T00:17:09.5Z')!), '2016-10-06T00:17:09.500000000Z');
  });
});

describe('reading container logs', () => {
  it('prints the text, joins partial entries, and adds timestamps on request', async (t) => {
    const dir = await tempDir(t);
    const f = join(dir, '0.log');
    await writeFile(f, formatCriLogLine(at(0), 'stdout', 'one') + formatCriLogLine(at(1), 'stderr', 'tw', true)
      + formatCriLogLine(at(2), 'stderr', 'o') + 'not a cri line\n' + formatCriLogLine(at(3), 'stdout', 'three'));
    assert.equal(await read([f]), 'one\ntwo\nthree\n');
    assert.equal(await read([f], { timestamps: true }).then((s) => s.split('\n')[0]), '2026-01-02T03:04:05.000000000Z one');
    assert.equal(await read([f], { stream: 'stderr' }), 'two\n');
  });

  it('tails the last N lines, also reaching into rotated copies', async (t) => {
    const dir = await tempDir(t);
    const old = join(dir, '0.log.20260102-030405'), live = join(dir, '0.log');
    await writeFile(old, lines(1, 5));
    await writeFile(live, lines(6, 8));
    assert.equal(await read([old, live], { tailLines: 2 }), 'line 7\nline 8\n');
    assert.equal(await read([old, live], { tailLines: 3 }), 'line 6\nline 7\nline 8\n');
    assert.equal(await read([old, live], { tailLines: 5 }), 'line 4\nline 5\nline 6\nline 7\nline 8\n');
    assert.equal(await read([old, live], { tailLines: 100 }), (await read([old, live])));
    assert.equal(await read([old, live], { tailLines: 0 }), '');
    assert.deepEqual(await findTailStart([old, live], 3), { file: 1, offset: 0 });
  });

  it('tails files larger than one read chunk', async (t) => {
    const dir = await tempDir(t);
    const f = join(dir, '0.log');
    await writeFile(f, lines(1, 5000));
    const out = await read([f], { tailLines: 1200 });
    const got = out.trimEnd().split('\n');
    assert.equal(got.length, 1200);
    assert.equal(got[0], 'line 3801');
    assert.equal(got.at(-1), 'line 5000');
  });

  it('keeps lines since a time and stops at limitBytes', async (t) => {
    const dir = await tempDir(t);
    const f = join(dir, '0.log');
    await writeFile(f, lines(0, 9));
    const since = BigInt(at(7).getTime()) * 1_000_000n;
    assert.equal(await read([f], { sinceNs: since }), 'line 7\nline 8\nline 9\n');
    assert.equal(await read([f], { limitBytes: 10 }), 'line 0\nlin');
    assert.equal(await read([f], { tailLines: 5, sinceNs: since }), 'line 7\nline 8\nline 9\n');
  });

  it('follows new lines across a rotation until the container stops', async (t) => {
    const dir = await tempDir(t);
    const live = join(dir, '0.log');
    await writeFile(live, lines(1, 2));
    let running = true;
    const abort = new AbortController();
    t.after(() => abort.abort());
    const sink = new PassThrough();
    let seen = '';
    sink.on('data', (c: Buffer) => { seen += c.toString(); });
    const done = readContainerLogs([live], { tailLines: 1 }, sink, {
      stillRunning: async () => running, signal: abort.signal, pollMs: 20, runningCheckMs: 100,
    });
    const until = async (text: string) => {
      for (let i = 0; i < 200 && !seen.includes(text); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(seen.includes(text), `saw ${JSON.stringify(seen)}`);
    };
    await until('line 2\n');
    assert.ok(!seen.includes('line 1'));
    await appendFile(live, lines(3, 3));
    await until('line 3\n');
    // Rotate: the old file gets one last line after the rename, the new one starts fresh.
    await rename(live, `${live}.20260102-030405`);
    await appendFile(`${live}.20260102-030405`, lines(4, 4));
    await writeFile(live, lines(5, 5));
    await until('line 5\n');
    running = false;
    await appendFile(live, lines(6, 6));
    await done;
    assert.equal(seen, 'line 2\nline 3\nline 4\nline 5\nline 6\n');
  });

  it('ends a follow when the client goes away', async (t) => {
    const dir = await tempDir(t);
    const live = join(dir, '0.log');
    await writeFile(live, lines(1, 1));
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 100);
    const out = await read([live], {}, { stillRunning: async () => true, signal: abort.signal, pollMs: 20 });
    assert.equal(out, 'line 1\n');
    assert.ok(Date.now() - started < 2000);
  });

  it('finds each instance of a container, newest first, with its rotated copies', async (t) => {
    const root = await tempDir(t);
    const pod = podLogsDirectory(root, 'default', 'web', 'uid-1');
    await mkdir(join(pod, 'app'), { recursive: true });
    for (const n of ['0.log', '1.log', '1.log.20260101-000000', '1.log.20260101-000100', 'junk']) await writeFile(join(pod, 'app', n), '');
    const found = await containerLogInstances(pod, 'app');
    assert.deepEqual(found.map((f) => f.restartCount), [1, 0]);
    assert.deepEqual(found[0].rotated.map((p) => p.split('/').pop()), ['1.log.20260101-000000', '1.log.20260101-000100']);
    assert.deepEqual(await containerLogInstances(pod, 'nope'), []);
  });
});

describe('container log rotation', () => {
  it('renames a big live log, asks the runtime to reopen it, and keeps maxFiles', async (t) => {
    const dir = await tempDir(t);
    const live = join(dir, '0.log');
    const reopened: string[] = [];
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const manager = new ContainerLogManager({
      maxSizeBytes: 100, maxFiles: 3,
      now: () => new Date(clock += 1000),
      runtime: {
        listContainers: async () => [{ id: 'c1' }],
        containerStatus: async () => ({ status: { logPath: live } }),
        // As containerd does: a new empty file at the same path.
        reopenContainerLog: async (id) => { reopened.push(id); await writeFile(live, ''); },
      },
    });
    await writeFile(live, lines(1, 1));
    await manager.rotateLogs();
    assert.deepEqual(reopened, [], 'small logs stay');
    for (let i = 0; i < 4; i++) {
      await writeFile(live, lines(10 * i, 10 * i + 4));
      await manager.rotateLogs();
    }
    assert.equal(reopened.length, 4);
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, ['0.log', '0.log.20260101-000003', '0.log.20260101-000004']);
    assert.equal((await stat(live)).size, 0);
    // What was rotated is still readable, oldest first.
    const out = await read([join(dir, names[1]), join(dir, names[2]), live], { tailLines: 2 });
    assert.equal(out, 'line 33\nline 34\n');
  });

  it('keeps copies in order when several rotations fall in one second', async (t) => {
    const dir = await tempDir(t);
    const live = join(dir, '0.log');
    const manager = new ContainerLogManager({
      maxSizeBytes: 100, maxFiles: 3, now: () => new Date('2026-01-01T00:00:00Z'),
      runtime: {
        listContainers: async () => [{ id: 'c1' }],
        containerStatus: async () => ({ status: { logPath: live } }),
        reopenContainerLog: async () => { await writeFile(live, ''); },
      },
    });
    for (let i = 0; i < 5; i++) {
      await writeFile(live, lines(10 * i, 10 * i + 4));
      await manager.rotateLogs();
    }
    await writeFile(live, lines(50, 50));
    const found = await containerLogInstances(dir, '');
    assert.deepEqual(found[0].rotated.map((p) => p.split('/').pop()), ['0.log.20260101-000000.3', '0.log.20260101-000000.4']);
    assert.equal(await read([...found[0].rotated, live], { tailLines: 3 }), 'line 43\nline 44\nline 50\n');
  });

  it('puts the file back when the runtime cannot reopen it', async (t) => {
    const dir = await tempDir(t);
    const live = join(dir, '0.log');
    await writeFile(live, lines(1, 20));
    const manager = new ContainerLogManager({
      maxSizeBytes: 10,
      runtime: {
        listContainers: async () => [{ id: 'c1' }],
        containerStatus: async () => ({ status: { logPath: live } }),
        reopenContainerLog: async () => { throw new Error('container is not running'); },
      },
    });
    await assert.rejects(manager.rotateContainer('c1'), /not running/);
    assert.deepEqual(await readdir(dir), ['0.log']);
  });
});

import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, basename } from 'node:path';
import type { Etcd3 } from 'etcd3';
import Database from 'better-sqlite3';

const run = promisify(execFile);

/** k3s' default snapshot directory: `<data-dir>/server/db/snapshots`. */
export const defaultSnapshotDir = (dataDir: string): string => join(dataDir, 'server', 'db', 'snapshots');

/** k3s' naming: `<name>-<node>-<unix seconds>`; the default name is `etcd-snapshot`. */
export const snapshotFileName = (name: string, node: string, when = new Date()): string =>
  `${name}-${node}-${Math.floor(when.getTime() / 1000)}`;

export interface SnapshotFile { name: string; path: string; size: number; created: Date }

/** Streams a point-in-time copy of the etcd keyspace (etcd's Maintenance.Snapshot) to `file`. */
export async function saveEtcdSnapshot(client: Etcd3, file: string): Promise<void> {
  const tmp = `${file}.part`;
  const out = createWriteStream(tmp, { mode: 0o600 });
  try {
    const stream = await client.maintenance.snapshot();
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk) => { if (chunk.blob?.length) out.write(chunk.blob); });
      stream.on('error', reject);
      stream.on('end', () => resolve());
    });
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await rename(tmp, file);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A consistent copy of the SQLite database, taken while the server runs (SQLite's online backup). */
export async function saveSqliteSnapshot(dbPath: string, file: string): Promise<void> {
  if (!existsSync(dbPath)) throw new Error(`no SQLite database at ${dbPath}`);
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    await db.backup(`${file}.part`);
  } finally {
    db.close();
  }
  await rename(`${file}.part`, file);
}

/** Replaces the SQLite database with a snapshot; the server must be stopped. */
export async function restoreSqliteSnapshot(snapshot: string, dbPath: string): Promise<void> {
  await mkdir(join(dbPath, '..'), { recursive: true });
  await run('cp', ['--', snapshot, `${dbPath}.restore`]);
  for (const suffix of ['-wal', '-shm']) await rm(`${dbPath}${suffix}`, { force: true });
  await rename(`${dbPath}.restore`, dbPath);
}

/**
 * Rebuilds an etcd data dir from a snapshot as a new one-member cluster
 * (`etcdctl snapshot restore`), moving any old data dir aside, as k3s'
 * `--cluster-reset --cluster-reset-restore-path` does.
 */
export async function restoreEtcdSnapshot(snapshot: string, etcdDataDir: string, name: string, peerURL: string): Promise<string | undefined> {
  let movedTo: string | undefined;
  if (existsSync(etcdDataDir)) {
    movedTo = `${etcdDataDir}-old-${Math.floor(Date.now() / 1000)}`;
    await rename(etcdDataDir, movedTo);
  }
  await mkdir(join(etcdDataDir, '..'), { recursive: true });
  await run(process.env.ETCDCTL_BIN ?? 'etcdctl', [
    'snapshot', 'restore', snapshot,
    '--name', name, '--data-dir', etcdDataDir,
    '--initial-cluster', `${name}=${peerURL}`, '--initial-advertise-peer-urls', peerURL,
    '--initial-cluster-token', 'bosun-etcd',
  ], { env: { ...process.env, ETCDCTL_API: '3' } });
  return movedTo;
}

export async function listSnapshots(dir: string): Promise<SnapshotFile[]> {
  if (!existsSync(dir)) return [];
  const out: SnapshotFile[] = [];
  for (const entry of await readdir(dir)) {
    if (entry.endsWith('.part')) continue;
    const path = join(dir, entry);
    const s = await stat(path);
    if (s.isFile()) out.push({ name: entry, path, size: s.size, created: s.mtime });
  }
  return out.sort((a, b) => a.created.getTime() - b.created.getTime() || a.name.localeCompare(b.name));
}

/** Deletes the oldest snapshots whose name starts with `prefix` beyond the newest `retention`. */
export async function pruneSnapshots(dir: string, prefix: string, retention: number): Promise<string[]> {
  const mine = (await listSnapshots(dir)).filter((s) => s.name.startsWith(`${prefix}-`));
  const excess = mine.slice(0, Math.max(0, mine.length - retention));
  for (const s of excess) await rm(s.path, { force: true });
  return excess.map((s) => s.name);
}

/** Deletes the named snapshots (a bare name is looked up in `dir`). */
export async function deleteSnapshots(dir: string, names: string[]): Promise<void> {
  for (const n of names) {
    const path = n.includes('/') ? n : join(dir, basename(n));
    if (!existsSync(path)) throw new Error(`snapshot ${n} not found`);
    await rm(path);
  }
}

import { mkdir, readdir, readlink, rename, rm, symlink, writeFile, lstat, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface VolumeFile { path: string; data: Buffer; mode: number }

/**
 * Writes a set of files into `dir` the way upstream's AtomicWriter does, so a
 * container reading the volume never sees half an update: the files go into a
 * fresh `..<timestamp>` directory, `..data` is swapped to it with one rename,
 * and each visible name is a symlink through `..data`. Unchanged content is
 * not rewritten. Returns true when something changed.
 */
export async function writeAtomically(dir: string, files: VolumeFile[]): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  const dataLink = join(dir, '..data');
  const current = await readlink(dataLink).catch(() => undefined);
  if (current && await sameContent(join(dir, current), files)) return false;

  const version = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${process.hrtime.bigint() % 1_000_000n}`;
  const versionDir = join(dir, version);
  await mkdir(versionDir, { recursive: true });
  for (const f of files) {
    const target = join(versionDir, f.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.data, { mode: f.mode });
  }
  const tmpLink = join(dir, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(version, tmpLink);
  await rename(tmpLink, dataLink);

  // Visible names: one symlink per top-level path, through ..data.
  const wanted = new Set(files.map((f) => f.path.split('/')[0]));
  for (const top of wanted) {
    const link = join(dir, top);
    const st = await lstat(link).catch(() => undefined);
    if (st?.isSymbolicLink()) continue;
    if (st) await rm(link, { recursive: true, force: true });
    await symlink(join('..data', top), link);
  }
  for (const entry of await readdir(dir)) {
    if (entry === '..data' || entry === version) continue;
    if (entry.startsWith('..') || !wanted.has(entry)) await rm(join(dir, entry), { recursive: true, force: true });
  }
  return true;
}

async function sameContent(versionDir: string, files: VolumeFile[]): Promise<boolean> {
  try {
    const present = await listFiles(versionDir);
    if (present.length !== files.length) return false;
    for (const f of files) {
      const data = await readFile(join(versionDir, f.path));
      if (!data.equals(f.data)) return false;
      const mode = (await lstat(join(versionDir, f.path))).mode & 0o777;
      if (mode !== (f.mode & 0o777)) return false;
    }
    return true;
  } catch { return false; }
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...await listFiles(join(dir, e.name), `${prefix}${e.name}/`));
    else out.push(prefix + e.name);
  }
  return out;
}

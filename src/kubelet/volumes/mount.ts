import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Mount points at or below `dir`, deepest first (for unmounting). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = text.split('\n').map((l) => l.split(' ')[4]).filter((p): p is string => !!p)
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export async function isMountPoint(dir: string): Promise<boolean> {
  return (await mountsUnder(dir)).includes(dir);
}

/** Unmounts everything at or below `dir` (tmpfs emptyDirs) so the tree can be removed. */
export async function unmountAll(dir: string): Promise<void> {
  for (const p of await mountsUnder(dir)) await run('umount', [p]).catch(() => run('umount', ['-l', p]));
}

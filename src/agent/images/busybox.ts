/**
 * A root filesystem made of the host's static busybox (Debian `busybox-static`):
 * the binary, a symlink per applet, and the few directories and files that
 * programs expect (/tmp, /etc/passwd and /etc/group with root and nobody, …).
 * No network needed, so every node can build its own images.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { TarEntry } from './tar.js';

export const BUSYBOX_BINARY = '/usr/bin/busybox';

export async function busyboxRootfs(binary = BUSYBOX_BINARY): Promise<TarEntry[]> {
  const data = await readFile(binary);
  const { stdout } = await promisify(execFile)(binary, ['--list-full']);
  const applets = stdout.split('\n').map((l) => l.trim()).filter((l) => l && l !== 'bin/busybox' && !l.startsWith('/'));

  const dirs = new Set<string>(['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home', 'var', 'var/www', 'dev', 'proc', 'sys', 'run']);
  for (const a of applets) {
    const parts = a.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: TarEntry[] = [...dirs].sort().map((name) => ({ name, type: 'dir', mode: name === 'root' ? 0o700 : 0o755 }));
  entries.push({ name: 'tmp', type: 'dir', mode: 0o1777 });
  entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, data });
  for (const a of applets.sort()) entries.push({ name: a, type: 'symlink', linkname: '/bin/busybox' });
  const text = (name: string, body: string, mode = 0o644): TarEntry => ({ name, type: 'file', mode, data: Buffer.from(body) });
  entries.push(
    text('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'),
    text('etc/group', 'root:x:0:\nnobody:x:65534:\n'),
    // Files that the runtime bind-mounts over exist so the mounts need no mkdir.
    text('etc/hosts', '127.0.0.1\tlocalhost\n'),
    text('etc/hostname', ''),
    text('etc/resolv.conf', ''),
  );
  return entries;
}

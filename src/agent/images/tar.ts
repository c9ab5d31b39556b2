/**
 * A minimal ustar writer and reader: enough for image layers and OCI layout
 * archives (regular files, directories, symlinks; names up to 255 bytes).
 * Written here instead of pulling a tar package because images are built on
 * every node start and must be byte-for-byte reproducible (fixed mtimes and
 * owners) so that their digests are stable.
 */

export interface TarEntry {
  /** Path inside the archive, without a leading slash; directories may end in '/'. */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode?: number;
  uid?: number;
  gid?: number;
  /** For files. */
  data?: Buffer;
  /** For symlinks. */
  linkname?: string;
  mtime?: number;
}

const BLOCK = 512;

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: "${value}" does not fit in ${length} bytes`);
  bytes.copy(buf, offset);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits then NUL, as GNU tar and Go's archive/tar write it.
  writeString(buf, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

/** Splits a long name into ustar's prefix (155) and name (100) fields. */
function splitName(name: string): [prefix: string, name: string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) return [prefix, rest];
  }
  throw new Error(`tar: name too long: ${name}`);
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const name = e.type === 'dir' && !e.name.endsWith('/') ? e.name + '/' : e.name;
  const [prefix, short] = splitName(name);
  writeString(h, 0, 100, short);
  writeOctal(h, 100, 8, e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644));
  writeOctal(h, 108, 8, e.uid ?? 0);
  writeOctal(h, 116, 8, e.gid ?? 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, e.mtime ?? 0);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h.write(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156, 'latin1');
  if (e.linkname) writeString(h, 157, 100, e.linkname);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** Serialises entries, in the given order, into one tar archive. */
export function writeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(header(e, data.length));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function readString(buf: Buffer, offset: number, length: number): string {
  const slice = buf.subarray(offset, offset + length);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? length : nul).toString('utf8');
}

/** Reads the regular files, directories and symlinks of a ustar/GNU archive (no PAX long names). */
export function readTar(archive: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  while (off + BLOCK <= archive.length) {
    const h = archive.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const name = readString(h, 0, 100);
    const prefix = readString(h, 345, 155);
    const size = parseInt(readString(h, 124, 12).trim() || '0', 8);
    const flag = String.fromCharCode(h[156] ?? 0x30);
    const full = (prefix ? `${prefix}/${name}` : name).replace(/^\.\//, '');
    off += BLOCK;
    const data = archive.subarray(off, off + size);
    off += Math.ceil(size / BLOCK) * BLOCK;
    const mode = parseInt(readString(h, 100, 8).trim() || '0', 8);
    if (flag === '0' || flag === '\0') out.push({ name: full, type: 'file', mode, data: Buffer.from(data) });
    else if (flag === '5') out.push({ name: full.replace(/\/$/, ''), type: 'dir', mode });
    else if (flag === '2') out.push({ name: full, type: 'symlink', mode, linkname: readString(h, 157, 100) });
  }
  return out;
}

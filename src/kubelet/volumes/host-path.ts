import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Volume } from 'kubernetes-types/core/v1';
import { VolumeError, type VolumePlugin } from './types.js';

/** hostPath: the node's own path, checked or created according to `type`. */
export const hostPath: VolumePlugin = {
  handles: (v: Volume) => v.hostPath !== undefined,
  async setUp(v) {
    const path = v.hostPath!.path;
    const type = v.hostPath!.type ?? '';
    const st = await stat(path).catch(() => undefined);
    switch (type) {
      case 'DirectoryOrCreate':
        if (!st) await mkdir(path, { recursive: true, mode: 0o755 });
        else if (!st.isDirectory()) throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
        break;
      case 'FileOrCreate':
        if (!st) { await mkdir(dirname(path), { recursive: true }); await writeFile(path, '', { mode: 0o644 }); }
        else if (!st.isFile()) throw new VolumeError(`hostPath type check failed: ${path} is not a file`);
        break;
      case 'Directory': if (!st?.isDirectory()) throw new VolumeError(`hostPath type check failed: ${path} is not a directory`); break;
      case 'File': if (!st?.isFile()) throw new VolumeError(`hostPath type check failed: ${path} is not a file`); break;
      case 'Socket': if (!st?.isSocket()) throw new VolumeError(`hostPath type check failed: ${path} is not a socket file`); break;
      case 'CharDevice': if (!st?.isCharacterDevice()) throw new VolumeError(`hostPath type check failed: ${path} is not a character device`); break;
      case 'BlockDevice': if (!st?.isBlockDevice()) throw new VolumeError(`hostPath type check failed: ${path} is not a block device`); break;
      default: break;
    }
    return path;
  },
};

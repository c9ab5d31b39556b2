import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Volume } from 'kubernetes-types/core/v1';
import { isMountPoint, run } from './mount.js';
import type { VolumeContext, VolumePlugin } from './types.js';

/** emptyDir: a directory under the pod's dir; medium Memory makes it a tmpfs (sizeLimit as its size). */
export const emptyDir: VolumePlugin = {
  handles: (v: Volume) => v.emptyDir !== undefined,
  async setUp(v, ctx: VolumeContext) {
    const dir = join(ctx.volumesDir, 'kubernetes.io~empty-dir', v.name);
    await mkdir(dir, { recursive: true, mode: 0o777 });
    if (v.emptyDir?.medium === 'Memory' && !await isMountPoint(dir)) {
      const size = v.emptyDir.sizeLimit !== undefined ? [`-o`, `size=${String(v.emptyDir.sizeLimit).replace(/i$/, '')}`] : [];
      await run('mount', ['-t', 'tmpfs', ...size, 'tmpfs', dir]);
    }
    return dir;
  },
};

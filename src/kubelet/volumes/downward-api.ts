import { join } from 'node:path';
import type { Volume } from 'kubernetes-types/core/v1';
import { writeAtomically } from './atomic-writer.js';
import { downwardFiles } from './projection.js';
import type { VolumePlugin } from './types.js';

/** downwardAPI: pod fields and container resources as files; labels and annotations follow the pod. */
export const downwardAPI: VolumePlugin = {
  handles: (v: Volume) => v.downwardAPI !== undefined,
  async setUp(v, ctx) {
    const dir = join(ctx.volumesDir, 'kubernetes.io~downward-api', v.name);
    await writeAtomically(dir, downwardFiles(v.downwardAPI!.items, v.downwardAPI!.defaultMode ?? 0o644, ctx));
    return dir;
  },
};

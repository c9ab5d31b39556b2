import { join } from 'node:path';
import type { Volume } from 'kubernetes-types/core/v1';
import { writeAtomically } from './atomic-writer.js';
import { objectFiles } from './projection.js';
import type { VolumePlugin } from './types.js';

/** secret: its decoded keys (or items) as files, 0644 unless defaultMode/mode say otherwise; rewritten when it changes. */
export const secret: VolumePlugin = {
  handles: (v: Volume) => v.secret !== undefined,
  async setUp(v, ctx) {
    const src = v.secret!;
    const dir = join(ctx.volumesDir, 'kubernetes.io~secret', v.name);
    await writeAtomically(dir, await objectFiles('secret', src.secretName ?? '', src.items, src.defaultMode ?? 0o644, !!src.optional, ctx));
    return dir;
  },
};

import { join } from 'node:path';
import type { Volume } from 'kubernetes-types/core/v1';
import { writeAtomically } from './atomic-writer.js';
import { objectFiles } from './projection.js';
import type { VolumePlugin } from './types.js';

/** configMap: its keys (or items) as files, 0644 unless defaultMode/mode say otherwise; rewritten when it changes. */
export const configMap: VolumePlugin = {
  handles: (v: Volume) => v.configMap !== undefined,
  async setUp(v, ctx) {
    const src = v.configMap!;
    const dir = join(ctx.volumesDir, 'kubernetes.io~configmap', v.name);
    await writeAtomically(dir, await objectFiles('configmap', src.name ?? '', src.items, src.defaultMode ?? 0o644, !!src.optional, ctx));
    return dir;
  },
};

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Volume } from 'kubernetes-types/core/v1';
import { writeAtomically } from './atomic-writer.js';
import { isMountPoint, run } from './mount.js';
import { objectFiles } from './projection.js';
import type { VolumePlugin } from './types.js';

/** A tmpfs for the volume, as upstream: secret data never lands on the node's disk. */
export async function memoryBacked(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (!await isMountPoint(dir)) await run('mount', ['-t', 'tmpfs', '-o', 'mode=0755,size=64m', 'tmpfs', dir]);
}

/** secret: its decoded keys (or items) as files on a tmpfs, 0644 unless defaultMode/mode say otherwise; rewritten when it changes. */
export const secret: VolumePlugin = {
  handles: (v: Volume) => v.secret !== undefined,
  async setUp(v, ctx) {
    const src = v.secret!;
    const dir = join(ctx.volumesDir, 'kubernetes.io~secret', v.name);
    await memoryBacked(dir);
    await writeAtomically(dir, await objectFiles('secret', src.secretName ?? '', src.items, src.defaultMode ?? 0o644, !!src.optional, ctx));
    return dir;
  },
};

import { join } from 'node:path';
import type { Volume } from 'kubernetes-types/core/v1';
import { writeAtomically, type VolumeFile } from './atomic-writer.js';
import { downwardFiles, objectFiles } from './projection.js';
import { memoryBacked } from './secret.js';
import type { VolumePlugin } from './types.js';

/**
 * projected: configMap, secret and downwardAPI sources merged into one
 * directory. serviceAccountToken sources are skipped (bosun's kubelet does not
 * request tokens yet).
 */
export const projected: VolumePlugin = {
  handles: (v: Volume) => v.projected !== undefined,
  async setUp(v, ctx) {
    const mode = v.projected!.defaultMode ?? 0o644;
    const files: VolumeFile[] = [];
    for (const s of v.projected!.sources ?? []) {
      if (s.configMap) files.push(...await objectFiles('configmap', s.configMap.name ?? '', s.configMap.items, mode, !!s.configMap.optional, ctx));
      if (s.secret) files.push(...await objectFiles('secret', s.secret.name ?? '', s.secret.items, mode, !!s.secret.optional, ctx));
      if (s.downwardAPI) files.push(...downwardFiles(s.downwardAPI.items, mode, ctx));
    }
    const dir = join(ctx.volumesDir, 'kubernetes.io~projected', v.name);
    if (v.projected!.sources?.some((s) => s.secret)) await memoryBacked(dir);
    await writeAtomically(dir, files);
    return dir;
  },
};

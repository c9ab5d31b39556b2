import { rm } from 'node:fs/promises';
import type { Volume } from 'kubernetes-types/core/v1';
import { configMap } from './config-map.js';
import { downwardAPI } from './downward-api.js';
import { emptyDir } from './empty-dir.js';
import { hostPath } from './host-path.js';
import { unmountAll } from './mount.js';
import { projected } from './projected.js';
import { secret } from './secret.js';
import { VolumeError, type VolumeContext, type VolumePlugin } from './types.js';

export { VolumeError, type VolumeContext } from './types.js';

const PLUGINS: VolumePlugin[] = [emptyDir, configMap, secret, hostPath, downwardAPI, projected];

/** Sets up every volume of the pod; returns volume name → host path. */
export async function setUpVolumes(ctx: VolumeContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const v of ctx.pod.spec?.volumes ?? []) {
    const plugin = PLUGINS.find((p) => p.handles(v));
    if (!plugin) throw new VolumeError(`volume "${v.name}": ${volumeKind(v)} volumes are not supported by bosun's kubelet`);
    try {
      out.set(v.name, await plugin.setUp(v, ctx));
    } catch (err) {
      throw new VolumeError(`MountVolume.SetUp failed for volume "${v.name}" : ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

/** Unmounts (tmpfs) and removes the pod's directory. */
export async function tearDownPodDir(podDir: string): Promise<void> {
  await unmountAll(podDir);
  await rm(podDir, { recursive: true, force: true });
}

function volumeKind(v: Volume): string {
  return Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
}

import type { DownwardAPIVolumeFile, KeyToPath } from 'kubernetes-types/core/v1';
import { objectData } from '../object-cache.js';
import { podFieldValue, resourceFieldValue } from '../field-path.js';
import type { VolumeFile } from './atomic-writer.js';
import { VolumeError, type VolumeContext } from './types.js';

/** The files of a configMap or secret source: all keys, or the listed items (a missing key is an error unless optional). */
export async function objectFiles(
  kind: 'configmap' | 'secret', name: string, items: KeyToPath[] | undefined, defaultMode: number, optional: boolean, ctx: VolumeContext,
): Promise<VolumeFile[]> {
  const ns = ctx.pod.metadata?.namespace ?? 'default';
  const obj = kind === 'configmap' ? await ctx.objects.configMap(ns, name) : await ctx.objects.secret(ns, name);
  if (!obj) {
    if (optional) return [];
    throw new VolumeError(`${kind} "${name}" not found`);
  }
  const data = objectData(obj);
  if (!items?.length) return [...data].map(([k, v]) => ({ path: k, data: v, mode: defaultMode }));
  const out: VolumeFile[] = [];
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeError(`configmap references non-existent config key: ${item.key}`.replace('configmap', kind));
    }
    out.push({ path: safePath(item.path), data: v, mode: item.mode ?? defaultMode });
  }
  return out;
}

export function downwardFiles(items: DownwardAPIVolumeFile[] | undefined, defaultMode: number, ctx: VolumeContext): VolumeFile[] {
  const out: VolumeFile[] = [];
  for (const item of items ?? []) {
    let value = '';
    if (item.fieldRef) {
      const v = podFieldValue(ctx.pod, item.fieldRef, ctx.facts);
      if (v === undefined) throw new VolumeError(`unsupported fieldRef "${item.fieldRef.fieldPath}"`);
      value = v;
    } else if (item.resourceFieldRef) {
      const c = [...(ctx.pod.spec?.containers ?? []), ...(ctx.pod.spec?.initContainers ?? [])]
        .find((x) => x.name === item.resourceFieldRef!.containerName) ?? ctx.pod.spec?.containers?.[0];
      value = resourceFieldValue(c, item.resourceFieldRef, ctx.allocatable);
    }
    out.push({ path: safePath(item.path), data: Buffer.from(value), mode: item.mode ?? defaultMode });
  }
  return out;
}

/** Item paths are relative and may not climb out (validation says so too; the kubelet does not trust it). */
function safePath(p: string): string {
  if (p.startsWith('/') || p.split('/').includes('..')) throw new VolumeError(`invalid path "${p}": must be relative and may not contain '..'`);
  return p;
}

import type { ContainerStatus as CriContainerStatus, PodSandbox } from './cri/types.js';
import type { CriClient } from './cri/client.js';
import { CONTAINER_KIND_ANNOTATION, POD_UID_LABEL } from './labels.js';
import type { ContainerKind } from './container-config.js';

/** One container instance as the runtime reports it. */
export interface ContainerInstance {
  id: string;
  name: string;
  attempt: number;
  sandboxId: string;
  kind: ContainerKind;
  /** Absent for the older instances that are only kept to be removed. */
  status?: CriContainerStatus;
}

/** What the runtime has for one pod: its sandboxes (newest first) and, per container name, its instances (newest first). */
export interface PodRuntime {
  sandboxes: PodSandbox[];
  containers: Map<string, ContainerInstance[]>;
}

/**
 * Reads a pod's sandboxes and containers from the runtime by its UID label.
 * Only the two newest instances per container name get a full status (the
 * current one and the one `kubectl logs -p` and lastState show).
 */
export async function observePod(runtime: CriClient, uid: string): Promise<PodRuntime> {
  const selector = { labelSelector: { [POD_UID_LABEL]: uid } };
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandbox(selector), runtime.listContainers(selector)]);
  sandboxes.sort((a, b) => (BigInt(b.createdAt) > BigInt(a.createdAt) ? 1 : -1));
  const byName = new Map<string, typeof containers>();
  for (const c of containers) {
    const list = byName.get(c.metadata.name) ?? [];
    list.push(c);
    byName.set(c.metadata.name, list);
  }
  const out = new Map<string, ContainerInstance[]>();
  await Promise.all([...byName].map(async ([name, list]) => {
    list.sort((a, b) => (b.metadata.attempt ?? 0) - (a.metadata.attempt ?? 0) || (BigInt(b.createdAt) > BigInt(a.createdAt) ? 1 : -1));
    const instances: ContainerInstance[] = [];
    for (const c of list.slice(0, 2)) {
      const status = await runtime.containerStatus(c.id).then((r) => r.status).catch(() => undefined);
      if (!status) continue;
      instances.push({
        id: c.id, name, attempt: c.metadata.attempt ?? 0, sandboxId: c.podSandboxId,
        kind: (c.annotations[CONTAINER_KIND_ANNOTATION] as ContainerKind | undefined) ?? 'regular', status,
      });
    }
    // Older instances are kept as ids only, for removal.
    for (const c of list.slice(2)) instances.push({ id: c.id, name, attempt: c.metadata.attempt ?? 0, sandboxId: c.podSandboxId, kind: 'regular' });
    out.set(name, instances);
  }));
  return { sandboxes, containers: out };
}

export const nanosToMs = (n: string | undefined): number => (n && n !== '0' ? Number(BigInt(n) / 1_000_000n) : 0);
export const nanosToTime = (n: string | undefined): string | undefined => {
  const ms = nanosToMs(n);
  return ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
};

/**
 * Finds a pod's sandbox and containers in the runtime by the pod's UID and the
 * container's name — the CRI metadata every sandbox and container carries —
 * so the server needs no state of the pod workers.
 */
import type { CriClient, Container, PodSandbox } from '../cri/client.js';

export type ContainerLookupRuntime = Pick<CriClient, 'listPodSandbox' | 'listContainers'>;

const newestFirst = <T extends { createdAt: string }>(a: T, b: T) => Number(BigInt(b.createdAt || '0') - BigInt(a.createdAt || '0'));

/** The pod's sandbox: the ready one if any, else the newest. */
export async function findSandbox(runtime: ContainerLookupRuntime, podUid: string): Promise<PodSandbox | undefined> {
  const sandboxes = (await runtime.listPodSandbox({})).filter((s) => s.metadata.uid === podUid).sort(newestFirst);
  return sandboxes.find((s) => s.state === 'SANDBOX_READY') ?? sandboxes[0];
}

/** The named container of the pod: a running instance if any, else the newest attempt. */
export async function findContainer(runtime: ContainerLookupRuntime, podUid: string, containerName: string): Promise<Container | undefined> {
  const sandbox = await findSandbox(runtime, podUid);
  if (!sandbox) return undefined;
  const instances = (await runtime.listContainers({ podSandboxId: sandbox.id }))
    .filter((c) => c.metadata.name === containerName)
    .sort((a, b) => (b.metadata.attempt ?? 0) - (a.metadata.attempt ?? 0) || newestFirst(a, b));
  return instances.find((c) => c.state === 'CONTAINER_RUNNING') ?? instances[0];
}

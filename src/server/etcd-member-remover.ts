import type { Node } from 'kubernetes-types/core/v1';
import type { Client } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { nodes } from '../client/resources.js';
import type { EmbeddedEtcd } from './embedded-etcd.js';

/** Names the etcd member of the server running on a Node (k3s has `etcd.k3s.cattle.io/node-name`). */
export const ETCD_MEMBER_ANNOTATION = 'etcd.bosun.io/member-name';

/**
 * Deleting a server's Node removes its etcd member, as k3s does: each server
 * watches Nodes and removes the member a deleted Node names (another server
 * may have done it first; that is fine).
 */
export function runEtcdMemberRemover(client: Client, etcd: EmbeddedEtcd, signal: AbortSignal, log: (m: string) => void): void {
  const informer = new Informer<Node>(client, nodes, { log: (m) => log(`etcd member remover: ${m}`) });
  informer.onDelete((node) => {
    const member = node.metadata?.annotations?.[ETCD_MEMBER_ANNOTATION];
    if (!member || member === etcd.name) return;
    etcd.removeMember(member).then(
      (removed) => { if (removed) log(`etcd: removed member ${member} of deleted node ${node.metadata?.name ?? ''}`); },
      (err: unknown) => log(`etcd: removing member ${member}: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
  informer.start(signal);
}

/**
 * Marks this server's Node with its etcd member name, so that deleting the
 * Node removes the member. For the server's embedded agent, once its Node is
 * registered; retried until the Node exists or `signal` aborts.
 */
export async function annotateServerNode(client: Client, nodeName: string, memberName: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await client.patch(nodes, undefined, nodeName, { metadata: { annotations: { [ETCD_MEMBER_ANNOTATION]: memberName } } }, 'merge-patch', { signal });
      return;
    } catch {
      if (!signal.aborted) await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

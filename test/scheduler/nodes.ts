/** Node objects straight through the API, as a kubelet would register them (no heartbeats). */
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { Client } from '../../src/client/client.js';
import { nodes, pods } from '../../src/client/resources.js';

export interface NodeSpecOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: NonNullable<Node['spec']>['taints'];
  unschedulable?: boolean;
  extended?: Record<string, string>;
  images?: Array<{ names: string[]; sizeBytes: number }>;
}

export function makeNode(name: string, o: NodeSpecOpts = {}): Node {
  const resources = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', 'ephemeral-storage': '100Gi', ...(o.extended ?? {}) };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(o.labels ?? {}) } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: resources, allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      ...(o.images ? { images: o.images } : {}),
    },
  };
}

/** Creates the node and writes its status (create drops status, as upstream). */
export async function createNode(client: Client, name: string, o: NodeSpecOpts = {}): Promise<Node> {
  const node = makeNode(name, o);
  const created = await client.create(nodes, node);
  if (!created.status?.allocatable) {
    return client.patch(nodes, undefined, name, { status: node.status }, 'merge-patch', { subresource: 'status' });
  }
  return created;
}

export function makePod(name: string, o: { cpu?: string; memory?: string; labels?: Record<string, string>; namespace?: string; spec?: Partial<NonNullable<Pod['spec']>> } = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? {} },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', resources: { requests } }], ...(o.spec ?? {}) },
  };
}

/** Polls until `fn` returns a value (not undefined) or the timeout passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function boundNode(client: Client, ns: string, name: string): Promise<string | undefined> {
  const p = await client.get(pods, ns, name);
  return p.spec?.nodeName || undefined;
}

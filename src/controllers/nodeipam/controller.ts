import type { Node } from 'kubernetes-types/core/v1';
import { WorkQueue, isNotFound, nodes, type Client, type InformerFactory, type Lister } from '../../client/index.js';
import { cidrSize, cidrString, parseCidr, type Cidr } from '../../api/cidr.js';

export interface NodeIpamOptions {
  /** --cluster-cidr: the pod range every node's /`nodeCidrMaskSize` comes from (10.42.0.0/16). */
  clusterCidr?: string;
  /** --node-cidr-mask-size (24). */
  nodeCidrMaskSize?: number;
  log?: (m: string) => void;
}

/**
 * Upstream's node IPAM controller (range allocator): gives every node
 * without one a `spec.podCIDR` out of the cluster CIDR. The agent writes its
 * CNI config from it, so pods on different nodes never share an address.
 * Which ranges are taken is learned from the Nodes themselves, so a restart
 * or a second controller-manager never hands one out twice.
 */
export class NodeIpamController {
  private readonly queue: WorkQueue<string>;
  private readonly nodes: Lister<Node>;
  private readonly cluster: Cidr;
  private readonly maskSize: number;
  private readonly log: (m: string) => void;
  /** Ranges handed out by this controller whose Node update the informer has not shown yet. */
  private readonly pending = new Map<number, string>();

  constructor(private readonly client: Client, informers: InformerFactory, opts: NodeIpamOptions = {}) {
    this.cluster = parseCidr(opts.clusterCidr ?? '10.42.0.0/16');
    this.maskSize = opts.nodeCidrMaskSize ?? 24;
    if (this.maskSize < this.cluster.prefix || this.maskSize > 30) {
      throw new Error(`--node-cidr-mask-size ${this.maskSize} does not fit --cluster-cidr ${cidrString(this.cluster)}`);
    }
    this.log = opts.log ?? ((m: string) => console.error(m));
    this.queue = new WorkQueue<string>({ name: 'nodeipam', onError: (key, err) => this.log(`node-ipam-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
    const informer = informers.for(nodes);
    this.nodes = informer.lister();
    informer.onAdd((node) => { if (!node.spec?.podCIDR) this.queue.add(node.metadata!.name!); });
    informer.onUpdate((_old, node) => { if (!node.spec?.podCIDR) this.queue.add(node.metadata!.name!); });
  }

  run(signal: AbortSignal): Promise<void> {
    for (const node of this.nodes.list()) if (!node.spec?.podCIDR) this.queue.add(node.metadata!.name!);
    // One worker: allocation must see its own previous decision.
    return this.queue.process(1, (name) => this.sync(name), signal);
  }

  async sync(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node || node.spec?.podCIDR) return;
    const cidr = this.nextFree();
    if (!cidr) {
      this.log(`node-ipam-controller: no pod CIDR left in ${cidrString(this.cluster)} for node ${name}`);
      return;
    }
    this.pending.set(cidr.base, name);
    try {
      const text = cidrString(cidr);
      // A merge patch on spec only: the API server still refuses to change a podCIDR once set.
      await this.client.patch(nodes, undefined, name, { spec: { podCIDR: text, podCIDRs: [text] } }, 'merge-patch');
      this.log(`node-ipam-controller: node ${name}: podCIDR ${text}`);
    } catch (err) {
      this.pending.delete(cidr.base);
      if (isNotFound(err)) return;
      throw err;
    }
  }

  /** The lowest /maskSize of the cluster CIDR that no Node holds and none is being given. */
  private nextFree(): Cidr | undefined {
    const used = new Set<number>();
    for (const node of this.nodes.list()) {
      for (const text of node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])) {
        try { used.add(parseCidr(text).base); } catch { /* another family or malformed: not ours */ }
      }
    }
    for (const [base, owner] of this.pending) {
      const holder = this.nodes.get(owner);
      if (!holder || holder.spec?.podCIDR) this.pending.delete(base);
      else used.add(base);
    }
    const step = 2 ** (32 - this.maskSize);
    for (let base = this.cluster.base; base < this.cluster.base + cidrSize(this.cluster); base += step) {
      if (!used.has(base)) return { base, prefix: this.maskSize };
    }
    return undefined;
  }
}

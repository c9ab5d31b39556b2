import type { Pod } from 'kubernetes-types/core/v1';
import { MAX_NODE_SCORE, Status, type CycleState, type FrameworkHandle, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import { normalizedImageName, type NodeInfo } from '../node-info.js';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** Prefers nodes that already hold the pod's images, weighted by how widely each image is spread (upstream's scaledImageScore). */
export class ImageLocality implements PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'ImageLocality';
  private spreadGeneration = -1;
  private readonly spread = new Map<string, number>();
  constructor(private readonly handle: FrameworkHandle) {}
  name(): string { return ImageLocality.pluginName; }

  /** Recounts how many nodes hold each image when the nodes' images changed. */
  preScore(): Status {
    const gen = this.handle.nodesGeneration();
    if (gen !== this.spreadGeneration) {
      const nodes = this.handle.nodeInfos();
      this.spread.clear();
      for (const n of nodes) for (const img of n.images.keys()) this.spread.set(img, (this.spread.get(img) ?? 0) + 1);
      this.spreadGeneration = gen;
    }
    return Status.success();
  }

  private numNodesWith(image: string): number { return this.spread.get(image) ?? 0; }

  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    if (nodeInfo.images.size === 0) return 0;
    const total = this.handle.nodeInfos().length || 1;
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    let sum = 0;
    for (const c of containers) {
      if (!c.image) continue;
      const img = normalizedImageName(c.image);
      const size = nodeInfo.images.get(img);
      if (size !== undefined) sum += size * (this.numNodesWith(img) / total);
    }
    const max = MAX_CONTAINER_THRESHOLD * Math.max(1, containers.length);
    if (sum < MIN_THRESHOLD) sum = MIN_THRESHOLD;
    else if (sum > max) sum = max;
    return Math.floor(MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max - MIN_THRESHOLD));
  }
}

/**
 * The scheduler's cache (upstream's `internal/cache`): nodes and the pods on
 * them, including pods the scheduler has *assumed* — chosen a node for but
 * whose binding the informer has not confirmed yet — so the next pod sees
 * them at once. An assumed pod is forgotten if its bind fails, and expires
 * if the informer never confirms it within `ttlMs` after the bind finished.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { NodeInfo, PodInfo, podKey } from './node-info.js';

interface PodState { info: PodInfo; nodeName: string; assumed: boolean; bindingFinished: boolean; deadline?: number }

export const DEFAULT_ASSUMED_POD_TTL_MS = 30_000;

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** Nodes in a stable order for round-robin filtering; rebuilt lazily after adds and removes. */
  private list: NodeInfo[] | undefined = [];
  private readonly podStates = new Map<string, PodState>();
  /** Pods on nodes the cache has not seen yet (the pod's watch event came first). */
  private readonly ghostNodes = new Map<string, NodeInfo>();

  constructor(private readonly ttlMs = DEFAULT_ASSUMED_POD_TTL_MS, private readonly now: () => number = Date.now) {}

  nodeInfos(): readonly NodeInfo[] {
    if (!this.list) this.list = [...this.nodes.values()];
    return this.list;
  }
  nodeInfo(name: string): NodeInfo | undefined { return this.nodes.get(name); }
  get nodeCount(): number { return this.nodes.size; }

  addNode(node: Node): NodeInfo {
    this.nodesGeneration++;
    const name = node.metadata?.name ?? '';
    this.logChange(name);
    let ni = this.nodes.get(name);
    if (ni) { ni.setNode(node); return ni; }
    ni = this.ghostNodes.get(name);
    if (ni) { this.ghostNodes.delete(name); ni.setNode(node); } else ni = new NodeInfo(node);
    this.nodes.set(name, ni);
    this.list = undefined;
    return ni;
  }
  updateNode(node: Node): NodeInfo { return this.addNode(node); }
  removeNode(name: string): void {
    this.nodesGeneration++;
    this.logChange(name);
    const ni = this.nodes.get(name);
    if (!ni) return;
    this.nodes.delete(name);
    this.list = undefined;
    // Pods still bound to it stay accounted for until their own deletes arrive.
    if (ni.pods.size) this.ghostNodes.set(name, ni);
  }

  private infoFor(nodeName: string): NodeInfo {
    let ni = this.nodes.get(nodeName) ?? this.ghostNodes.get(nodeName);
    if (!ni) {
      ni = new NodeInfo({ metadata: { name: nodeName } });
      this.ghostNodes.set(nodeName, ni);
    }
    return ni;
  }

  /** Pods anywhere with (anti-)affinity terms: InterPodAffinity skips its O(nodes) pass while these are 0. */
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  /** Bumped on every node add, update and removal. */
  nodesGeneration = 0;

  /** Names of nodes that changed, in order; plugins that aggregate over all nodes catch up from their last position. */
  private changeLog: string[] = [];
  private changeBase = 0;
  get changeSeq(): number { return this.changeBase + this.changeLog.length; }
  private logChange(nodeName: string): void {
    this.changeLog.push(nodeName);
    if (this.changeLog.length > 200_000) { this.changeLog.splice(0, 100_000); this.changeBase += 100_000; }
  }
  /** Nodes changed since `seq`; no names when the log no longer reaches back that far (recount everything). */
  changedNodesSince(seq: number): { seq: number; names?: readonly string[] } {
    if (seq < this.changeBase) return { seq: this.changeSeq };
    return { seq: this.changeSeq, names: this.changeLog.slice(seq - this.changeBase) };
  }

  private place(info: PodInfo, nodeName: string): void {
    this.logChange(nodeName);
    this.infoFor(nodeName).addPod(info);
    if (info.hasAffinity) this.podsWithAffinity++;
    if (info.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity++;
  }
  private unplace(key: string, nodeName: string): void {
    this.logChange(nodeName);
    const ni = this.nodes.get(nodeName) ?? this.ghostNodes.get(nodeName);
    const info = ni?.removePod(key);
    if (info?.hasAffinity) this.podsWithAffinity--;
    if (info?.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity--;
    if (ni && ni.pods.size === 0 && this.ghostNodes.get(nodeName) === ni) this.ghostNodes.delete(nodeName);
  }

  isAssumed(pod: Pod): boolean { return this.podStates.get(podKey(pod))?.assumed ?? false; }
  get assumedCount(): number { let n = 0; for (const s of this.podStates.values()) if (s.assumed) n++; return n; }

  /** Counts the pod on `nodeName` now; `pod` should already carry `spec.nodeName`. */
  assumePod(pod: Pod, nodeName: string): PodInfo {
    const key = podKey(pod);
    if (this.podStates.has(key)) throw new Error(`pod ${key} is in the cache, so can't be assumed`);
    const info = new PodInfo(pod);
    this.place(info, nodeName);
    this.podStates.set(key, { info, nodeName, assumed: true, bindingFinished: false });
    return info;
  }

  /** The bind call returned: from now the assumed pod may expire if no informer event confirms it. */
  finishBinding(pod: Pod): void {
    const st = this.podStates.get(podKey(pod));
    if (st?.assumed) { st.bindingFinished = true; st.deadline = this.now() + this.ttlMs; }
  }

  /** The bind failed: the node gets the room back. */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (!st?.assumed) return;
    this.unplace(key, st.nodeName);
    this.podStates.delete(key);
  }

  /** An assigned pod from the informer: confirms an assumed one (moving it if it landed elsewhere) or adds it. */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName ?? '';
    const st = this.podStates.get(key);
    if (st && st.nodeName !== nodeName) this.unplace(key, st.nodeName);
    const info = new PodInfo(pod);
    this.place(info, nodeName);
    this.podStates.set(key, { info, nodeName, assumed: false, bindingFinished: true });
  }
  updatePod(pod: Pod): void { this.addPod(pod); }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.podStates.get(key);
    if (!st) return;
    this.unplace(key, st.nodeName);
    this.podStates.delete(key);
  }

  /** Drops assumed pods whose binding finished more than the TTL ago without confirmation; returns them. */
  cleanupExpiredAssumedPods(): Pod[] {
    const now = this.now();
    const expired: Pod[] = [];
    for (const [key, st] of this.podStates) {
      if (st.assumed && st.bindingFinished && st.deadline !== undefined && now > st.deadline) {
        this.unplace(key, st.nodeName);
        this.podStates.delete(key);
        expired.push(st.info.pod);
      }
    }
    return expired;
  }

  podCount(): number { return this.podStates.size; }
}

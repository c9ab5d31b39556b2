import type { Pod } from 'kubernetes-types/core/v1';
import { WorkQueue, exponential, keyOf, type Lister } from '../client/index.js';
import type { CriClient } from './cri/client.js';
import { MANAGED_BY_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL, TERMINATION_GRACE_ANNOTATION } from './labels.js';
import { newPodState, type PodState } from './pod-state.js';
import type { PodSyncer } from './sync-pod.js';

/** A sandbox or container of a pod the API no longer has: killed, keyed `orphan/<uid>`. */
const ORPHAN = 'orphan/';

export interface PodWorkersOptions {
  runtime: CriClient;
  syncer: PodSyncer;
  pods: Lister<Pod>;
  workers?: number;
  /** How often the runtime is relisted for container state changes (upstream's PLEG: 1 s). */
  relistMs?: number;
  log: (m: string) => void;
}

/**
 * One sync at a time per pod, many pods at once: a work queue of pod keys
 * (the queue never hands one key to two workers). Besides the informer's
 * changes, a relist of the runtime's containers every second (upstream's
 * PLEG) wakes the pod whose container changed state; sandboxes of pods the
 * API no longer has are killed.
 */
export class PodWorkers {
  private readonly queue: WorkQueue<string>;
  private readonly states = new Map<string, PodState>();
  private lastSeen = new Map<string, string>();
  private relistTimer?: NodeJS.Timeout;
  private relisting = false;
  private relists = 0;

  constructor(private readonly o: PodWorkersOptions) {
    // A failed sync (runtime or API trouble) is retried from 0.5 s, doubling to at most a minute.
    this.queue = new WorkQueue<string>({ name: 'pod-workers', rateLimiter: exponential(500, 60_000), onError: (key, err) => o.log(`sync ${key}: ${err instanceof Error ? err.message : String(err)}`) });
  }

  enqueue(pod: Pod): void { this.queue.add(keyOf(pod)); }

  /** The API object is gone: whatever still runs for it is killed. */
  podDeleted(pod: Pod): void { if (pod.metadata?.uid) this.queue.add(ORPHAN + pod.metadata.uid); }

  /** The kubelet's view of a pod, for the kubelet API (e.g. its sandbox). */
  state(uid: string): Readonly<PodState> | undefined { return this.states.get(uid); }

  async run(signal: AbortSignal): Promise<void> {
    this.relistTimer = setInterval(() => void this.relist(), this.o.relistMs ?? 1000);
    signal.addEventListener('abort', () => clearInterval(this.relistTimer), { once: true });
    await this.queue.process(this.o.workers ?? 8, (key) => this.syncKey(key), signal);
  }

  private async syncKey(key: string): Promise<void> {
    if (key.startsWith(ORPHAN)) { await this.killOrphan(key.slice(ORPHAN.length)); return; }
    const pod = this.o.pods.get(key);
    if (!pod?.metadata?.uid) return;
    const uid = pod.metadata.uid;
    let state = this.states.get(uid);
    if (!state) { state = newPodState(uid); this.states.set(uid, state); }
    const res = await this.o.syncer.sync(pod, state);
    if (res.requeueAfterMs !== undefined) {
      // Resyncs are spread a little so 50 pods do not all wake together.
      const jitter = res.requeueAfterMs >= 5_000 ? Math.random() * res.requeueAfterMs * 0.1 : 0;
      this.queue.addAfter(key, res.requeueAfterMs + jitter);
    }
    this.queue.forget(key);
  }

  private async killOrphan(uid: string): Promise<void> {
    const sandboxes = await this.o.runtime.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } });
    const first = sandboxes[0];
    if (!first) { this.states.delete(uid); return; }
    const grace = Number(first.annotations[TERMINATION_GRACE_ANNOTATION] ?? '30');
    const ghost: Pod = {
      metadata: { uid, name: first.labels[POD_NAME_LABEL], namespace: first.labels[POD_NAMESPACE_LABEL] },
      spec: { containers: [] },
    };
    this.o.log(`pod ${ghost.metadata!.namespace}/${ghost.metadata!.name} (${uid}) is gone from the API: killing it`);
    await this.o.syncer.terminate(ghost, undefined, Number.isFinite(grace) ? grace : 30);
    this.states.delete(uid);
  }

  /** Upstream's PLEG relist: one ListContainers; a changed state wakes its pod; unknown pods' sandboxes are orphans. */
  private async relist(): Promise<void> {
    if (this.relisting) return;
    this.relisting = true;
    try {
      const known = new Map<string, string>();
      for (const p of this.o.pods.list()) if (p.metadata?.uid) known.set(p.metadata.uid, keyOf(p));
      const containers = await this.o.runtime.listContainers({ labelSelector: { [MANAGED_BY_LABEL]: 'true' } });
      const seen = new Map<string, string>();
      const wake = new Set<string>();
      for (const c of containers) {
        seen.set(c.id, c.state);
        if (this.lastSeen.get(c.id) === c.state) continue;
        const uid = c.labels[POD_UID_LABEL];
        const key = known.get(uid);
        if (key) wake.add(key);
      }
      this.lastSeen = seen;
      // Every tenth relist also looks at sandboxes: pods deleted while we were away, sandboxes that died.
      if (this.relists++ % 10 === 0) {
        const sandboxes = await this.o.runtime.listPodSandbox({ labelSelector: { [MANAGED_BY_LABEL]: 'true' } });
        for (const s of sandboxes) {
          const uid = s.labels[POD_UID_LABEL];
          const key = known.get(uid);
          if (!key) this.queue.add(ORPHAN + uid);
          else if (s.state !== 'SANDBOX_READY' && this.states.get(uid)?.sandboxId === s.id) wake.add(key);
        }
        for (const uid of this.states.keys()) if (!known.has(uid)) this.states.delete(uid);
      }
      for (const key of wake) this.queue.add(key);
    } catch (err) {
      this.o.log(`relist: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.relisting = false;
    }
  }
}

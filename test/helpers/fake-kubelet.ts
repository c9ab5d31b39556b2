import type { Pod } from 'kubernetes-types/core/v1';
import { nowTimestamp } from '../../src/api/meta.js';
import { Client, Informer, WorkQueue, isConflict, isNotFound, keyOf, pods, splitKey } from '../../src/client/index.js';

export interface FakeKubeletOptions {
  /** Delay between seeing a pod and reporting it Running and Ready. */
  readyDelayMs?: number;
  /** Pods with this label or annotation (any value) run but never become Ready. */
  neverReadyKey?: string;
  /** Concurrent status writes. */
  workers?: number;
}

export const NEVER_READY = 'bosun.test/never-ready';

/**
 * A FAKE kubelet for controller tests — not a node agent. Through the API it
 * reports every pod (scheduled or not) Running and Ready, and finishes
 * graceful deletions at once, so that controllers can be tested without the
 * scheduler or hollow nodes.
 */
export class FakeKubelet {
  private readonly informer: Informer<Pod>;
  private readonly queue = new WorkQueue<string>({ name: 'fake-kubelet', onError: () => {} });
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  private readonly opts: Required<FakeKubeletOptions>;
  /** Status writes made: a measure for benchmarks. */
  readyReported = 0;

  constructor(private readonly client: Client, opts: FakeKubeletOptions = {}) {
    this.opts = { readyDelayMs: opts.readyDelayMs ?? 0, neverReadyKey: opts.neverReadyKey ?? NEVER_READY, workers: opts.workers ?? 8 };
    this.informer = new Informer(client, pods);
    this.informer.onAdd((p) => this.enqueue(p));
    this.informer.onUpdate((_o, p) => this.enqueue(p));
  }

  private enqueue(pod: Pod): void {
    if (this.done(pod)) return;
    if (this.opts.readyDelayMs > 0 && !pod.metadata?.deletionTimestamp) this.queue.addAfter(keyOf(pod), this.opts.readyDelayMs);
    else this.queue.add(keyOf(pod));
  }

  private done(pod: Pod): boolean {
    // Deleting: finish it once; a pod held by finalizers after that is the finalizers' owners' business.
    if (pod.metadata?.deletionTimestamp) return pod.metadata.deletionGracePeriodSeconds === 0;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return true;
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return phase === 'Running' && (ready || this.neverReady(pod));
  }

  private neverReady(pod: Pod): boolean {
    const k = this.opts.neverReadyKey;
    return pod.metadata?.labels?.[k] !== undefined || pod.metadata?.annotations?.[k] !== undefined;
  }

  async start(): Promise<void> {
    this.informer.start(this.abort.signal);
    await this.informer.waitForSync(this.abort.signal);
    this.running = this.queue.process(this.opts.workers, (key) => this.sync(key), this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async sync(key: string): Promise<void> {
    const pod = this.informer.lister().get(key);
    if (!pod || this.done(pod)) return;
    const { namespace, name } = splitKey(key);
    try {
      if (pod.metadata?.deletionTimestamp) {
        await this.client.delete(pods, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
        return;
      }
      const now = nowTimestamp();
      const ready = this.neverReady(pod) ? 'False' : 'True';
      const status: Pod['status'] = {
        ...pod.status,
        phase: 'Running',
        startTime: pod.status?.startTime ?? now,
        conditions: [
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: ready, lastTransitionTime: now },
          { type: 'ContainersReady', status: ready, lastTransitionTime: now },
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        ],
        containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
          name: c.name, image: c.image ?? '', imageID: '', ready: ready === 'True', restartCount: 0, started: true,
          state: { running: { startedAt: now } },
        })),
      };
      await this.client.updateStatus(pods, { ...pod, status });
      this.readyReported++;
    } catch (err) {
      if (isNotFound(err)) return;
      // The informer brings the newer pod and queues it again.
      if (isConflict(err)) return;
      throw err;
    }
  }
}

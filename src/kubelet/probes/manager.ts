import type { Container, Probe } from 'kubernetes-types/core/v1';
import type { CriClient } from '../cri/client.js';
import { runHandler } from './prober.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

interface Worker {
  kind: ProbeKind;
  probe: Probe;
  containerId: string;
  timer?: NodeJS.Timeout;
  successes: number;
  failures: number;
  /** undefined until the first verdict (readiness counts as not ready, liveness as alive). */
  result?: boolean;
  message: string;
  stopped: boolean;
}

export interface ProbeTargetInfo { podKey: string; podUid: string; podIP: string; container: Container; containerId: string; startedAtMs: number }

/**
 * Runs each running container's probes on their own periods (10 s unless the
 * probe says otherwise) with success/failure thresholds, as the kubelet's
 * prober workers. It only remembers verdicts and asks for a pod sync when one
 * changes; the pod sync decides what a verdict means (restart, not ready).
 */
export class ProbeManager {
  private readonly workers = new Map<string, Worker>();

  constructor(
    private readonly runtime: CriClient,
    private readonly onChange: (podKey: string) => void,
    private readonly log: (m: string) => void,
  ) {}

  private key(uid: string, container: string, kind: ProbeKind): string { return `${uid}/${container}/${kind}`; }

  /** Makes sure the container's probes run against `containerId`; a new container instance starts over. */
  ensure(t: ProbeTargetInfo): void {
    const probes: Array<[ProbeKind, Probe | undefined]> = [
      ['startup', t.container.startupProbe], ['liveness', t.container.livenessProbe], ['readiness', t.container.readinessProbe],
    ];
    for (const [kind, probe] of probes) {
      const k = this.key(t.podUid, t.container.name, kind);
      const existing = this.workers.get(k);
      if (!probe) { if (existing) this.stopWorker(k); continue; }
      if (existing && existing.containerId === t.containerId) continue;
      if (existing) this.stopWorker(k);
      const w: Worker = { kind, probe, containerId: t.containerId, successes: 0, failures: 0, message: '', stopped: false };
      this.workers.set(k, w);
      const initial = Math.max(0, (probe.initialDelaySeconds ?? 0) * 1000 - (Date.now() - t.startedAtMs));
      w.timer = setTimeout(() => void this.tick(k, w, t), initial);
    }
  }

  /** The verdict: true passing, false failing (threshold reached), undefined not yet known. */
  result(uid: string, container: string, kind: ProbeKind, containerId: string): { result?: boolean; message: string } {
    const w = this.workers.get(this.key(uid, container, kind));
    if (!w || w.containerId !== containerId) return { result: undefined, message: '' };
    return { result: w.result, message: w.message };
  }

  /** Stops the probes of containers not in `keep` (names) for the pod, or all of them. */
  removePod(uid: string, keep?: Set<string>): void {
    for (const k of [...this.workers.keys()]) {
      if (!k.startsWith(`${uid}/`)) continue;
      const container = k.slice(uid.length + 1).split('/')[0];
      if (!keep || !keep.has(container)) this.stopWorker(k);
    }
  }

  /** Stops one container's probes (it is not running: nothing to probe until its next instance). */
  removeContainer(uid: string, container: string): void {
    for (const kind of ['startup', 'liveness', 'readiness'] as const) this.stopWorker(this.key(uid, container, kind));
  }

  /** Pods with probe workers (for cleaning up after pods that are gone). */
  podUids(): Set<string> { return new Set([...this.workers.keys()].map((k) => k.split('/')[0])); }

  stopAll(): void { for (const k of [...this.workers.keys()]) this.stopWorker(k); }

  private stopWorker(k: string): void {
    const w = this.workers.get(k);
    if (!w) return;
    w.stopped = true;
    clearTimeout(w.timer);
    this.workers.delete(k);
  }

  private async tick(k: string, w: Worker, t: ProbeTargetInfo): Promise<void> {
    if (w.stopped) return;
    // Liveness and readiness wait for a startup probe to pass, as upstream.
    const startup = w.kind !== 'startup' ? this.workers.get(this.key(t.podUid, t.container.name, 'startup')) : undefined;
    if (!startup || startup.result === true) {
      const res = await runHandler(w.probe, { runtime: this.runtime, containerId: w.containerId, container: t.container, podIP: t.podIP }, w.probe.timeoutSeconds ?? 1);
      if (w.stopped) return;
      const before = w.result;
      if (res.ok) { w.successes++; w.failures = 0; } else { w.failures++; w.successes = 0; w.message = res.message; }
      const successThreshold = w.kind === 'readiness' ? (w.probe.successThreshold ?? 1) : 1;
      if (res.ok && w.successes >= successThreshold) w.result = true;
      if (!res.ok && w.failures >= (w.probe.failureThreshold ?? 3)) w.result = false;
      if (w.result !== before) {
        if (w.result === false) this.log(`${t.podKey} container ${t.container.name}: ${w.kind} probe failed: ${res.message}`);
        this.onChange(t.podKey);
      }
      // A startup probe that passed is done; one that failed waits for the container's restart.
      if (w.kind === 'startup' && w.result !== undefined) return;
      // A failed liveness verdict restarts the container: the new instance gets a new worker.
      if (w.kind === 'liveness' && w.result === false) return;
    }
    w.timer = setTimeout(() => void this.tick(k, w, t), (w.probe.periodSeconds ?? 10) * 1000);
  }
}

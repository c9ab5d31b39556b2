import { chmod, mkdir, open as openFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import type { Client, EventRecorder } from '../client/index.js';
import { isConflict, isNotFound as isApiNotFound, pods as podsResource } from '../client/index.js';
import type { CriClient } from './cri/client.js';
import { Backoff, formatDelay } from './backoff.js';
import { containerConfig, containerHash, type ContainerKind } from './container-config.js';
import { CONTAINER_HASH_ANNOTATION } from './labels.js';
import { ContainerConfigError, containerEnv } from './container-env.js';
import { ensureImage, ImageError } from './images.js';
import type { ObjectCache } from './object-cache.js';
import type { PodState } from './pod-state.js';
import type { ProbeManager } from './probes/manager.js';
import { runHandler } from './probes/prober.js';
import { observePod, nanosToMs, type ContainerInstance, type PodRuntime } from './runtime-state.js';
import { podLogDirectory, sandboxConfig, type SandboxEnv } from './sandbox-config.js';
import { computePodStatus, statusChanged } from './status.js';
import { setUpVolumes, tearDownPodDir, VolumeError } from './volumes/index.js';

export interface SyncDeps {
  client: Client;
  runtime: CriClient;
  objects: ObjectCache;
  probes: ProbeManager;
  recorder: EventRecorder;
  backoff: Backoff;
  sandboxEnv: SandboxEnv;
  rootDir: string;
  hostIP: string;
  allocatable: () => { cpu: string; memory: string };
  /** Upstream's --sync-frequency: how often an idle pod is synced again (volumes refreshed, status checked). */
  syncFrequencyMs?: number;
  log: (m: string) => void;
}

/** What a sync asks of its worker: come back after this long (a back-off ending, a resync). */
export interface SyncResult { requeueAfterMs?: number }

/** How often a pod is looked at with nothing happening (default): refreshes configMap/secret volumes and the status. */
export const RESYNC_MS = 60_000;

const podKey = (pod: Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
const isRunning = (i: ContainerInstance | undefined) => i?.status?.state === 'CONTAINER_RUNNING' || i?.status?.state === 'CONTAINER_CREATED';
const isExited = (i: ContainerInstance | undefined) => i?.status?.state === 'CONTAINER_EXITED' || i?.status?.state === 'CONTAINER_UNKNOWN';

/**
 * One level-triggered sync of one pod (upstream's SyncPod, pared down): read
 * what the runtime has, compare with the spec, do the next steps (sandbox,
 * init containers in order, sidecars, containers, restarts with back-off,
 * liveness kills), then write the status if it changed. Never trusts
 * memory over the runtime: a restarted kubelet carries on from the labels.
 */
export class PodSyncer {
  private readonly resyncMs: number;
  /** Volumes are rewritten no more often than this; with the object cache's TTL a change lands within one sync period. */
  private readonly volumeRefreshMs: number;

  constructor(private readonly d: SyncDeps) {
    this.resyncMs = d.syncFrequencyMs ?? RESYNC_MS;
    this.volumeRefreshMs = this.resyncMs / 2;
  }

  podDir(uid: string): string { return join(this.d.rootDir, 'pods', uid); }

  async sync(pod: Pod, state: PodState): Promise<SyncResult> {
    const uid = pod.metadata!.uid!;
    if (pod.metadata?.deletionTimestamp) {
      await this.terminate(pod, state, pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
      await this.finalizeDeletion(pod);
      return {};
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Terminal: never run anything again; free the sandbox (its IP) but keep containers for their logs.
      await this.stopSandboxes(await observePod(this.d.runtime, uid));
      this.d.probes.removePod(uid);
      return {};
    }

    let rt = await observePod(this.d.runtime, uid);
    let requeue = this.resyncMs;
    const wake = (ms: number) => { requeue = Math.min(requeue, Math.max(ms, 200)); };

    // activeDeadlineSeconds: past it the pod is killed and Failed (Jobs rely on it).
    const deadline = pod.spec?.activeDeadlineSeconds;
    const startTime = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
    if (deadline !== undefined && startTime !== undefined) {
      const left = startTime + deadline * 1000 - Date.now();
      if (left <= 0) {
        this.d.recorder.event(pod, 'Normal', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
        await this.stopContainers(pod, rt, pod.spec?.terminationGracePeriodSeconds ?? 30);
        await this.stopSandboxes(rt);
        this.d.probes.removePod(uid);
        state.finished = 'Failed';
        await this.writeStatus(pod, state, await observePod(this.d.runtime, uid), true, {
          terminal: 'Failed', reason: { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' },
        });
        return {};
      }
      wake(left);
    }
    const acted = state.actions;

    // ---- volumes
    if (!state.volumePaths || Date.now() - state.volumesAt > this.volumeRefreshMs) {
      try {
        state.volumePaths = await setUpVolumes({
          pod, volumesDir: join(this.podDir(uid), 'volumes'), objects: this.d.objects,
          facts: { podIP: state.podIP, hostIP: this.d.hostIP, nodeName: this.d.sandboxEnv.nodeName }, allocatable: this.d.allocatable(),
        });
        state.volumesAt = Date.now();
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        this.d.recorder.event(pod, 'Warning', 'FailedMount', msg);
        if (!state.volumePaths) {
          await this.writeStatus(pod, state, rt, false, { terminal: undefined });
          return { requeueAfterMs: 10_000 };
        }
      }
    }

    // ---- sandbox
    let sandbox = rt.sandboxes.find((s) => s.state === 'SANDBOX_READY');
    if (!sandbox && state.finished) return {};
    if (!sandbox) {
      const attempt = rt.sandboxes.length ? Math.max(...rt.sandboxes.map((s) => s.metadata.attempt ?? 0)) + 1 : 0;
      if (rt.sandboxes.length) {
        // The sandbox died: every container goes with it and starts again in the new one, as upstream.
        this.d.recorder.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
        await this.stopSandboxes(rt);
      }
      const config = sandboxConfig(pod, attempt, this.d.sandboxEnv);
      await mkdir(config.logDirectory!, { recursive: true });
      try {
        state.sandboxId = await this.d.runtime.runPodSandbox(config);
      } catch (err) {
        const msg = `Failed to create pod sandbox: ${err instanceof Error ? err.message : String(err)}`;
        this.d.recorder.event(pod, 'Warning', 'FailedCreatePodSandBox', msg);
        // The pod shows its containers as ContainerCreating meanwhile, as upstream.
        await this.writeStatus(pod, state, rt, false, {}).catch(() => {});
        throw new Error(msg);
      }
      state.sandboxConfig = config;
      state.podIP = undefined;
      rt = await observePod(this.d.runtime, uid);
      sandbox = rt.sandboxes.find((s) => s.id === state.sandboxId);
      if (!sandbox) throw new Error(`sandbox ${state.sandboxId} vanished right after it was created`);
    }
    if (state.sandboxId !== sandbox.id || !state.sandboxConfig) {
      // A kubelet restart, or another instance made it: the config is what we would send for that attempt.
      state.sandboxId = sandbox.id;
      state.sandboxConfig = sandboxConfig(pod, sandbox.metadata.attempt ?? 0, this.d.sandboxEnv);
      state.podIP = undefined;
    }
    if (!state.podIP && !pod.spec?.hostNetwork) {
      const st = await this.d.runtime.podSandboxStatus(sandbox.id);
      state.podIP = st.status.network?.ip || undefined;
    }
    if (pod.spec?.hostNetwork) state.podIP = this.d.hostIP;

    const inSandbox = (name: string) => (rt.containers.get(name) ?? []).filter((i) => i.sandboxId === sandbox!.id && i.status);
    const current = (name: string) => inSandbox(name)[0];
    const lastAttempt = (name: string) => (rt.containers.get(name) ?? [])[0]?.attempt;

    // ---- init containers and sidecars, in order
    let initialized = true;
    let terminal: 'Succeeded' | 'Failed' | undefined;
    const policy = pod.spec?.restartPolicy ?? 'Always';
    for (const c of pod.spec?.initContainers ?? []) {
      const inst = current(c.name);
      const sidecar = c.restartPolicy === 'Always';
      if (sidecar) {
        if (isRunning(inst)) {
          if (await this.handleProbes(pod, state, c, inst!, wake)) { initialized = false; break; }
          if (!this.started(uid, c, inst!)) { initialized = false; break; }
          continue;
        }
        await this.startOrBackoff(pod, state, c, 'sidecar', inst, lastAttempt(c.name), wake);
        initialized = false;
        break;
      }
      if (isExited(inst) && inst!.status!.exitCode === 0) continue;
      initialized = false;
      if (isRunning(inst)) break;
      if (isExited(inst) && policy === 'Never') { terminal = 'Failed'; break; }
      await this.startOrBackoff(pod, state, c, 'init', inst, lastAttempt(c.name), wake);
      break;
    }

    // ---- regular containers
    if (initialized && !terminal) {
      let done = 0; let failed = 0;
      const mains = pod.spec?.containers ?? [];
      for (const c of mains) {
        const inst = current(c.name);
        if (isRunning(inst)) {
          if (await this.replaceIfChanged(pod, state, c, inst!, wake)) continue;
          await this.handleProbes(pod, state, c, inst!, wake);
          continue;
        }
        if (isExited(inst)) {
          this.d.probes.removeContainer(uid, c.name);
          const code = inst!.status!.exitCode;
          const restart = policy === 'Always' || (policy === 'OnFailure' && code !== 0);
          if (!restart) { done++; if (code !== 0) failed++; state.waiting.delete(c.name); continue; }
        }
        await this.startOrBackoff(pod, state, c, 'regular', inst, lastAttempt(c.name), wake);
      }
      if (mains.length && done === mains.length) terminal = failed ? 'Failed' : 'Succeeded';
    }

    // Only read the runtime again when this sync changed something in it.
    if (state.actions !== acted || terminal) rt = await observePod(this.d.runtime, uid);
    if (terminal) {
      // No more restarts: sidecars stop last, then the sandbox goes (its IP back to the pool).
      await this.stopContainers(pod, rt, 0, ['sidecar', 'init']);
      await this.stopSandboxes(rt);
      state.finished = terminal;
      this.d.probes.removePod(uid);
      rt = await observePod(this.d.runtime, uid);
    }
    await this.writeStatus(pod, state, rt, initialized, { terminal, sandboxId: sandbox.id, sandboxReady: !terminal });
    await this.removeOldInstances(rt);
    return { requeueAfterMs: terminal ? undefined : requeue };
  }

  /** A running instance made from an older spec (a new image) is stopped; the next sync starts the new one. */
  private async replaceIfChanged(pod: Pod, state: PodState, c: Container, inst: ContainerInstance, wake: (ms: number) => void): Promise<boolean> {
    const hash = inst.status?.annotations[CONTAINER_HASH_ANNOTATION];
    if (!hash || hash === containerHash(c)) return false;
    this.d.recorder.event(pod, 'Normal', 'Killing', `Container ${c.name} definition changed, will be restarted`);
    await this.stopContainer(pod, c, inst, pod.spec?.terminationGracePeriodSeconds ?? 30);
    // Not a crash: the replacement starts without back-off.
    this.d.backoff.reset(`${pod.metadata!.uid}/${c.name}`);
    state.actions++;
    wake(0);
    return true;
  }

  private terminationMessageFile(uid: string, container: string, attempt: number): string {
    return join(this.podDir(uid), 'containers', container, String(attempt));
  }

  /**
   * terminated.message: what the container wrote to its terminationMessagePath
   * (at most 4 KiB), or with FallbackToLogsOnError and a failure, the end of
   * its log (at most 2 KiB), as upstream.
   */
  private async terminationMessage(pod: Pod, inst: ContainerInstance): Promise<string | undefined> {
    const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === inst.name);
    const own = await readTail(this.terminationMessageFile(pod.metadata!.uid!, inst.name, inst.attempt), 4096, false);
    if (own) return own;
    if (c?.terminationMessagePolicy === 'FallbackToLogsOnError' && inst.status?.exitCode !== 0 && inst.status?.logPath) {
      const raw = await readTail(inst.status.logPath, 2048, true);
      // CRI log lines: `<time> <stream> <P|F> <text>`.
      return raw?.split('\n').map((l) => l.split(' ').slice(3).join(' ')).join('\n').trim() || undefined;
    }
    return undefined;
  }

  private started(uid: string, c: Container, inst: ContainerInstance): boolean {
    if (!c.startupProbe) return true;
    return this.d.probes.result(uid, c.name, 'startup', inst.id).result === true;
  }

  /** Keeps probe workers on the running instance; kills it when liveness or startup gave up. Returns true if killed. */
  private async handleProbes(pod: Pod, state: PodState, c: Container, inst: ContainerInstance, wake: (ms: number) => void): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    state.waiting.delete(c.name);
    if (!c.livenessProbe && !c.readinessProbe && !c.startupProbe) return false;
    this.d.probes.ensure({ podKey: podKey(pod), podUid: uid, podIP: state.podIP ?? '', container: c, containerId: inst.id, startedAtMs: nanosToMs(inst.status?.startedAt) || Date.now() });
    for (const kind of ['startup', 'liveness'] as const) {
      const r = this.d.probes.result(uid, c.name, kind, inst.id);
      if (r.result !== false) continue;
      const what = kind === 'startup' ? 'Startup' : 'Liveness';
      this.d.recorder.event(pod, 'Warning', 'Unhealthy', `${what} probe failed: ${r.message}`);
      this.d.recorder.event(pod, 'Normal', 'Killing', `Container ${c.name} failed ${kind} probe, will be restarted`);
      await this.stopContainer(pod, c, inst, pod.spec?.terminationGracePeriodSeconds ?? 30);
      state.actions++;
      wake(0);
      return true;
    }
    return false;
  }

  /** Starts the next instance of `c`, unless it is in crash-loop or image-pull back-off (then says so in `waiting`). */
  private async startOrBackoff(pod: Pod, state: PodState, c: Container, kind: ContainerKind, inst: ContainerInstance | undefined, last: number | undefined, wake: (ms: number) => void): Promise<void> {
    const uid = pod.metadata!.uid!;
    const key = `${uid}/${c.name}`;
    if (isExited(inst)) {
      const finished = nanosToMs(inst!.status!.finishedAt) || Date.now();
      const left = this.d.backoff.remaining(key, finished);
      if (left > 0) {
        const delay = this.d.backoff.delay(key) ?? left;
        state.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${formatDelay(delay)} restarting failed container=${c.name} pod=${pod.metadata!.name}_${pod.metadata!.namespace}(${uid})` });
        this.d.recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
        wake(left);
        return;
      }
      this.d.backoff.next(key, finished);
    }
    const attempt = last === undefined ? 0 : last + 1;
    await this.startContainer(pod, state, c, kind, attempt, wake);
  }

  private async startContainer(pod: Pod, state: PodState, c: Container, kind: ContainerKind, attempt: number, wake: (ms: number) => void): Promise<void> {
    const uid = pod.metadata!.uid!;
    const pullKey = `pull/${uid}/${c.name}`;
    const lastPull = this.d.backoff.lastUpdate(pullKey);
    if (lastPull !== undefined) {
      const left = this.d.backoff.remaining(pullKey, lastPull);
      if (left > 0) {
        state.waiting.set(c.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` });
        wake(left);
        return;
      }
    }
    let imageRef: string;
    try {
      const res = await ensureImage(this.d.runtime, pod, c, this.d.objects, (image) => this.d.recorder.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`));
      imageRef = res.imageRef;
      this.d.backoff.reset(pullKey);
      if (res.pulled) this.d.recorder.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${c.image}"`);
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      const delay = this.d.backoff.next(pullKey);
      state.waiting.set(c.name, { reason: err.reason, message: err.message });
      this.d.recorder.event(pod, 'Warning', 'Failed', `Failed to pull image "${c.image}": ${err.message}`);
      this.d.recorder.event(pod, 'Warning', 'Failed', `Error: ${err.reason}`);
      wake(delay);
      return;
    }
    let containerId: string;
    try {
      const env = await containerEnv(c, { pod, objects: this.d.objects, facts: { podIP: state.podIP, hostIP: this.d.hostIP, nodeName: this.d.sandboxEnv.nodeName }, allocatable: this.d.allocatable() });
      const extra = [];
      const messagePath = c.terminationMessagePath ?? '/dev/termination-log';
      if (messagePath) {
        // The file the container may write its last words to; read into terminated.message when it exits.
        const host = this.terminationMessageFile(uid, c.name, attempt);
        await mkdir(join(host, '..'), { recursive: true });
        await writeFile(host, '');
        await chmod(host, 0o666);
        // Only the current and the previous instance are kept, as their containers are.
        if (attempt >= 2) await rm(this.terminationMessageFile(uid, c.name, attempt - 2), { force: true });
        extra.push({ containerPath: messagePath, hostPath: host });
      }
      const config = containerConfig(pod, c, kind, attempt, c.image ?? imageRef, env, state.volumePaths ?? new Map(), extra);
      await mkdir(join(podLogDirectory(this.d.sandboxEnv.podLogsDir, pod), c.name), { recursive: true });
      containerId = await this.d.runtime.createContainer(state.sandboxId!, config, state.sandboxConfig!);
      state.actions++;
    } catch (err) {
      const reason = err instanceof ContainerConfigError || err instanceof VolumeError ? 'CreateContainerConfigError' : 'CreateContainerError';
      const message = err instanceof Error ? err.message : String(err);
      state.waiting.set(c.name, { reason, message });
      this.d.recorder.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      wake(10_000);
      return;
    }
    this.d.recorder.event(pod, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await this.d.runtime.startContainer(containerId);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      state.waiting.set(c.name, { reason: 'RunContainerError', message });
      this.d.recorder.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      wake(10_000);
      return;
    }
    state.waiting.delete(c.name);
    state.actions++;
    this.d.recorder.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
    if (c.lifecycle?.postStart) {
      const res = await runHandler(c.lifecycle.postStart, { runtime: this.d.runtime, containerId, container: c, podIP: state.podIP ?? '' }, 30);
      if (!res.ok) {
        this.d.recorder.event(pod, 'Warning', 'FailedPostStartHook', `PostStartHook failed: ${res.message}`);
        await this.d.runtime.stopContainer(containerId, 0).catch(() => {});
      }
    }
  }

  /** preStop hook, then SIGTERM and SIGKILL after what is left of the grace period. */
  private async stopContainer(pod: Pod, c: Container | undefined, inst: ContainerInstance, graceSeconds: number): Promise<void> {
    const started = Date.now();
    if (c?.lifecycle?.preStop && inst.status?.state === 'CONTAINER_RUNNING') {
      const budget = Math.max(1, graceSeconds);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        runHandler(c.lifecycle.preStop, { runtime: this.d.runtime, containerId: inst.id, container: c, podIP: pod.status?.podIP ?? '' }, budget),
        new Promise((r) => { timer = setTimeout(r, budget * 1000); }),
      ]);
      clearTimeout(timer);
    }
    const left = Math.max(graceSeconds > 0 ? 2 : 0, Math.ceil(graceSeconds - (Date.now() - started) / 1000));
    await this.d.runtime.stopContainer(inst.id, left);
  }

  /** Stops the running containers of the given kinds (all when `kinds` is empty), regular ones together, then sidecars in reverse order. */
  private async stopContainers(pod: Pod, rt: PodRuntime, graceSeconds: number, kinds: ContainerKind[] = []): Promise<void> {
    const specs = new Map([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [c.name, c]));
    const running = [...rt.containers.values()].flat().filter((i) => isRunning(i) && (!kinds.length || kinds.includes(i.kind)));
    const regular = running.filter((i) => i.kind !== 'sidecar');
    await Promise.all(regular.map((i) => this.stopContainer(pod, specs.get(i.name), i, graceSeconds).catch((e: unknown) => this.d.log(`stop ${i.name}: ${String(e)}`))));
    const sidecarOrder = (pod.spec?.initContainers ?? []).map((c) => c.name).reverse();
    const sidecars = running.filter((i) => i.kind === 'sidecar').sort((a, b) => sidecarOrder.indexOf(a.name) - sidecarOrder.indexOf(b.name));
    for (const i of sidecars) await this.stopContainer(pod, specs.get(i.name), i, graceSeconds).catch((e: unknown) => this.d.log(`stop ${i.name}: ${String(e)}`));
  }

  private async stopSandboxes(rt: PodRuntime): Promise<void> {
    for (const s of rt.sandboxes) if (s.state === 'SANDBOX_READY') await this.d.runtime.stopPodSandbox(s.id);
  }

  /** Keeps the current and previous instance of each container (for logs -p); removes older ones. */
  private async removeOldInstances(rt: PodRuntime): Promise<void> {
    for (const list of rt.containers.values()) {
      for (const i of list.slice(2)) await this.d.runtime.removeContainer(i.id).catch(() => {});
    }
  }

  /** Stops everything of the pod within `graceSeconds`, then removes sandboxes, volumes and logs. */
  async terminate(pod: Pod, state: PodState | undefined, graceSeconds: number): Promise<void> {
    const uid = pod.metadata!.uid!;
    this.d.probes.removePod(uid);
    const rt = await observePod(this.d.runtime, uid);
    if ([...rt.containers.values()].flat().some(isRunning)) {
      for (const c of pod.spec?.containers ?? []) if (rt.containers.get(c.name)?.some(isRunning)) this.d.recorder.event(pod, 'Normal', 'Killing', `Stopping container ${c.name}`);
    }
    await this.stopContainers(pod, rt, graceSeconds);
    for (const s of rt.sandboxes) {
      await this.d.runtime.stopPodSandbox(s.id);
      await this.d.runtime.removePodSandbox(s.id);
    }
    await tearDownPodDir(this.podDir(uid));
    await tearDownPodDir(podLogDirectory(this.d.sandboxEnv.podLogsDir, pod));
    this.d.backoff.resetPrefix(`${uid}/`);
    this.d.backoff.resetPrefix(`pull/${uid}/`);
    if (state) state.finished = 'Succeeded';
  }

  /** The kubelet's last word on a graceful delete: the object goes (grace 0), only if it is still this pod. */
  private async finalizeDeletion(pod: Pod): Promise<void> {
    try {
      await this.d.client.delete(podsResource, pod.metadata!.namespace, pod.metadata!.name!, {
        gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid },
      });
    } catch (err) {
      if (!isApiNotFound(err) && !isConflict(err)) throw err;
    }
  }

  private async writeStatus(pod: Pod, state: PodState, rt: PodRuntime, initialized: boolean, o: { terminal?: 'Succeeded' | 'Failed'; reason?: { reason: string; message: string }; sandboxId?: string; sandboxReady?: boolean }): Promise<void> {
    const uid = pod.metadata!.uid!;
    // Newest first across sandboxes: after a sandbox change the old instance stands until its successor exists.
    const current = new Map<string, ContainerInstance[]>();
    for (const [name, list] of rt.containers) current.set(name, list.filter((i) => i.status));
    for (const list of current.values()) {
      for (const inst of list) {
        if (inst.status?.state !== 'CONTAINER_EXITED' || inst.status.message) continue;
        const msg = await this.terminationMessage(pod, inst);
        if (msg) inst.status.message = msg;
      }
    }
    const status = computePodStatus({
      pod, hostIP: this.d.hostIP, podIP: state.podIP, sandboxReady: !!o.sandboxReady, instances: current, sandboxId: o.sandboxId,
      waiting: state.waiting, initialized, terminalPhase: o.terminal, terminalReason: o.reason,
      ready: (name, inst) => {
        const c = pod.spec?.containers.find((x) => x.name === name) ?? pod.spec?.initContainers?.find((x) => x.name === name);
        if (!c || !this.started(uid, c, inst)) return false;
        return !c.readinessProbe || this.d.probes.result(uid, name, 'readiness', inst.id).result === true;
      },
      started: (name, inst) => {
        const c = pod.spec?.containers.find((x) => x.name === name) ?? pod.spec?.initContainers?.find((x) => x.name === name);
        return !!c && this.started(uid, c, inst);
      },
    });
    if (!statusChanged(pod.status, status)) return;
    await this.d.client.patch(podsResource, pod.metadata!.namespace, pod.metadata!.name!, { metadata: { uid }, status } as Record<string, unknown>, 'merge-patch', { subresource: 'status' });
  }
}

/** The last `max` bytes of a file (from its start when `tail` is false), or undefined when it is missing or empty. */
async function readTail(path: string, max: number, tail: boolean): Promise<string | undefined> {
  const f = await openFile(path, 'r').catch(() => undefined);
  if (!f) return undefined;
  try {
    const size = (await f.stat()).size;
    if (!size) return undefined;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    await f.read(buf, 0, len, tail ? size - len : 0);
    return buf.toString();
  } finally {
    await f.close();
  }
}

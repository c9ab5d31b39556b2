import type { PodSandboxConfig } from './cri/types.js';
import type { WaitingReason } from './status.js';

/** What the kubelet remembers about a pod between syncs; all of it can be lost (a restart) without harm. */
export interface PodState {
  uid: string;
  /** Container name → why it is waiting (pull errors, back-off, config errors). */
  waiting: Map<string, WaitingReason>;
  volumePaths?: Map<string, string>;
  volumesAt: number;
  sandboxId?: string;
  sandboxConfig?: PodSandboxConfig;
  podIP?: string;
  /** Set once the pod finished: sandbox stopped, nothing more to run. */
  finished?: 'Succeeded' | 'Failed';
  /** Counts containers created, started or killed: a sync that did none need not read the runtime again. */
  actions: number;
}

export const newPodState = (uid: string): PodState => ({ uid, waiting: new Map(), volumesAt: 0, actions: 0 });

import type { Pod } from 'kubernetes-types/core/v1';
import { Status, type CycleState, type FrameworkHandle, type PostFilterPlugin } from '../framework.js';
/** Placeholder until the real plugin lands. */
export class DefaultPreemption implements PostFilterPlugin {
  static readonly pluginName = 'DefaultPreemption';
  constructor(_h: FrameworkHandle) {}
  name(): string { return DefaultPreemption.pluginName; }
  async postFilter(_s: CycleState, _p: Pod, statuses: Map<string, Status>) { void statuses; return { status: Status.unschedulable() }; }
}

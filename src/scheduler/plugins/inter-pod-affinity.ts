import type { Pod } from 'kubernetes-types/core/v1';
import { Status, type CycleState, type FilterPlugin, type FrameworkHandle, type PreFilterPlugin, type Plugin } from '../framework.js';
/** Placeholder until the real plugin lands. */
export class InterPodAffinity implements Plugin, PreFilterPlugin, FilterPlugin {
  static readonly pluginName = 'InterPodAffinity';
  constructor(_h: FrameworkHandle, _a: { hardPodAffinityWeight?: number } = {}) {}
  name(): string { return InterPodAffinity.pluginName; }
  preFilter(_s: CycleState, _p: Pod) { return { status: Status.skip() }; }
  filter(): Status { return Status.success(); }
}

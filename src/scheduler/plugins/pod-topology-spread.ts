import type { Pod } from 'kubernetes-types/core/v1';
import { Status, type CycleState, type FilterPlugin, type FrameworkHandle, type PreFilterPlugin, type Plugin } from '../framework.js';
export interface PodTopologySpreadArgs { defaultingType?: 'System' | 'List' }
/** Placeholder until the real plugin lands. */
export class PodTopologySpread implements Plugin, PreFilterPlugin, FilterPlugin {
  static readonly pluginName = 'PodTopologySpread';
  constructor(_h: FrameworkHandle, _a: PodTopologySpreadArgs = {}) {}
  name(): string { return PodTopologySpread.pluginName; }
  preFilter(_s: CycleState, _p: Pod) { return { status: Status.skip() }; }
  filter(): Status { return Status.success(); }
}

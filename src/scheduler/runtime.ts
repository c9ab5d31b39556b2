/**
 * One profile's framework instance (upstream's frameworkImpl): its plugins
 * sorted per extension point, and the Run…Plugins that drive them.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import {
  Code, CycleState, MAX_NODE_SCORE, Status, isBind, isFilter, isPermit, isPostFilter, isPreBind, isPreFilter, isPreScore, isReserve, isScore,
  type BindPlugin, type FilterPlugin, type FrameworkHandle, type NodeScore, type Plugin, type PluginFactory, type PostFilterPlugin,
  type PostFilterResult, type PreBindPlugin, type PreFilterPlugin, type PreFilterResult, type PermitPlugin, type PreScorePlugin,
  type ReservePlugin, type ScorePlugin,
} from './framework.js';
import type { ExtensionPoint, ResolvedProfile } from './config.js';
import type { NodeInfo } from './node-info.js';

export class ConfigurationError extends Error {}
const SUCCESS = Status.success();

export class Framework {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number;
  readonly plugins: Plugin[] = [];
  readonly preFilterPlugins: PreFilterPlugin[] = [];
  readonly filterPlugins: FilterPlugin[] = [];
  readonly postFilterPlugins: PostFilterPlugin[] = [];
  readonly preScorePlugins: PreScorePlugin[] = [];
  readonly scorePlugins: Array<{ plugin: ScorePlugin; weight: number }> = [];
  readonly reservePlugins: ReservePlugin[] = [];
  readonly permitPlugins: PermitPlugin[] = [];
  readonly preBindPlugins: PreBindPlugin[] = [];
  readonly bindPlugins: BindPlugin[] = [];

  constructor(profile: ResolvedProfile, registry: ReadonlyMap<string, PluginFactory>, handle: Omit<FrameworkHandle, 'runFilterPlugins'>) {
    this.profileName = profile.schedulerName;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore;
    const fullHandle: FrameworkHandle = { ...handle, runFilterPlugins: (s, p, n) => this.runFilterPlugins(s, p, n) };
    const on = (point: ExtensionPoint, name: string) => !profile.disabledAt.get(point)?.has(name);
    for (const name of profile.plugins) {
      const factory = registry.get(name);
      if (!factory) throw new ConfigurationError(`plugin "${name}" does not exist`);
      const p = factory(profile.args.get(name) ?? {}, fullHandle);
      this.plugins.push(p);
      if (isPreFilter(p) && on('preFilter', name)) this.preFilterPlugins.push(p);
      if (isFilter(p) && on('filter', name)) this.filterPlugins.push(p);
      if (isPostFilter(p) && on('postFilter', name)) this.postFilterPlugins.push(p);
      if (isPreScore(p) && on('preScore', name)) this.preScorePlugins.push(p);
      if (isScore(p) && on('score', name)) this.scorePlugins.push({ plugin: p, weight: profile.weights.get(name) ?? 1 });
      if (isReserve(p) && on('reserve', name)) this.reservePlugins.push(p);
      if (isPermit(p) && on('permit', name)) this.permitPlugins.push(p);
      if (isPreBind(p) && on('preBind', name)) this.preBindPlugins.push(p);
      if (isBind(p) && on('bind', name)) this.bindPlugins.push(p);
    }
    if (this.bindPlugins.length === 0) throw new ConfigurationError(`profile "${profile.schedulerName}": at least one bind plugin is needed`);
  }

  /** Narrowed node names (intersection of every result), or undefined for all. */
  runPreFilterPlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status: Status } {
    let result: PreFilterResult | undefined;
    for (const p of this.preFilterPlugins) {
      const r = p.preFilter(state, pod, nodes);
      if (r.status.isSkip()) { state.skipFilterPlugins.add(p.name()); continue; }
      if (!r.status.isSuccess()) return { status: r.status.withPlugin(p.name()) };
      if (r.result?.nodeNames) {
        const names: Set<string> = r.result.nodeNames;
        result = { nodeNames: result?.nodeNames ? new Set([...result.nodeNames].filter((n) => names.has(n))) : names };
      }
    }
    return { result, status: Status.success() };
  }

  /** Stops at the first plugin that rejects the node, as upstream. */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const plugins = state.activeFilterPlugins ??= this.filterPlugins.filter((p) => !state.skipFilterPlugins.has(p.name()));
    for (let i = 0; i < plugins.length; i++) {
      const st = plugins[i].filter(state, pod, nodeInfo);
      if (st.code !== Code.Success) return st.withPlugin(plugins[i].name());
    }
    return SUCCESS;
  }

  async runPostFilterPlugins(state: CycleState, pod: Pod, statuses: Map<string, Status>): Promise<{ result?: PostFilterResult; status: Status }> {
    let last: { result?: PostFilterResult; status: Status } = { status: Status.unschedulable() };
    for (const p of this.postFilterPlugins) {
      const r = await p.postFilter(state, pod, statuses);
      if (r.status.isSuccess()) return r;
      last = { result: r.result, status: r.status.withPlugin(p.name()) };
    }
    return last;
  }

  runPreScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status {
    for (const p of this.preScorePlugins) {
      const st = p.preScore(state, pod, nodes);
      if (st.isSkip()) { state.skipScorePlugins.add(p.name()); continue; }
      if (!st.isSuccess()) return st.withPlugin(p.name());
    }
    return Status.success();
  }

  /** Weighted sum of every Score plugin's normalised score, per node. */
  runScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    for (const { plugin, weight } of this.scorePlugins) {
      if (state.skipScorePlugins.has(plugin.name())) continue;
      const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
      plugin.normalizeScore?.(state, pod, scores);
      for (let i = 0; i < scores.length; i++) {
        const s = Math.max(0, Math.min(MAX_NODE_SCORE, scores[i].score));
        totals[i] += s * weight;
      }
    }
    return totals;
  }

  runReservePlugins(state: CycleState, pod: Pod, nodeName: string): Status {
    for (const p of this.reservePlugins) {
      const st = p.reserve(state, pod, nodeName);
      if (!st.isSuccess()) return st.withPlugin(p.name());
    }
    return Status.success();
  }

  runUnreservePlugins(state: CycleState, pod: Pod, nodeName: string): void {
    for (const p of [...this.reservePlugins].reverse()) p.unreserve(state, pod, nodeName);
  }

  runPermitPlugins(state: CycleState, pod: Pod, nodeName: string): Status {
    for (const p of this.permitPlugins) {
      const st = p.permit(state, pod, nodeName);
      if (!st.isSuccess()) return st.withPlugin(p.name());
    }
    return Status.success();
  }

  async runPreBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    for (const p of this.preBindPlugins) {
      const st = await p.preBind(state, pod, nodeName);
      if (!st.isSuccess()) return st.withPlugin(p.name());
    }
    return Status.success();
  }

  async runBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    for (const p of this.bindPlugins) {
      const st = await p.bind(state, pod, nodeName);
      if (st.isSkip()) continue;
      return st.withPlugin(p.name());
    }
    return Status.error('no bind plugin bound the pod');
  }
}

export { CycleState };

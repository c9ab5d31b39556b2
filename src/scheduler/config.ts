/**
 * Profiles from a `KubeSchedulerConfiguration` (kubescheduler.config.k8s.io/v1),
 * YAML or JSON, as upstream reads `--config`:
 *
 * ```yaml
 * apiVersion: kubescheduler.config.k8s.io/v1
 * kind: KubeSchedulerConfiguration
 * percentageOfNodesToScore: 0          # 0: adaptive (50% − nodes/125, at least 5%)
 * profiles:
 * - schedulerName: default-scheduler
 *   plugins:
 *     multiPoint: { enabled: [{ name: ImageLocality, weight: 3 }], disabled: [{ name: NodePorts }] }
 *     score: { disabled: [{ name: NodeResourcesBalancedAllocation }] }
 *   pluginConfig:
 *   - name: NodeResourcesFit
 *     args: { scoringStrategy: { type: MostAllocated } }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** Extension points a plugin may be enabled or disabled at. */
export const EXTENSION_POINTS = ['preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind'] as const;
export type ExtensionPoint = typeof EXTENSION_POINTS[number];

export interface PluginRef { name: string; weight?: number }
export interface PluginSet { enabled?: PluginRef[]; disabled?: PluginRef[] }
export type Plugins = Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;
export interface PluginConfig { name: string; args?: Record<string, unknown> }

export interface KubeSchedulerProfile {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: Plugins;
  pluginConfig?: PluginConfig[];
}

export interface KubeSchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  profiles?: KubeSchedulerProfile[];
}

/** Upstream v1's default plugins in multiPoint order, with their score weights. */
export const DEFAULT_PLUGINS: PluginRef[] = [
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
];

/** A profile resolved: which plugin runs where, with what weight and args. */
export interface ResolvedProfile {
  schedulerName: string;
  /** 0 means adaptive. */
  percentageOfNodesToScore: number;
  /** Enabled plugins in order. */
  plugins: string[];
  weights: Map<string, number>;
  /** Per extension point, plugins switched off there only. */
  disabledAt: Map<ExtensionPoint, Set<string>>;
  args: Map<string, Record<string, unknown>>;
}

export class ConfigError extends Error {}

export function resolveProfile(p: KubeSchedulerProfile, global: KubeSchedulerConfiguration = {}): ResolvedProfile {
  const plugins: string[] = [];
  const weights = new Map<string, number>();
  const mp = p.plugins?.multiPoint;
  const disabledAll = (mp?.disabled ?? []).some((d) => d.name === '*');
  const disabled = new Set((mp?.disabled ?? []).map((d) => d.name));
  if (!disabledAll) {
    for (const d of DEFAULT_PLUGINS) {
      if (disabled.has(d.name)) continue;
      plugins.push(d.name);
      if (d.weight) weights.set(d.name, d.weight);
    }
  }
  const enable = (ref: PluginRef, scoreWeight: boolean) => {
    if (!plugins.includes(ref.name)) plugins.push(ref.name);
    if (ref.weight !== undefined || scoreWeight) weights.set(ref.name, ref.weight ?? weights.get(ref.name) ?? 1);
  };
  for (const ref of mp?.enabled ?? []) enable(ref, false);
  const disabledAt = new Map<ExtensionPoint, Set<string>>();
  for (const point of EXTENSION_POINTS) {
    const set = p.plugins?.[point];
    if (!set) continue;
    const off = new Set((set.disabled ?? []).map((d) => d.name));
    for (const ref of set.enabled ?? []) { off.delete(ref.name); enable(ref, point === 'score'); }
    if (off.has('*')) {
      // '*' at one point keeps only what that point enables explicitly.
      const keep = new Set((set.enabled ?? []).map((r) => r.name));
      for (const name of plugins) if (!keep.has(name)) off.add(name);
    }
    if (off.size) disabledAt.set(point, off);
  }
  const args = new Map<string, Record<string, unknown>>();
  for (const pc of p.pluginConfig ?? []) args.set(pc.name, pc.args ?? {});
  const pct = p.percentageOfNodesToScore ?? global.percentageOfNodesToScore ?? 0;
  if (pct < 0 || pct > 100) throw new ConfigError(`percentageOfNodesToScore: Invalid value: ${pct}: not in valid range [0-100]`);
  return { schedulerName: p.schedulerName || DEFAULT_SCHEDULER_NAME, percentageOfNodesToScore: pct, plugins, weights, disabledAt, args };
}

export function parseSchedulerConfiguration(text: string): KubeSchedulerConfiguration {
  const doc: unknown = parseYaml(text);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError('scheduler configuration: not an object');
  const cfg = doc as KubeSchedulerConfiguration;
  if (cfg.kind && cfg.kind !== 'KubeSchedulerConfiguration') throw new ConfigError(`scheduler configuration: kind ${cfg.kind} is not KubeSchedulerConfiguration`);
  if (cfg.apiVersion && !cfg.apiVersion.startsWith('kubescheduler.config.k8s.io/')) throw new ConfigError(`scheduler configuration: apiVersion ${cfg.apiVersion} is not kubescheduler.config.k8s.io/v1`);
  const names = new Set<string>();
  for (const p of cfg.profiles ?? []) {
    const n = p.schedulerName || DEFAULT_SCHEDULER_NAME;
    if (names.has(n)) throw new ConfigError(`profiles[].schedulerName: Duplicate value: "${n}"`);
    names.add(n);
  }
  return cfg;
}

/** Reads `--scheduler-config`. */
export async function loadSchedulerConfiguration(path: string): Promise<KubeSchedulerConfiguration> {
  return parseSchedulerConfiguration(await readFile(path, 'utf8'));
}

/** Every profile of a configuration, the default one when it names none. */
export function resolveProfiles(cfg: KubeSchedulerConfiguration = {}): ResolvedProfile[] {
  const profiles = cfg.profiles?.length ? cfg.profiles : [{}];
  return profiles.map((p) => resolveProfile(p, cfg));
}

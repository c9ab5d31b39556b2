import type { Pod } from 'kubernetes-types/core/v1';
import { quantityToMilli, tryParseQuantity } from '../../api/validation/quantity.js';

/** One pod's usage of a resource, in milli-units (millicores; bytes × 1000), as upstream's PodMetric. */
export interface PodMetric { value: number; timestamp: number; windowMs: number }
/** Pod name → metric. */
export type PodMetricsInfo = Map<string, PodMetric>;

export interface CalculatorOptions {
  /** `--horizontal-pod-autoscaler-tolerance`, 0.1. */
  tolerance: number;
  /** `--horizontal-pod-autoscaler-cpu-initialization-period`, 5 min. */
  cpuInitializationPeriodMs: number;
  /** `--horizontal-pod-autoscaler-initial-readiness-delay`, 30 s. */
  delayOfInitialReadinessStatusMs: number;
}

export const DEFAULT_CALCULATOR_OPTIONS: CalculatorOptions = {
  tolerance: 0.1, cpuInitializationPeriodMs: 5 * 60_000, delayOfInitialReadinessStatusMs: 30_000,
};

export class CalculationError extends Error {}

const ms = (t: string | undefined): number | undefined => {
  const v = t ? Date.parse(t) : NaN;
  return Number.isFinite(v) ? v : undefined;
};

/**
 * Upstream's groupPods: pods being deleted or failed are ignored; pending
 * ones are unready; pods without a metric are missing; for cpu, a pod still
 * warming up (or never ready) counts as unready, so its burst does not
 * trigger a scale-up.
 */
export function groupPods(pods: Pod[], metrics: PodMetricsInfo, resource: string, opts: CalculatorOptions, now = Date.now()) {
  let readyPodCount = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const phase = pod.status?.phase;
    if (pod.metadata?.deletionTimestamp || phase === 'Failed' || phase === 'Succeeded') { ignored.add(name); continue; }
    if (phase === 'Pending') { unready.add(name); continue; }
    const metric = metrics.get(name);
    if (!metric) { missing.add(name); continue; }
    if (resource === 'cpu') {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = ms(pod.status?.startTime);
      let isUnready: boolean;
      if (!ready || start === undefined) isUnready = true;
      else {
        const transition = ms(ready.lastTransitionTime) ?? 0;
        if (start + opts.cpuInitializationPeriodMs > now) {
          // Warming up: unready, or no full metric window since it turned ready.
          isUnready = ready.status === 'False' || metric.timestamp < transition + metric.windowMs;
        } else {
          // Past warm-up: ignore it only if it is unready and has never been ready.
          isUnready = ready.status === 'False' && start + opts.delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (isUnready) { unready.add(name); continue; }
    }
    readyPodCount++;
  }
  return { readyPodCount, unready, missing, ignored };
}

/** Sum of the containers' requests of `resource` per pod (milli-units); a container without one is an error, as upstream. */
export function calculatePodRequests(pods: Pod[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const q = c.resources?.requests?.[resource];
      const parsed = q === undefined ? undefined : tryParseQuantity(String(q));
      if (!parsed) throw new CalculationError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`);
      sum += quantityToMilli(parsed);
    }
    out.set(pod.metadata?.name ?? '', sum);
  }
  return out;
}

/** metricsclient.GetResourceUtilizationRatio. */
export function resourceUtilizationRatio(metrics: PodMetricsInfo, requests: Map<string, number>, targetUtilization: number) {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [name, m] of metrics) {
    const request = requests.get(name);
    if (request === undefined) continue; // extraneous metric
    metricsTotal += m.value;
    requestsTotal += request;
    entries++;
  }
  if (requestsTotal === 0) throw new CalculationError('no metrics returned matched known pods');
  // Integer percent, as upstream's int64 arithmetic.
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

/** metricsclient.GetMetricUsageRatio. */
function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number) {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}

export interface Proposal { replicas: number; utilization?: number; rawAverage: number; timestamp: number }

const latest = (metrics: PodMetricsInfo): number => Math.max(0, ...[...metrics.values()].map((m) => m.timestamp));

/**
 * ReplicaCalculator.GetResourceReplicas (a Utilization target) and
 * GetRawResourceReplicas (an AverageValue target, in milli-units): the
 * replica count that brings the average back to the target, with upstream's
 * treatment of missing and unready pods and its tolerance.
 */
export function resourceReplicas(args: {
  currentReplicas: number; pods: Pod[]; metrics: PodMetricsInfo; resource: string;
  targetUtilization?: number; targetAverageMilli?: number; container?: string; opts: CalculatorOptions; now?: number;
}): Proposal {
  const { currentReplicas, pods, resource, opts } = args;
  const metrics = new Map(args.metrics);
  const timestamp = latest(metrics);
  if (pods.length === 0) throw new CalculationError('no pods returned by selector while calculating replica count');
  const { readyPodCount, unready, missing, ignored } = groupPods(pods, metrics, resource, opts, args.now);
  for (const n of ignored) metrics.delete(n);
  for (const n of unready) metrics.delete(n);
  // Requests first, as upstream: a pod without one is the error to report even while no metric has arrived yet.
  const utilizationMode = args.targetUtilization !== undefined;
  const requests = utilizationMode ? calculatePodRequests(pods, resource, args.container) : new Map<string, number>();
  if (metrics.size === 0) throw new CalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const ratioOf = (m: PodMetricsInfo) => {
    if (utilizationMode) {
      const r = resourceUtilizationRatio(m, requests, args.targetUtilization!);
      return { ratio: r.ratio, utilization: r.utilization as number | undefined, raw: r.rawAverage };
    }
    const r = metricUsageRatio(m, args.targetAverageMilli!);
    return { ratio: r.ratio, utilization: undefined, raw: r.usage };
  };
  const first = ratioOf(metrics);
  const result = (replicas: number): Proposal => ({ replicas, utilization: first.utilization, rawAverage: first.raw, timestamp });
  const usageRatio = first.ratio;

  const scaleUpWithUnready = unready.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missing.size === 0) {
    if (Math.abs(1.0 - usageRatio) <= opts.tolerance) return result(currentReplicas);
    return result(Math.ceil(usageRatio * readyPodCount));
  }
  if (missing.size > 0) {
    for (const name of missing) {
      let value = 0;
      if (usageRatio < 1.0) {
        // On a scale-down a pod without metrics counts as using its whole request (or the target, when above 100%).
        value = utilizationMode ? Math.trunc((requests.get(name) ?? 0) * Math.max(100, args.targetUtilization!) / 100) : args.targetAverageMilli!;
      }
      // On a scale-up it counts as using nothing.
      if (usageRatio !== 1.0) metrics.set(name, { value, timestamp, windowMs: 0 });
    }
  }
  if (scaleUpWithUnready) for (const name of unready) metrics.set(name, { value: 0, timestamp, windowMs: 0 });

  const next = ratioOf(metrics).ratio;
  if (Math.abs(1.0 - next) <= opts.tolerance || (usageRatio < 1.0 && next > 1.0) || (usageRatio > 1.0 && next < 1.0)) {
    // Too small a change, or the assumptions flipped the direction.
    return result(currentReplicas);
  }
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1.0 && replicas > currentReplicas) || (next > 1.0 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}

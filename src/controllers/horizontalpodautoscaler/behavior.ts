import type { HPAScalingRules, HorizontalPodAutoscalerBehavior } from 'kubernetes-types/autoscaling/v2';

/** A replica count the metrics asked for at some time. */
interface Recommendation { replicas: number; at: number }
/** A rescale that happened: how many replicas it added or removed. */
interface ScaleEvent { change: number; at: number }

export interface Limited { replicas: number; reason: string; message: string }

/** Without `behavior`, upstream never more than doubles (at least 4) in one step. */
const SCALE_UP_LIMIT_FACTOR = 2;
const SCALE_UP_LIMIT_MINIMUM = 4;

const MAX_INT32 = 2 ** 31 - 1;
const MIN_INT32 = -(2 ** 31);

/** Upstream's convertDesiredReplicasWithRules: min/max and the legacy scale-up rate, for HPAs without `behavior`. */
export function convertDesiredReplicasWithRules(current: number, desired: number, min: number, max: number): Limited {
  const scaleUpLimit = Math.max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM);
  let maximum: number;
  let reason: string;
  let message: string;
  if (max > scaleUpLimit) {
    maximum = scaleUpLimit; reason = 'ScaleUpLimit'; message = 'the desired replica count is increasing faster than the maximum scale rate';
  } else {
    maximum = max; reason = 'TooManyReplicas'; message = 'the desired replica count is more than the maximum replica count';
  }
  if (desired < min) return { replicas: min, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  if (desired > maximum) return { replicas: maximum, reason, message };
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

/** Replicas changed by the events inside the last `periodSeconds`. */
function changeInPeriod(periodSeconds: number, events: ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.reduce((sum, e) => (e.at > cutoff ? sum + e.change : sum), 0);
}

/** calculateScaleUpLimitWithScalingRules: the most replicas the policies allow now. */
export function scaleUpLimit(current: number, up: ScaleEvent[], down: ScaleEvent[], rules: HPAScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const useMin = rules.selectPolicy === 'Min';
  let result = useMin ? MAX_INT32 : MIN_INT32;
  for (const p of rules.policies ?? []) {
    const periodStart = current - changeInPeriod(p.periodSeconds, up, now) + changeInPeriod(p.periodSeconds, down, now);
    const proposed = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    result = useMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors: the fewest replicas the policies allow now. */
export function scaleDownLimit(current: number, up: ScaleEvent[], down: ScaleEvent[], rules: HPAScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const useMin = rules.selectPolicy === 'Min';
  let result = useMin ? MIN_INT32 : MAX_INT32;
  for (const p of rules.policies ?? []) {
    const periodStart = current - changeInPeriod(p.periodSeconds, up, now) + changeInPeriod(p.periodSeconds, down, now);
    const proposed = p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
    result = useMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** The controller's built-in rules (autoscaling/v2 defaults), used for any part of `behavior` left out. */
export function defaultScaleUpRules(): HPAScalingRules {
  return { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
}
export function defaultScaleDownRules(windowSeconds: number): HPAScalingRules {
  return { stabilizationWindowSeconds: windowSeconds, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

export interface NormalizeArgs {
  key: string;
  current: number;
  desired: number;
  min: number;
  max: number;
  behavior?: HorizontalPodAutoscalerBehavior;
  now?: number;
}

export interface Normalized {
  replicas: number;
  /** AbleToScale's reason and message (stabilized or ready). */
  ableToScale: { reason: string; message: string };
  /** ScalingLimited: true when the rules changed the stabilized recommendation. */
  limited: { status: boolean; reason: string; message: string };
}

/**
 * The HPA controller's memory between syncs, per HPA: recent
 * recommendations (stabilization windows) and recent rescales (rate
 * policies). Like upstream's, it lives in the leader's memory only.
 */
export class ScalingHistory {
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly upEvents = new Map<string, ScaleEvent[]>();
  private readonly downEvents = new Map<string, ScaleEvent[]>();

  /** `--horizontal-pod-autoscaler-downscale-stabilization` (5 min): scale-down window when `behavior` does not set one. */
  constructor(private readonly downscaleStabilizationMs: number) {}

  forget(key: string): void {
    this.recommendations.delete(key);
    this.upEvents.delete(key);
    this.downEvents.delete(key);
  }

  /** Records a rescale; events older than the longest policy period are dropped. */
  recordScale(key: string, behavior: HorizontalPodAutoscalerBehavior | undefined, previous: number, next: number, now = Date.now()): void {
    if (!behavior || previous === next) return;
    const up = next > previous;
    const rules = up ? behavior.scaleUp : behavior.scaleDown;
    const longest = Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds)) * 1000;
    const map = up ? this.upEvents : this.downEvents;
    const kept = (map.get(key) ?? []).filter((e) => e.at > now - longest);
    kept.push({ change: Math.abs(next - previous), at: now });
    map.set(key, kept);
  }

  /** normalizeDesiredReplicas / normalizeDesiredReplicasWithBehaviors. */
  normalize(args: NormalizeArgs): Normalized {
    return args.behavior ? this.withBehavior(args, args.behavior) : this.withoutBehavior(args);
  }

  /** Records the unstabilized recommendation, in place of a sample older than every window if there is one (as upstream). */
  private record(key: string, replicas: number, now: number, isOld: (r: Recommendation) => boolean): void {
    const list = this.recommendations.get(key) ?? [];
    let old = -1;
    list.forEach((r, i) => { if (isOld(r)) old = i; });
    if (old >= 0) list[old] = { replicas, at: now }; else list.push({ replicas, at: now });
    this.recommendations.set(key, list);
  }

  private withoutBehavior(a: NormalizeArgs): Normalized {
    const now = a.now ?? Date.now();
    const cutoff = now - this.downscaleStabilizationMs;
    let stabilized = a.desired;
    for (const r of this.recommendations.get(a.key) ?? []) if (r.at >= cutoff && r.replicas > stabilized) stabilized = r.replicas;
    this.record(a.key, a.desired, now, (r) => r.at < cutoff);
    const ableToScale = stabilized !== a.desired
      ? { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
      : { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
    const limited = convertDesiredReplicasWithRules(a.current, stabilized, a.min, a.max);
    return { replicas: limited.replicas, ableToScale, limited: { status: limited.replicas !== stabilized, reason: limited.reason, message: limited.message } };
  }

  private withBehavior(a: NormalizeArgs, behavior: HorizontalPodAutoscalerBehavior): Normalized {
    const now = a.now ?? Date.now();
    const up = { ...defaultScaleUpRules(), ...behavior.scaleUp };
    const down = { ...defaultScaleDownRules(this.downscaleStabilizationMs / 1000), ...behavior.scaleDown };
    up.stabilizationWindowSeconds ??= 0;
    down.stabilizationWindowSeconds ??= this.downscaleStabilizationMs / 1000;
    const upCutoff = now - up.stabilizationWindowSeconds * 1000;
    const downCutoff = now - down.stabilizationWindowSeconds * 1000;
    let upRecommendation = a.desired;
    let downRecommendation = a.desired;
    for (const r of this.recommendations.get(a.key) ?? []) {
      if (r.at > upCutoff) upRecommendation = Math.min(r.replicas, upRecommendation);
      if (r.at > downCutoff) downRecommendation = Math.max(r.replicas, downRecommendation);
    }
    // Within [lowest recent, highest recent], as close to the current count as possible.
    let stabilized = a.current;
    if (stabilized < upRecommendation) stabilized = upRecommendation;
    if (stabilized > downRecommendation) stabilized = downRecommendation;
    this.record(a.key, a.desired, now, (r) => r.at < upCutoff && r.at < downCutoff);

    const ableToScale = stabilized === a.desired
      ? { reason: 'ReadyForNewScale', message: 'recommended size matches current size' }
      : a.desired >= a.current
        ? { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
        : { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };

    const limited = this.withRate(a.key, a.current, stabilized, a.min, a.max, up, down, now);
    return { replicas: limited.replicas, ableToScale, limited: { status: limited.replicas !== stabilized, reason: limited.reason, message: limited.message } };
  }

  /** convertDesiredReplicasWithBehaviorRate. */
  private withRate(key: string, current: number, desired: number, min: number, max: number, up: HPAScalingRules, down: HPAScalingRules, now: number): Limited {
    const ups = this.upEvents.get(key) ?? [];
    const downs = this.downEvents.get(key) ?? [];
    if (desired > current) {
      const limit = Math.max(current, scaleUpLimit(current, ups, downs, up, now));
      const [maximum, reason, message] = max > limit
        ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
        : [max, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (desired > maximum) return { replicas: maximum, reason, message };
    } else if (desired < current) {
      const limit = Math.min(current, scaleDownLimit(current, ups, downs, down, now));
      const [minimum, reason, message] = min < limit
        ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
        : [min, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (desired < minimum) return { replicas: minimum, reason, message };
    }
    return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }
}

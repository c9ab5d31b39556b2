import type * as v1 from 'kubernetes-types/autoscaling/v1';
import type * as v2 from 'kubernetes-types/autoscaling/v2';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { badRequest } from '../../api/status.js';

/**
 * autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscaler, as upstream's
 * pkg/apis/autoscaling/v1/conversion.go: v1 has one field for a CPU
 * utilization target; everything else v2 can say rides in annotations so
 * that a v1 client's read-modify-write loses nothing.
 *
 * One upstream quirk is kept on purpose: a v2 CPU-utilization metric comes
 * back from v1 *after* the other metrics.
 */

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP_ANNOTATIONS = [METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

/** v1 made the 80% CPU target implicit; v2 spells it out. */
const DEFAULT_CPU_UTILIZATION = 80;

/*
 * The annotations hold metrics in the autoscaling/v1 MetricSpec/MetricStatus
 * encoding (v2beta1's flat shape), which the typed package does not ship
 * because no endpoint serves it. These describe just that JSON.
 */
interface CrossVersionRef { kind: string; name: string; apiVersion?: string }
interface AnnotationMetricSpec {
  type: string;
  object?: { target: CrossVersionRef; metricName: string; targetValue: string; selector?: LabelSelector; averageValue?: string };
  pods?: { metricName: string; targetAverageValue: string; selector?: LabelSelector };
  resource?: { name: string; targetAverageUtilization?: number; targetAverageValue?: string };
  containerResource?: { name: string; container: string; targetAverageUtilization?: number; targetAverageValue?: string };
  external?: { metricName: string; metricSelector?: LabelSelector; targetValue?: string; targetAverageValue?: string };
}
interface AnnotationMetricStatus {
  type: string;
  object?: { target: CrossVersionRef; metricName: string; currentValue: string; selector?: LabelSelector; averageValue?: string };
  pods?: { metricName: string; currentAverageValue: string; selector?: LabelSelector };
  resource?: { name: string; currentAverageUtilization?: number; currentAverageValue: string };
  containerResource?: { name: string; container: string; currentAverageUtilization?: number; currentAverageValue: string };
  external?: { metricName: string; metricSelector?: LabelSelector; currentValue: string; currentAverageValue?: string };
}

/** A Quantity is a struct in Go: an unset required one still marshals, as "0". */
const ZERO = '0';

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const isCPUUtilization = (m: v2.MetricSpec): boolean =>
  m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.averageUtilization !== undefined;

function metricSpecToV1(m: v2.MetricSpec): AnnotationMetricSpec {
  const out: AnnotationMetricSpec = { type: m.type };
  if (m.object) {
    const o = m.object;
    out.object = defined({ target: o.describedObject, metricName: o.metric.name, targetValue: o.target.value ?? ZERO, selector: o.metric.selector, averageValue: o.target.averageValue });
  }
  if (m.pods) out.pods = defined({ metricName: m.pods.metric.name, targetAverageValue: m.pods.target.averageValue ?? ZERO, selector: m.pods.metric.selector });
  if (m.resource) out.resource = defined({ name: m.resource.name, targetAverageUtilization: m.resource.target.averageUtilization, targetAverageValue: m.resource.target.averageValue });
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = defined({ name: c.name, container: c.container, targetAverageUtilization: c.target.averageUtilization, targetAverageValue: c.target.averageValue });
  }
  if (m.external) {
    const e = m.external;
    out.external = defined({ metricName: e.metric.name, metricSelector: e.metric.selector, targetValue: e.target.value, targetAverageValue: e.target.averageValue });
  }
  return out;
}

function metricSpecToV2(m: AnnotationMetricSpec): v2.MetricSpec {
  const out: v2.MetricSpec = { type: m.type };
  if (m.object) {
    const o = m.object;
    out.object = {
      describedObject: defined({ kind: o.target.kind, name: o.target.name, apiVersion: o.target.apiVersion }),
      metric: defined({ name: o.metricName, selector: o.selector }),
      target: defined({ type: o.averageValue === undefined ? 'Value' : 'AverageValue', value: o.targetValue, averageValue: o.averageValue }),
    };
  }
  if (m.pods) {
    out.pods = { metric: defined({ name: m.pods.metricName, selector: m.pods.selector }), target: { type: 'AverageValue', averageValue: m.pods.targetAverageValue } };
  }
  if (m.resource) {
    const r = m.resource;
    out.resource = { name: r.name, target: defined({ type: r.targetAverageUtilization === undefined ? 'AverageValue' : 'Utilization', averageValue: r.targetAverageValue, averageUtilization: r.targetAverageUtilization }) };
  }
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = {
      name: c.name, container: c.container,
      target: defined({ type: c.targetAverageUtilization === undefined ? 'AverageValue' : 'Utilization', averageValue: c.targetAverageValue, averageUtilization: c.targetAverageUtilization }),
    };
  }
  if (m.external) {
    const e = m.external;
    out.external = {
      metric: defined({ name: e.metricName, selector: e.metricSelector }),
      target: defined({ type: e.targetValue === undefined ? 'AverageValue' : 'Value', value: e.targetValue, averageValue: e.targetAverageValue }),
    };
  }
  return out;
}

function metricStatusToV1(m: v2.MetricStatus): AnnotationMetricStatus {
  const out: AnnotationMetricStatus = { type: m.type };
  if (m.object) {
    const o = m.object;
    out.object = defined({ target: o.describedObject, metricName: o.metric.name, currentValue: o.current.value ?? ZERO, selector: o.metric.selector, averageValue: o.current.averageValue });
  }
  if (m.pods) out.pods = defined({ metricName: m.pods.metric.name, currentAverageValue: m.pods.current.averageValue ?? ZERO, selector: m.pods.metric.selector });
  if (m.resource) {
    out.resource = defined({ name: m.resource.name, currentAverageUtilization: m.resource.current.averageUtilization, currentAverageValue: m.resource.current.averageValue ?? ZERO });
  }
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = defined({ name: c.name, container: c.container, currentAverageUtilization: c.current.averageUtilization, currentAverageValue: c.current.averageValue ?? ZERO });
  }
  if (m.external) {
    const e = m.external;
    out.external = defined({ metricName: e.metric.name, metricSelector: e.metric.selector, currentValue: e.current.value ?? ZERO, currentAverageValue: e.current.averageValue });
  }
  return out;
}

function metricStatusToV2(m: AnnotationMetricStatus): v2.MetricStatus {
  const out: v2.MetricStatus = { type: m.type };
  if (m.object) {
    const o = m.object;
    out.object = {
      describedObject: defined({ kind: o.target.kind, name: o.target.name, apiVersion: o.target.apiVersion }),
      metric: defined({ name: o.metricName, selector: o.selector }),
      current: defined({ value: o.currentValue, averageValue: o.averageValue }),
    };
  }
  if (m.pods) out.pods = { metric: defined({ name: m.pods.metricName, selector: m.pods.selector }), current: { averageValue: m.pods.currentAverageValue } };
  if (m.resource) {
    out.resource = { name: m.resource.name, current: defined({ averageValue: m.resource.currentAverageValue, averageUtilization: m.resource.currentAverageUtilization }) };
  }
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = { name: c.name, container: c.container, current: defined({ averageValue: c.currentAverageValue, averageUtilization: c.currentAverageUtilization }) };
  }
  if (m.external) {
    const e = m.external;
    out.external = { metric: defined({ name: e.metricName, selector: e.metricSelector }), current: defined({ value: e.currentValue, averageValue: e.currentAverageValue }) };
  }
  return out;
}

/*
 * Upstream marshals its *internal* behavior type into the annotation, which
 * has no JSON tags: keys come out in Go's field names and unset pointers as
 * null. Reading accepts any letter case, as Go's decoder does.
 */
function behaviorToAnnotation(b: v2.HorizontalPodAutoscalerBehavior): string {
  const rules = (r: v2.HPAScalingRules | undefined) => (r === undefined ? null : {
    StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
    SelectPolicy: r.selectPolicy ?? null,
    Policies: r.policies?.map((p) => ({ Type: p.type, Value: p.value, PeriodSeconds: p.periodSeconds })) ?? null,
  });
  return JSON.stringify({ ScaleUp: rules(b.scaleUp), ScaleDown: rules(b.scaleDown) });
}

function behaviorFromAnnotation(text: string): v2.HorizontalPodAutoscalerBehavior {
  const lower = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(lower);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k.charAt(0).toLowerCase() + k.slice(1), lower(x)]));
  };
  return lower(JSON.parse(text)) as v2.HorizontalPodAutoscalerBehavior;
}

/** What a v1 client sees of a stored (v2) HorizontalPodAutoscaler. */
export function hpaV2ToV1(hpa: v2.HorizontalPodAutoscaler): v1.HorizontalPodAutoscaler {
  const metadata = structuredClone(hpa.metadata ?? {});
  const annotations: Record<string, string> = { ...(metadata.annotations ?? {}) };
  for (const k of ROUND_TRIP_ANNOTATIONS) delete annotations[k];
  const spec = hpa.spec;
  const status = hpa.status;

  const others = (spec?.metrics ?? []).filter((m) => !isCPUUtilization(m)).map(metricSpecToV1);
  if (others.length) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(others);
  // kept even when CPU utilization maps to a v1 field: the raw values ride along
  if (status?.currentMetrics?.length) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(status.currentMetrics.map(metricStatusToV1));
  if (status?.conditions?.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions);
  if (spec?.behavior) annotations[BEHAVIOR_ANNOTATION] = behaviorToAnnotation(spec.behavior);
  if (Object.keys(annotations).length) metadata.annotations = annotations; else delete metadata.annotations;

  const cpu = spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const currentCPU = status?.currentMetrics?.filter((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current.averageUtilization !== undefined).at(-1);
  const out: v1.HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata,
  };
  if (spec) {
    out.spec = defined({
      scaleTargetRef: structuredClone(spec.scaleTargetRef),
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu?.resource?.target.averageUtilization,
    });
  }
  if (status) {
    out.status = defined({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: currentCPU?.resource?.current.averageUtilization,
    });
  }
  return out;
}

function parseAnnotation<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw badRequest(`HorizontalPodAutoscaler in version "v1" cannot be handled as a HorizontalPodAutoscaler: ${(err as Error).message}`);
  }
}

/** A v1 request's object in the stored v2 form; the round-trip annotations are consumed. */
export function hpaV1ToV2(hpa: v1.HorizontalPodAutoscaler): v2.HorizontalPodAutoscaler {
  const metadata = structuredClone(hpa.metadata ?? {});
  const annotations: Record<string, string> = { ...(metadata.annotations ?? {}) };
  const spec = hpa.spec;
  const out: v2.HorizontalPodAutoscaler = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata };

  let metrics: v2.MetricSpec[] = [];
  if (spec?.targetCPUUtilizationPercentage !== undefined) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }];
  }
  const otherText = annotations[METRIC_SPECS_ANNOTATION];
  if (otherText !== undefined) {
    metrics = [...parseAnnotation<AnnotationMetricSpec[]>(otherText).map(metricSpecToV2), ...metrics];
    delete annotations[METRIC_SPECS_ANNOTATION];
  }
  if (metrics.length === 0) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  let behavior: v2.HorizontalPodAutoscalerBehavior | undefined;
  const behaviorText = annotations[BEHAVIOR_ANNOTATION];
  if (behaviorText !== undefined) {
    behavior = parseAnnotation<unknown>(behaviorText) === null ? undefined : behaviorFromAnnotation(behaviorText);
    delete annotations[BEHAVIOR_ANNOTATION];
  }
  out.spec = defined({
    scaleTargetRef: structuredClone(spec?.scaleTargetRef ?? { kind: '', name: '' }),
    minReplicas: spec?.minReplicas,
    maxReplicas: spec?.maxReplicas ?? 0,
    metrics,
    behavior,
  });

  const status = hpa.status;
  let currentMetrics: v2.MetricStatus[] | undefined;
  const currentText = annotations[METRIC_STATUSES_ANNOTATION];
  if (currentText !== undefined) {
    // the annotation knows more than currentCPUUtilizationPercentage does
    currentMetrics = parseAnnotation<AnnotationMetricStatus[]>(currentText).map(metricStatusToV2);
    delete annotations[METRIC_STATUSES_ANNOTATION];
  } else if (status?.currentCPUUtilizationPercentage !== undefined) {
    currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
  }
  let conditions: v2.HorizontalPodAutoscalerCondition[] | undefined;
  const conditionsText = annotations[CONDITIONS_ANNOTATION];
  if (conditionsText !== undefined) {
    conditions = parseAnnotation<v2.HorizontalPodAutoscalerCondition[]>(conditionsText);
    delete annotations[CONDITIONS_ANNOTATION];
  }
  if (status || currentMetrics || conditions) {
    out.status = defined({
      observedGeneration: status?.observedGeneration,
      lastScaleTime: status?.lastScaleTime,
      currentReplicas: status?.currentReplicas,
      desiredReplicas: status?.desiredReplicas ?? 0,
      currentMetrics,
      conditions,
    });
  }
  if (Object.keys(annotations).length) metadata.annotations = annotations; else delete metadata.annotations;
  return out;
}

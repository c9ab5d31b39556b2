import type {
  CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerBehavior, HPAScalingRules, MetricIdentifier, MetricSpec, MetricTarget,
} from 'kubernetes-types/autoscaling/v2';
import type { FieldError } from '../status.js';
import { forbidden, invalid, invalidEach, notSupported, required } from './errors.js';
import { isDNS1123Label, isValidPathSegmentName } from './names.js';
import { child, index } from './path.js';
import { validateContainerResourceName, validateQuantityString } from './resources.js';
import { quantitySign } from './quantity.js';

const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const POLICY_TYPES = ['Percent', 'Pods'];
/** The field holding each source type's details. */
const SOURCE_FIELDS: Record<string, keyof MetricSpec> = {
  Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource',
};

/**
 * validateHorizontalPodAutoscalerSpec (autoscaling/v2, the stored version).
 * `minReplicasLowerBound` is 1 unless scale-to-zero is allowed (an old
 * object already at 0 keeps it).
 */
export function validateHPASpec(hpa: HorizontalPodAutoscaler, minReplicasLowerBound: number): FieldError[] {
  const spec = hpa.spec;
  const errs: FieldError[] = [];
  const min = spec?.minReplicas;
  const max = spec?.maxReplicas ?? 0;
  if (min !== undefined && min < minReplicasLowerBound) errs.push(invalid('spec.minReplicas', min, `must be greater than or equal to ${minReplicasLowerBound}`));
  if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (min !== undefined && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec?.scaleTargetRef, 'spec.scaleTargetRef'));
  errs.push(...validateMetrics(spec?.metrics ?? [], min, 'spec.metrics'));
  errs.push(...validateBehavior(spec?.behavior, 'spec.behavior'));
  return errs;
}

export function validateCrossVersionObjectReference(ref: CrossVersionObjectReference | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['kind', 'name'] as const) {
    const v = ref?.[k] ?? '';
    if (!v) errs.push(required(child(field, k)));
    else errs.push(...invalidEach(child(field, k), v, isValidPathSegmentName(v)));
  }
  return errs;
}

function validateMetrics(metrics: MetricSpec[], minReplicas: number | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let objectOrExternal = false;
  metrics.forEach((m, i) => {
    errs.push(...validateMetricSpec(m, index(field, i)));
    if (m.type === 'Object' || m.type === 'External') objectOrExternal = true;
  });
  if (minReplicas === 0 && !objectOrExternal) errs.push(forbidden(field, 'must specify at least one Object or External metric to support scaling to zero replicas'));
  return errs;
}

function validateMetricSpec(m: MetricSpec, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!m.type) errs.push(required(child(field, 'type'), 'must specify a metric source type'));
  if (!METRIC_SOURCE_TYPES.includes(m.type)) errs.push(notSupported(child(field, 'type'), m.type ?? '', METRIC_SOURCE_TYPES));
  const present = (['object', 'external', 'pods', 'resource', 'containerResource'] as const).filter((k) => m[k] !== undefined && m[k] !== null);
  const first = present[0];
  if (first === 'object') errs.push(...validateObjectSource(m, child(field, 'object')));
  if (first === 'external') errs.push(...validateExternalSource(m, child(field, 'external')));
  if (first === 'pods') errs.push(...validatePodsSource(m, child(field, 'pods')));
  if (first === 'resource') errs.push(...validateResourceSource(m.resource!.name, m.resource!.target, child(field, 'resource')));
  if (first === 'containerResource') {
    const cr = m.containerResource!;
    const p = child(field, 'containerResource');
    if (!cr.container) errs.push(required(child(p, 'container'), 'must specify a container'));
    else errs.push(...invalidEach(child(p, 'container'), cr.container, isDNS1123Label(cr.container)));
    if (cr.name) errs.push(...validateContainerResourceName(cr.name, child(p, 'name')));
    errs.push(...validateResourceSource(cr.name, cr.target, p));
  }
  const expected = SOURCE_FIELDS[m.type];
  if (expected) {
    if (m[expected] === undefined || m[expected] === null) errs.push(required(child(field, expected), 'must populate information for the given metric source'));
  } else if (m.type) {
    errs.push(notSupported(child(field, 'type'), m.type, METRIC_SOURCE_TYPES));
  }
  if (present.length !== 1) {
    for (const k of present) if (k !== expected) errs.push(forbidden(child(field, k), 'must populate the given metric source only'));
  }
  return errs;
}

function validateObjectSource(m: MetricSpec, field: string): FieldError[] {
  const src = m.object!;
  const errs = [
    ...validateCrossVersionObjectReference(src.describedObject, child(field, 'describedObject')),
    ...validateMetricIdentifier(src.metric, child(field, 'metric')),
    ...validateMetricTarget(src.target, child(field, 'target')),
  ];
  if (src.target?.value === undefined && src.target?.averageValue === undefined) {
    errs.push(required(child(field, 'target', 'averageValue'), 'must set either a target value or averageValue'));
  }
  return errs;
}

function validateExternalSource(m: MetricSpec, field: string): FieldError[] {
  const src = m.external!;
  const errs = [...validateMetricIdentifier(src.metric, child(field, 'metric')), ...validateMetricTarget(src.target, child(field, 'target'))];
  if (src.target?.value === undefined && src.target?.averageValue === undefined) {
    errs.push(required(child(field, 'target', 'averageValue'), 'must set either a target value for metric or a per-pod target'));
  }
  if (src.target?.value !== undefined && src.target?.averageValue !== undefined) {
    errs.push(forbidden(child(field, 'target', 'value'), 'may not set both a target value for metric and a per-pod target'));
  }
  return errs;
}

function validatePodsSource(m: MetricSpec, field: string): FieldError[] {
  const src = m.pods!;
  const errs = [...validateMetricIdentifier(src.metric, child(field, 'metric')), ...validateMetricTarget(src.target, child(field, 'target'))];
  if (src.target?.averageValue === undefined) errs.push(required(child(field, 'target', 'averageValue'), 'must specify a positive target averageValue'));
  return errs;
}

function validateResourceSource(name: string | undefined, target: MetricTarget | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!name) errs.push(required(child(field, 'name'), 'must specify a resource name'));
  errs.push(...validateMetricTarget(target, child(field, 'target')));
  if (target?.averageUtilization === undefined && target?.averageValue === undefined) {
    errs.push(required(child(field, 'target', 'averageUtilization'), 'must set either a target raw value or a target utilization'));
  }
  if (target?.averageUtilization !== undefined && target?.averageValue !== undefined) {
    errs.push(forbidden(child(field, 'target', 'averageValue'), 'may not set both a target raw value and a target utilization'));
  }
  return errs;
}

function validateMetricTarget(t: MetricTarget | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = t?.type ?? '';
  if (!type) errs.push(required(child(field, 'type'), 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(type)) errs.push(invalid(child(field, 'type'), type, 'must be either Utilization, Value, or AverageValue'));
  for (const k of ['value', 'averageValue'] as const) {
    const v = t?.[k];
    if (v === undefined) continue;
    const { quantity, errors } = validateQuantityString(v, child(field, k));
    errs.push(...errors);
    if (quantity && quantitySign(quantity) !== 1) errs.push(invalid(child(field, k), v, 'must be positive'));
  }
  if (t?.averageUtilization !== undefined && t.averageUtilization < 1) errs.push(invalid(child(field, 'averageUtilization'), t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(id: MetricIdentifier | undefined, field: string): FieldError[] {
  if (!id?.name) return [required(child(field, 'name'), 'must specify a metric name')];
  return invalidEach(child(field, 'name'), id.name, isValidPathSegmentName(id.name));
}

function validateBehavior(behavior: HorizontalPodAutoscalerBehavior | undefined, field: string): FieldError[] {
  if (!behavior) return [];
  return [...validateScalingRules(behavior.scaleUp, child(field, 'scaleUp')), ...validateScalingRules(behavior.scaleDown, child(field, 'scaleDown'))];
}

function validateScalingRules(rules: HPAScalingRules | undefined, field: string): FieldError[] {
  if (!rules) return [];
  const errs: FieldError[] = [];
  const window = rules.stabilizationWindowSeconds;
  if (window !== undefined && window < 0) errs.push(invalid(child(field, 'stabilizationWindowSeconds'), window, 'must be greater than or equal to zero'));
  if (window !== undefined && window > MAX_STABILIZATION_WINDOW_SECONDS) {
    errs.push(invalid(child(field, 'stabilizationWindowSeconds'), window, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  }
  if (rules.selectPolicy !== undefined && !SELECT_POLICIES.includes(rules.selectPolicy)) errs.push(notSupported(child(field, 'selectPolicy'), rules.selectPolicy, SELECT_POLICIES));
  const policies = rules.policies ?? [];
  if (policies.length === 0) errs.push(required(child(field, 'policies'), 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = index(child(field, 'policies'), i);
    if (!POLICY_TYPES.includes(p.type)) errs.push(notSupported(child(pp, 'type'), p.type, POLICY_TYPES));
    if (p.value <= 0) errs.push(invalid(child(pp, 'value'), p.value, 'must be greater than zero'));
    if (p.periodSeconds <= 0) errs.push(invalid(child(pp, 'periodSeconds'), p.periodSeconds, 'must be greater than zero'));
    if (p.periodSeconds > MAX_PERIOD_SECONDS) errs.push(invalid(child(pp, 'periodSeconds'), p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

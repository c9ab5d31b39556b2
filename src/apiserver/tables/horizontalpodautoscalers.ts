/** `kubectl get horizontalpodautoscalers`, as upstream's printHorizontalPodAutoscaler. */
import type { HorizontalPodAutoscaler as HpaV1 } from 'kubernetes-types/autoscaling/v1';
import type { HorizontalPodAutoscaler as HpaV2, MetricSpec, MetricStatus, MetricTarget, MetricValueStatus } from 'kubernetes-types/autoscaling/v2';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [
  nameColumn,
  column('Reference', 'string', fieldDoc['HorizontalPodAutoscalerSpec.scaleTargetRef']),
  column('Targets', 'string', fieldDoc['HorizontalPodAutoscalerSpec.metrics']),
  column('MinPods', 'string', fieldDoc['HorizontalPodAutoscalerSpec.minReplicas']),
  column('MaxPods', 'string', fieldDoc['HorizontalPodAutoscalerSpec.maxReplicas']),
  column('Replicas', 'string', fieldDoc['HorizontalPodAutoscalerStatus.currentReplicas']),
  ageColumn,
];

const MAX_SHOWN = 2;
const UNKNOWN = '<unknown>';

/** Go prints a nil *Quantity as `<nil>`. Quantities print as stored, not re-canonicalized. */
const quantity = (q: string | undefined): string => q ?? '<nil>';
const percent = (n: number | undefined): string | undefined => (n === undefined ? undefined : `${n}%`);

/** `current/target`, with `(avg)` when the target is an average value. */
function valueMetric(target: MetricTarget, current: MetricValueStatus | undefined): string {
  if (target.averageValue !== undefined) return `${current?.averageValue ?? UNKNOWN}/${target.averageValue} (avg)`;
  return `${current ? quantity(current.value) : UNKNOWN}/${quantity(target.value)}`;
}

/** `name: current/target`, as a value or as a utilization percentage (`<auto>` without a target). */
function resourceMetric(name: string, target: MetricTarget, current: MetricValueStatus | undefined, hasStatus: boolean): string {
  if (target.averageValue !== undefined) return `${name}: ${hasStatus ? quantity(current?.averageValue) : UNKNOWN}/${target.averageValue}`;
  return `${name}: ${percent(current?.averageUtilization) ?? UNKNOWN}/${percent(target.averageUtilization) ?? '<auto>'}`;
}

function formatMetric(spec: MetricSpec, status: MetricStatus | undefined): string {
  // Validation guarantees the source matching the type; a missing one prints as unknown, not a 500.
  const none: MetricTarget = { type: '' };
  switch (spec.type) {
    case 'External':
      return valueMetric(spec.external?.target ?? none, status?.external?.current);
    case 'Object':
      return valueMetric(spec.object?.target ?? none, status?.object?.current);
    case 'Pods':
      return `${status?.pods ? quantity(status.pods.current.averageValue) : UNKNOWN}/${quantity(spec.pods?.target.averageValue)}`;
    case 'Resource':
      return resourceMetric(spec.resource?.name ?? '', spec.resource?.target ?? none, status?.resource?.current, status?.resource !== undefined);
    case 'ContainerResource':
      return resourceMetric(spec.containerResource?.name ?? '', spec.containerResource?.target ?? none,
        status?.containerResource?.current, status?.containerResource !== undefined);
    default:
      return '<unknown type>';
  }
}

/** Upstream's formatHPAMetrics: the first two metrics, then `+ N more...`. */
function formatMetrics(specs: MetricSpec[], statuses: MetricStatus[]): string {
  if (specs.length === 0) return '<none>';
  const shown = specs.slice(0, MAX_SHOWN).map((spec, i) => formatMetric(spec, statuses[i]));
  const text = shown.join(', ');
  return specs.length > MAX_SHOWN ? `${text} + ${specs.length - MAX_SHOWN} more...` : text;
}

type Hpa = HpaV2 | HpaV1;

/** autoscaling/v1's CPU target as the v2 metric it stands for (upstream prints from the internal version). */
function metricsOf(hpa: Hpa): [MetricSpec[], MetricStatus[]] {
  if (hpa.apiVersion === 'autoscaling/v1') {
    const v1 = hpa as HpaV1;
    const target = v1.spec?.targetCPUUtilizationPercentage;
    const current = v1.status?.currentCPUUtilizationPercentage;
    return [
      target === undefined ? [] : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }],
      current === undefined ? [] : [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }],
    ];
  }
  const v2 = hpa as HpaV2;
  return [v2.spec?.metrics ?? [], v2.status?.currentMetrics ?? []];
}

export const horizontalPodAutoscalersTable = definePrinter<Hpa>(columns, (hpa, now) => {
  const ref = hpa.spec?.scaleTargetRef;
  const [specs, statuses] = metricsOf(hpa);
  return [
    nameOf(hpa),
    `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
    formatMetrics(specs, statuses),
    hpa.spec?.minReplicas === undefined ? '<unset>' : String(hpa.spec.minReplicas),
    hpa.spec?.maxReplicas ?? 0,
    hpa.status?.currentReplicas ?? 0,
    age(hpa, now),
  ];
});

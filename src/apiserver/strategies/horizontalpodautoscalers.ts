import type { HorizontalPodAutoscaler, HPAScalingRules } from 'kubernetes-types/autoscaling/v2';
import { validateNonnegative } from '../../api/validation/errors.js';
import { validateHPASpec } from '../../api/validation/horizontal-pod-autoscaler.js';
import type { Strategy } from '../strategy.js';
import { keepSpec, keepStatus, validateMetaUpdate, validateNamespacedMeta, type Obj } from './common.js';

type HPAObj = Obj<HorizontalPodAutoscaler>;

/** autoscaling.DefaultCPUUtilization: v1's implicit target, explicit since v2. */
export const DEFAULT_CPU_UTILIZATION = 80;

/** The controller's built-in behaviour, spelled out once a user writes any `behavior`. */
const defaultScaleUp = (): HPAScalingRules => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
});
// scale-down's window stays unset: the controller's flag decides it
const defaultScaleDown = (): HPAScalingRules => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

function fillRules(given: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  if (!given) return defaults;
  return {
    ...defaults,
    ...(given.selectPolicy !== undefined ? { selectPolicy: given.selectPolicy } : {}),
    ...(given.stabilizationWindowSeconds !== undefined ? { stabilizationWindowSeconds: given.stabilizationWindowSeconds } : {}),
    ...(given.policies !== undefined ? { policies: given.policies } : {}),
  };
}

/** pkg/apis/autoscaling/v2 SetDefaults_HorizontalPodAutoscaler. */
export function defaultHPA(hpa: HorizontalPodAutoscaler): void {
  const spec = (hpa.spec ??= { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } });
  spec.minReplicas ??= 1;
  if (!spec.metrics?.length) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  if (spec.behavior) {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, defaultScaleUp());
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, defaultScaleDown());
  }
}

/**
 * pkg/registry/autoscaling/horizontalpodautoscaler/strategy.go, on the
 * stored autoscaling/v2 form (autoscaling/v1 requests are converted first,
 * see ../conversion/hpa.ts).
 */
export const horizontalPodAutoscalerStrategy: Strategy<HPAObj> = {
  defaults: defaultHPA,
  prepareForCreate(hpa) {
    hpa.status = { desiredReplicas: 0 };
  },
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepSpec,
  validate(hpa) {
    return [...validateNamespacedMeta(hpa), ...validateHPASpec(hpa, 1)];
  },
  validateUpdate(hpa, old) {
    const errs = validateMetaUpdate(hpa, old);
    errs.push(...validateNonnegative(hpa.status?.currentReplicas, 'status.currentReplicas'));
    errs.push(...validateNonnegative(hpa.status?.desiredReplicas, 'status.desiredReplicas'));
    return errs;
  },
};

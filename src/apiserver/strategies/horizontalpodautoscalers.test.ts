import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { KubeObject } from '../strategy.js';
import { strategyFor } from './index.js';

const hpas = strategyFor('autoscaling', 'horizontalpodautoscalers');
const messages = (errs: Array<{ field: string; message: string }> = []) => errs.map((e) => `${e.field}: ${e.message}`);

describe('horizontal pod autoscaler strategy', () => {
  it('defaults minReplicas and the 80% CPU target', () => {
    const obj = { metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 } } as KubeObject;
    hpas.defaults!(obj);
    hpas.prepareForCreate!(obj);
    const hpa = obj as HorizontalPodAutoscaler;
    assert.equal(hpa.spec!.minReplicas, 1);
    assert.deepEqual(hpa.spec!.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    assert.equal(hpa.spec!.behavior, undefined);
    assert.deepEqual(messages(hpas.validate!(obj)), []);
  });

  it('fills in a behavior once one is given', () => {
    const obj = { metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } } as KubeObject;
    hpas.defaults!(obj);
    assert.deepEqual((obj as HorizontalPodAutoscaler).spec!.behavior, {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
  });

  it('checks replica bounds and metric sources', () => {
    const obj = {
      metadata: { name: 'web', namespace: 'default' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: '' }, minReplicas: 3, maxReplicas: 2, metrics: [{ type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    } as KubeObject;
    hpas.defaults!(obj);
    assert.deepEqual(messages(hpas.validate!(obj)), [
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
      'spec.scaleTargetRef.name: Required value',
      'spec.metrics[0].pods: Required value: must populate information for the given metric source',
    ]);
  });
});

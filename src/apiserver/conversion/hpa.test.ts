import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as v1 from 'kubernetes-types/autoscaling/v1';
import type * as v2 from 'kubernetes-types/autoscaling/v2';
import { CONDITIONS_ANNOTATION, hpaV1ToV2, hpaV2ToV1, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION } from './hpa.js';

const v1hpa = (): v1.HorizontalPodAutoscaler => ({
  apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default', annotations: { owner: 'team-a' } },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 60 },
  status: { currentReplicas: 3, desiredReplicas: 4, currentCPUUtilizationPercentage: 75 },
});

describe('HorizontalPodAutoscaler conversion', () => {
  it('turns targetCPUUtilizationPercentage into a CPU Utilization metric', () => {
    const v2hpa = hpaV1ToV2(v1hpa());
    assert.equal(v2hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(v2hpa.spec!.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
    assert.deepEqual(v2hpa.status!.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75 } } }]);
    assert.deepEqual(v2hpa.metadata!.annotations, { owner: 'team-a' });
  });

  it('spells out v1\'s implicit 80% CPU target', () => {
    const hpa = v1hpa();
    delete hpa.spec!.targetCPUUtilizationPercentage;
    assert.deepEqual(hpaV1ToV2(hpa).spec!.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  });

  it('round-trips v1 → v2 → v1', () => {
    const back = hpaV2ToV1(hpaV1ToV2(v1hpa()));
    assert.deepEqual(back.spec, v1hpa().spec);
    assert.deepEqual(back.status, v1hpa().status);
    // as upstream, the raw current metrics ride along in an annotation
    assert.equal(back.metadata!.annotations!.owner, 'team-a');
    assert.deepEqual(JSON.parse(back.metadata!.annotations![METRIC_STATUSES_ANNOTATION]!), [{ type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 75, currentAverageValue: '0' } }]);
    // and reading that back consumes the annotation
    assert.deepEqual(hpaV1ToV2(back).metadata!.annotations, { owner: 'team-a' });
  });

  it('keeps what v1 cannot say in annotations, so v2 → v1 → v2 loses nothing', () => {
    const hpa: v2.HorizontalPodAutoscaler = {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5,
        metrics: [
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '100' } } },
          // last: v1 brings its CPU target back after the other metrics, as upstream does
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
      },
      status: {
        currentReplicas: 2, desiredReplicas: 2,
        conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', lastTransitionTime: '2024-01-01T00:00:00Z' }],
      },
    };
    const asV1 = hpaV2ToV1(hpa);
    assert.equal(asV1.spec!.targetCPUUtilizationPercentage, 70);
    assert.ok(asV1.metadata!.annotations![METRIC_SPECS_ANNOTATION]);
    assert.ok(asV1.metadata!.annotations![CONDITIONS_ANNOTATION]);
    assert.deepEqual(JSON.parse(asV1.metadata!.annotations![METRIC_SPECS_ANNOTATION]!)[1], { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '100' } });
    // upstream's Go-internal encoding of behavior
    assert.match(asV1.metadata!.annotations!['autoscaling.alpha.kubernetes.io/behavior']!, /^\{"ScaleUp":null,"ScaleDown":\{"StabilizationWindowSeconds":60,/);

    assert.deepEqual(hpaV1ToV2(asV1), hpa);
  });
});

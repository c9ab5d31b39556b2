import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import { horizontalPodAutoscalersTable as hpaTable } from './horizontalpodautoscalers.js';
import { ago, cellsOf, rowOf, SECOND } from './test-helpers.js';

const metadata = { name: 'web', namespace: 'default', creationTimestamp: ago(200 * SECOND) };
const scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const cpu = (averageUtilization: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } });

test('hpa columns', () => {
  assert.deepEqual(hpaTable.columns.map((c) => c.name), ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
});

test('CPU utilization, measured and not yet measured', () => {
  const hpa: HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2', metadata,
    spec: { scaleTargetRef, minReplicas: 1, maxReplicas: 10, metrics: [cpu(50)] },
    status: { currentReplicas: 4, desiredReplicas: 6, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75 } } }] },
  };
  assert.deepEqual(rowOf(hpaTable, hpa), ['web', 'Deployment/web', 'cpu: 75%/50%', '1', 10, 4, '3m20s']);
  const fresh = cellsOf(hpaTable, { ...hpa, spec: { scaleTargetRef, maxReplicas: 3, metrics: [cpu(50)] }, status: { desiredReplicas: 0 } });
  assert.deepEqual([fresh.Targets, fresh.MinPods, fresh.Replicas], ['cpu: <unknown>/50%', '<unset>', 0]);
  assert.equal(cellsOf(hpaTable, { ...hpa, spec: { scaleTargetRef, maxReplicas: 3 } }).Targets, '<none>');
});

test('value targets, other metric types, and more than two metrics', () => {
  const hpa: HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2', metadata,
    spec: {
      scaleTargetRef, maxReplicas: 5,
      metrics: [
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
        { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } } },
      ],
    },
    status: { desiredReplicas: 1, currentMetrics: [{ type: 'Resource', resource: { name: 'memory', current: { averageValue: '300Mi' } } }] },
  };
  assert.equal(cellsOf(hpaTable, hpa).Targets, 'memory: 300Mi/500Mi, <unknown>/10 + 1 more...');
  const external = { ...hpa, spec: { ...hpa.spec, metrics: [hpa.spec!.metrics![2], { type: 'Object', object: {
    describedObject: { kind: 'Service', name: 'web' }, metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '2k' } } }] } };
  assert.equal(cellsOf(hpaTable, external).Targets, '<unknown>/30, <unknown>/2k (avg)');
  assert.equal(cellsOf(hpaTable, { ...hpa, spec: { ...hpa.spec, metrics: [{ type: 'Custom' }] } }).Targets, '<unknown type>');
});

test('an autoscaling/v1 object prints as its v2 equivalent', () => {
  const v1 = {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata,
    spec: { scaleTargetRef, minReplicas: 2, maxReplicas: 4, targetCPUUtilizationPercentage: 80 },
    status: { currentReplicas: 2, desiredReplicas: 2, currentCPUUtilizationPercentage: 12 },
  };
  assert.deepEqual(rowOf(hpaTable, v1), ['web', 'Deployment/web', 'cpu: 12%/80%', '2', 4, 2, '3m20s']);
});

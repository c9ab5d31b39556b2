import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { KubeObject } from '../strategy.js';
import { strategyFor } from './index.js';

const deployments = strategyFor('apps', 'deployments');
const messages = (obj: KubeObject, old?: KubeObject) =>
  [...(deployments.validate?.(obj) ?? []), ...(old ? deployments.validateUpdate?.(obj, old) ?? [] : [])].map((e) => `${e.field}: ${e.message}`);

const web = (): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
  },
});

function created(d: Deployment): KubeObject {
  const obj = structuredClone(d) as KubeObject;
  deployments.defaults!(obj);
  deployments.prepareForCreate!(obj);
  return obj;
}

describe('deployment strategy', () => {
  it('defaults replicas, a 25%/25% rolling update, history and deadline, and the template', () => {
    const obj = created(web()) as Deployment;
    assert.deepEqual(messages(obj as KubeObject), []);
    assert.equal(obj.spec!.replicas, 1);
    assert.deepEqual(obj.spec!.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(obj.spec!.revisionHistoryLimit, 10);
    assert.equal(obj.spec!.progressDeadlineSeconds, 600);
    const pod = obj.spec!.template.spec!;
    assert.equal(pod.restartPolicy, 'Always');
    assert.equal(pod.containers[0]!.imagePullPolicy, 'IfNotPresent');
    // enableServiceLinks is a Pod default, not a template one
    assert.equal(pod.enableServiceLinks, undefined);
    assert.deepEqual(obj.status, {});
  });

  it('rejects a selector that does not select the template', () => {
    const d = web();
    d.spec!.template.metadata!.labels = { app: 'api' };
    assert.deepEqual(messages(created(d)), ['spec.template.metadata.labels: Invalid value: {"app":"api"}: `selector` does not match template `labels`']);
  });

  it('rejects an empty selector, negative replicas and a zero/zero rolling update', () => {
    const d = web();
    d.spec!.selector = {};
    d.spec!.replicas = -1;
    d.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } };
    assert.deepEqual(messages(created(d)), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.selector: Invalid value: {}: empty selector is invalid for deployment',
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0',
    ]);
  });

  it('keeps pods restarting: template restartPolicy must be Always', () => {
    const d = web();
    d.spec!.template.spec!.restartPolicy = 'Never';
    assert.deepEqual(messages(created(d)), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  });

  it('does not let an update change the selector', () => {
    const old = created(web());
    const d = structuredClone(old) as Deployment;
    d.spec!.selector = { matchLabels: { app: 'web', tier: 'front' } };
    d.spec!.template.metadata!.labels = { app: 'web', tier: 'front' };
    deployments.prepareForUpdate!(d as KubeObject, old);
    assert.deepEqual(messages(d as KubeObject, old), ['spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable']);
  });

  it('keeps spec and labels on a status update', () => {
    const old = created(web());
    const d = structuredClone(old) as Deployment;
    d.spec!.replicas = 5;
    d.metadata!.labels = { hacked: 'yes' };
    d.status = { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 };
    deployments.prepareForStatusUpdate!(d as KubeObject, old);
    assert.equal(d.spec!.replicas, 1);
    assert.equal(d.metadata!.labels, undefined);
    assert.deepEqual(messages(d as KubeObject, old), []);
  });
});

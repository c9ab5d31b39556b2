import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicationController } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../strategy.js';
import { strategyFor } from './index.js';

const rcs = strategyFor('', 'replicationcontrollers');
const rss = strategyFor('apps', 'replicasets');

describe('replication controller strategy', () => {
  it('defaults the selector and labels to the template labels', () => {
    const rc: ReplicationController = {
      metadata: { name: 'web', namespace: 'default' },
      spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    };
    const obj = structuredClone(rc) as KubeObject;
    rcs.defaults!(obj);
    rcs.prepareForCreate!(obj);
    const out = obj as ReplicationController;
    assert.deepEqual(out.spec!.selector, { app: 'web' });
    assert.deepEqual(out.metadata!.labels, { app: 'web' });
    assert.equal(out.spec!.replicas, 1);
    assert.deepEqual(out.status, { replicas: 0 });
    assert.deepEqual(rcs.validate!(obj), []);
    assert.deepEqual(rcs.selectableFields!(obj), { 'status.replicas': '0' });
  });

  it('requires a selector when the template has no labels', () => {
    const obj = { metadata: { name: 'web', namespace: 'default' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx' }] } } } } as KubeObject;
    rcs.defaults!(obj);
    assert.deepEqual(rcs.validate!(obj).map((e) => `${e.field}: ${e.message}`), ['spec.selector: Required value']);
  });
});

describe('replica set strategy', () => {
  it('shares the template validator and upstream wording', () => {
    const obj = {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] },
        template: { metadata: { labels: { app: 'db' } }, spec: { activeDeadlineSeconds: 5, containers: [{ name: 'c', image: 'nginx' }] } },
      },
    } as KubeObject;
    rss.defaults!(obj);
    assert.deepEqual(rss.validate!(obj).map((e) => `${e.field}: ${e.message}`), [
      'spec.template.metadata.labels: Invalid value: {"app":"db"}: `selector` does not match template `labels`',
      'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported',
    ]);
  });
});

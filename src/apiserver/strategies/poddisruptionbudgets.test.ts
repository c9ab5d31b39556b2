import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../strategy.js';
import { strategyFor } from './index.js';

const pdbs = strategyFor('policy', 'poddisruptionbudgets');
const messages = (errs: Array<{ field: string; message: string }> = []) => errs.map((e) => `${e.field}: ${e.message}`);
const pdb = (spec: object, status?: object): KubeObject =>
  ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec, ...(status ? { status } : {}) });

describe('pod disruption budget strategy', () => {
  it('starts with Go\'s zero status, whatever the client sent', () => {
    const obj = pdb({ minAvailable: 2, selector: { matchLabels: { app: 'web' } } }, { disruptionsAllowed: 5, currentHealthy: 9, desiredHealthy: 1, expectedPods: 9 });
    pdbs.prepareForCreate!(obj);
    assert.deepEqual(obj.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    assert.deepEqual(messages(pdbs.validate!(obj)), []);
  });

  it('takes minAvailable or maxUnavailable, each an integer or a percentage up to 100%', () => {
    assert.deepEqual(messages(pdbs.validate!(pdb({ maxUnavailable: '25%' }))), []);
    assert.deepEqual(messages(pdbs.validate!(pdb({ minAvailable: 1, maxUnavailable: 1 }))), [
      'spec: Invalid value: {"minAvailable":1,"maxUnavailable":1}: minAvailable and maxUnavailable cannot be both set',
    ]);
    assert.deepEqual(messages(pdbs.validate!(pdb({ minAvailable: -1 }))), ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(messages(pdbs.validate!(pdb({ maxUnavailable: '120%' }))), ['spec.maxUnavailable: Invalid value: "120%": must not be greater than 100%']);
    assert.equal(messages(pdbs.validate!(pdb({ minAvailable: 'half' }))).length, 1);
    assert.deepEqual(messages(pdbs.validate!(pdb({ minAvailable: 1, unhealthyPodEvictionPolicy: 'Never' }))), [
      'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
    ]);
    assert.deepEqual(messages(pdbs.validate!(pdb({ minAvailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }))), [
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ]);
  });

  it('keeps status on spec updates and spec on status updates; counters may not go negative', () => {
    const old = pdb({ minAvailable: 2 }, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });
    const spec = pdb({ minAvailable: 3 }, { disruptionsAllowed: 9, currentHealthy: 9, desiredHealthy: 9, expectedPods: 9 });
    pdbs.prepareForUpdate!(spec, old);
    assert.deepEqual(spec.status, old.status);
    const status = pdb({ minAvailable: 1 }, { disruptionsAllowed: -1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });
    pdbs.prepareForStatusUpdate!(status, old);
    assert.deepEqual(status.spec, { minAvailable: 2 });
    assert.deepEqual(messages(pdbs.validateUpdate!(status, old)), ['status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0']);
  });
});

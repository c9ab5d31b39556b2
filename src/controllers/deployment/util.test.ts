import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import { computeHash } from './hash.js';
import { equalIgnoreHash, maxUnavailable, resolveFenceposts, scaledValue } from './util.js';

const template: PodTemplateSpec = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };
const withStrategy = (replicas: number, maxSurge?: number | string, maxUnavailableValue?: number | string): Deployment => ({
  spec: { replicas, selector: {}, template, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable: maxUnavailableValue } } },
});

describe('pod-template-hash', () => {
  it('is stable, independent of key order, and uses the safe alphabet', () => {
    const reordered: PodTemplateSpec = { spec: { containers: [{ image: 'nginx:1', name: 'c' }] }, metadata: { labels: { app: 'web' } } };
    assert.equal(computeHash(template), computeHash(reordered));
    assert.match(computeHash(template), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.notEqual(computeHash(template), computeHash({ ...template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }));
  });
  it('changes with the collision count', () => {
    assert.notEqual(computeHash(template, 1), computeHash(template, 2));
    assert.notEqual(computeHash(template), computeHash(template, 1));
  });
  it('ignores the hash label and null fields when comparing templates', () => {
    const labelled = { metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' }, creationTimestamp: null }, spec: template.spec } as unknown as PodTemplateSpec;
    assert.ok(equalIgnoreHash(template, labelled));
  });
});

describe('rolling update fenceposts', () => {
  it('rounds surge up and unavailable down, as upstream', () => {
    assert.deepEqual(resolveFenceposts(withStrategy(10, '25%', '25%')), { maxSurge: 3, maxUnavailable: 2 });
    assert.deepEqual(resolveFenceposts(withStrategy(3, '50%', '50%')), { maxSurge: 2, maxUnavailable: 1 });
    assert.deepEqual(resolveFenceposts(withStrategy(4, 2, 0)), { maxSurge: 2, maxUnavailable: 0 });
  });
  it('defaults to 25%/25% and never lets both be zero', () => {
    assert.deepEqual(resolveFenceposts(withStrategy(4)), { maxSurge: 1, maxUnavailable: 1 });
    assert.deepEqual(resolveFenceposts(withStrategy(1, 0, '10%')), { maxSurge: 0, maxUnavailable: 1 });
  });
  it('caps maxUnavailable at replicas for the Available condition; Recreate tolerates none', () => {
    assert.equal(maxUnavailable(withStrategy(2, 0, 5)), 2);
    assert.equal(maxUnavailable({ spec: { replicas: 3, selector: {}, template, strategy: { type: 'Recreate' } } }), 0);
  });
  it('rejects what is neither a number nor a percentage', () => {
    assert.throws(() => scaledValue('abc', '25%', 10, true), /invalid value for IntOrString/);
  });
});

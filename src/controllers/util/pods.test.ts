import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { compareForDeletion, isPodAvailable } from './pods.js';
import { Expectations } from './expectations.js';
import { slowStartBatch } from './slow-start.js';

const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: string; created?: string; restarts?: number } = {}): Pod => ({
  metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'c' }], ...(o.node ? { nodeName: o.node } : {}) },
  status: {
    phase: o.phase ?? 'Running',
    conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: o.readySince ?? '2026-01-01T00:00:00Z' }],
    containerStatuses: [{ name: 'c', image: '', imageID: '', ready: !!o.ready, restartCount: o.restarts ?? 0 }],
  },
});

describe('deletion ranking (ActivePodsWithRanks)', () => {
  it('unscheduled < pending < unknown < running, not ready < ready, newer first', () => {
    const pods = [
      pod('ready-old', { node: 'n', ready: true, created: '2026-01-01T00:00:00Z' }),
      pod('ready-new', { node: 'n', ready: true, created: '2026-01-02T00:00:00Z' }),
      pod('not-ready', { node: 'n' }),
      pod('unknown', { node: 'n', phase: 'Unknown' }),
      pod('pending', { node: 'n', phase: 'Pending' }),
      pod('unscheduled', { phase: 'Pending' }),
    ];
    const order = [...pods].sort((a, b) => compareForDeletion(a, b)).map((p) => p.metadata!.name);
    assert.deepEqual(order, ['unscheduled', 'pending', 'unknown', 'not-ready', 'ready-new', 'ready-old']);
  });
  it('prefers pods ready for a shorter time, then more restarts', () => {
    const a = pod('a', { node: 'n', ready: true, readySince: '2026-01-01T00:00:00Z' });
    const b = pod('b', { node: 'n', ready: true, readySince: '2026-01-01T01:00:00Z' });
    assert.equal([a, b].sort((x, y) => compareForDeletion(x, y))[0].metadata!.name, 'b');
    const c = pod('c', { node: 'n', restarts: 5 });
    const d = pod('d', { node: 'n', restarts: 0 });
    assert.equal([d, c].sort((x, y) => compareForDeletion(x, y))[0].metadata!.name, 'c');
  });
  it('counts availability from the Ready transition plus minReadySeconds', () => {
    const p = pod('p', { ready: true, readySince: new Date(Date.now() - 2000).toISOString() });
    assert.ok(isPodAvailable(p, 1));
    assert.ok(!isPodAvailable(p, 5));
  });
});

describe('expectations and slow start', () => {
  it('holds a controller back until its creates are observed', () => {
    const e = new Expectations();
    assert.ok(e.satisfied('k'));
    e.expectCreations('k', 2);
    assert.ok(!e.satisfied('k'));
    e.creationObserved('k');
    e.creationObserved('k');
    assert.ok(e.satisfied('k'));
    e.expectDeletions('k', ['ns/a']);
    assert.ok(!e.satisfied('k'));
    e.deletionObserved('k', 'ns/a');
    assert.ok(e.satisfied('k'));
  });
  it('batches 1, 2, 4… and stops after a failing batch', async () => {
    let calls = 0;
    const ok = await slowStartBatch(10, 1, async () => { calls++; });
    assert.deepEqual([ok.successes, calls], [10, 10]);
    calls = 0;
    const failing = await slowStartBatch(100, 1, async () => { calls++; throw new Error('refused'); });
    assert.equal(failing.successes, 0);
    assert.equal(calls, 1, 'one refused request, not a hundred');
  });
});

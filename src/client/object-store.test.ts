import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import { ObjectStore } from './object-store.js';
import { keyOf, splitKey } from './resources.js';

const pod = (ns: string, name: string, labels: Record<string, string>): Pod => ({ metadata: { namespace: ns, name, labels } });

test('lists by namespace and by every form of label selector', () => {
  const store = new ObjectStore<Pod>();
  for (const p of [pod('a', 'web-1', { app: 'web', tier: 'fe' }), pod('a', 'db-1', { app: 'db' }), pod('b', 'web-2', { app: 'web' })]) store.set(keyOf(p), p);
  const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name).sort();
  assert.deepEqual(names(store.list()), ['db-1', 'web-1', 'web-2']);
  assert.deepEqual(names(store.list('a')), ['db-1', 'web-1']);
  assert.deepEqual(names(store.list(undefined, 'app=web')), ['web-1', 'web-2']);
  assert.deepEqual(names(store.list(undefined, 'app in (web,db),!tier')), ['db-1', 'web-2']);
  assert.deepEqual(names(store.list('a', { app: 'web' })), ['web-1']);
  assert.deepEqual(names(store.list(undefined, { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] })), ['db-1']);
  assert.deepEqual(names(store.list(undefined, '')), ['db-1', 'web-1', 'web-2']);
  store.delete('a/db-1');
  assert.deepEqual(names(store.list('a')), ['web-1']);
  assert.equal(store.size, 2);
});

test('keys are namespace/name, or name for cluster-scoped objects', () => {
  assert.equal(keyOf({ metadata: { namespace: 'ns', name: 'x' } }), 'ns/x');
  assert.equal(keyOf({ metadata: { name: 'node-1' } }), 'node-1');
  assert.deepEqual(splitKey('ns/x'), { namespace: 'ns', name: 'x' });
  assert.deepEqual(splitKey('node-1'), { name: 'node-1' });
});

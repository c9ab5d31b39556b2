import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podDisruptionBudgetsTable } from './poddisruptionbudgets.js';
import { ago, rowOf, SECOND } from './test-helpers.js';

const metadata = { name: 'web', namespace: 'default', creationTimestamp: ago(200 * SECOND) };

test('pdb columns and rows: N/A for the bound not set', () => {
  assert.deepEqual(podDisruptionBudgetsTable.columns.map((c) => [c.name, c.type]),
    [['Name', 'string'], ['Min Available', 'string'], ['Max Unavailable', 'string'], ['Allowed Disruptions', 'integer'], ['Age', 'string']]);
  assert.deepEqual(rowOf(podDisruptionBudgetsTable, { metadata, spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } }), ['web', '2', 'N/A', 1, '3m20s']);
  assert.deepEqual(rowOf(podDisruptionBudgetsTable, { metadata, spec: { maxUnavailable: '25%' } }), ['web', 'N/A', '25%', 0, '3m20s']);
});

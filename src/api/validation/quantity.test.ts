import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeQuantity, compareQuantities, parseQuantity, QUANTITY_FORMAT_ERROR, quantityToMilli, quantityValue, QuantityError } from './quantity.js';

describe('quantities', () => {
  it('read CPU as milli-units', () => {
    assert.equal(quantityToMilli('100m'), 100);
    assert.equal(quantityToMilli('2'), 2000);
    assert.equal(quantityToMilli('0.1'), 100);
    assert.equal(quantityToMilli('1e3'), 1_000_000);
  });

  it('read memory as bytes', () => {
    assert.equal(quantityValue('1Gi'), 1024 ** 3);
    assert.equal(quantityValue('500Mi'), 500 * 1024 ** 2);
    assert.equal(quantityValue('1k'), 1000);
    assert.equal(quantityValue('1.5Gi'), 1.5 * 1024 ** 3);
  });

  it('round fractions up, as upstream', () => {
    assert.equal(quantityValue('100m'), 1);
    assert.equal(quantityToMilli('0.0001'), 1);
  });

  it('serialise in canonical form', () => {
    assert.equal(canonicalizeQuantity('0.5'), '500m');
    assert.equal(canonicalizeQuantity('1000'), '1k');
    assert.equal(canonicalizeQuantity('1000m'), '1');
    assert.equal(canonicalizeQuantity('2048Ki'), '2Mi');
    assert.equal(canonicalizeQuantity('1.5Gi'), '1536Mi');
    assert.equal(canonicalizeQuantity('1e3'), '1e3');
    assert.equal(canonicalizeQuantity('0'), '0');
  });

  it('compare exactly across suffixes', () => {
    assert.equal(compareQuantities('1Gi', '1024Mi'), 0);
    assert.equal(compareQuantities('999m', '1'), -1);
    assert.equal(compareQuantities('1G', '1Gi'), -1);
  });

  it('refuse what upstream refuses, in its words', () => {
    for (const bad of ['', 'abc', '1.5.5', '1Qi', '1 Gi']) {
      assert.throws(() => parseQuantity(bad), (e: unknown) => e instanceof QuantityError && e.message === QUANTITY_FORMAT_ERROR, bad);
    }
    assert.equal(QUANTITY_FORMAT_ERROR, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    assert.throws(() => parseQuantity('1e'), /unable to parse quantity's suffix/);
  });
});

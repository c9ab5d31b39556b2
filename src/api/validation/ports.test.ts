import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidPercent, scaledValueFromIntOrPercent, validatePortNumOrName } from './int-or-string.js';
import { isValidPortName, validateProtocol } from './ports.js';

describe('ports and int-or-string', () => {
  it('port names are IANA service names', () => {
    assert.deepEqual(isValidPortName('http'), []);
    assert.deepEqual(isValidPortName('80'), ['must contain at least one letter (a-z)']);
    assert.deepEqual(isValidPortName('my--port-name-too-long'), ['must be no more than 15 characters', 'must not contain consecutive hyphens']);
  });

  it('a port is a number 1–65535 or a name', () => {
    assert.deepEqual(validatePortNumOrName('http', 'p'), []);
    assert.deepEqual(validatePortNumOrName(0, 'p').map((e) => e.message), ['Invalid value: 0: must be between 1 and 65535, inclusive']);
  });

  it('protocols are TCP, UDP, SCTP', () => {
    assert.deepEqual(validateProtocol('tcp', 'p').map((e) => e.message), ['Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"']);
    assert.deepEqual(validateProtocol(undefined, 'p').map((e) => e.message), ['Required value']);
  });

  it('percentages scale with a total', () => {
    assert.deepEqual(isValidPercent('25%'), []);
    assert.deepEqual(isValidPercent('25'), ["a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]);
    assert.equal(scaledValueFromIntOrPercent('25%', 10, true), 3);
    assert.equal(scaledValueFromIntOrPercent('25%', 10, false), 2);
    assert.equal(scaledValueFromIntOrPercent(4, 10, false), 4);
  });
});

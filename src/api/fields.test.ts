import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseFieldSelector, convertFieldLabels, fieldsOf, fieldSelectorFromSet, everythingFields,
  escapeFieldValue, unescapeFieldValue, supportedFieldLabels,
} from './fields.js';
import { StatusError } from './status.js';

function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    return e.message;
  }
  assert.fail('expected an error');
}

test('parses =, == and != and prints the canonical form', () => {
  const sel = parseFieldSelector('status.phase=Running,metadata.name==x,spec.nodeName!=');
  assert.equal(sel.toString(), 'metadata.name=x,spec.nodeName!=,status.phase=Running');
  assert.deepEqual(sel.requirements(), [
    { field: 'metadata.name', operator: '=', value: 'x' },
    { field: 'spec.nodeName', operator: '!=', value: '' },
    { field: 'status.phase', operator: '=', value: 'Running' },
  ]);
  assert.equal(sel.requiresExactMatch('metadata.name'), 'x');
  assert.equal(sel.requiresExactMatch('spec.nodeName'), undefined);
  assert.equal(parseFieldSelector('').empty(), true);
  assert.equal(parseFieldSelector(',,').empty(), true);
});

test('matches against field values; a missing field is the empty string', () => {
  const fields = { 'metadata.name': 'x', 'spec.nodeName': 'node-1', 'status.phase': 'Running' };
  assert.equal(parseFieldSelector('metadata.name=x,spec.nodeName!=,status.phase=Running').matches(fields), true);
  assert.equal(parseFieldSelector('spec.nodeName=').matches(fields), false);
  assert.equal(parseFieldSelector('spec.nodeName=').matches({ 'metadata.name': 'x' }), true);
  assert.equal(parseFieldSelector('spec.nodeName!=').matches({ 'metadata.name': 'x' }), false);
  assert.equal(parseFieldSelector('status.phase!=Pending').matches(fields), true);
  assert.equal(parseFieldSelector('status.phase=Pending').matches(fields), false);
  assert.equal(everythingFields().matches({}), true);
  assert.equal(fieldSelectorFromSet({ a: '1' }).matches({ a: '1' }), true);
});

test('escaped values round-trip', () => {
  const sel = parseFieldSelector('a=b\\,c\\=d\\\\e');
  assert.equal(sel.requirements()[0].value, 'b,c=d\\e');
  assert.equal(sel.toString(), 'a=b\\,c\\=d\\\\e');
  assert.equal(escapeFieldValue('x,y=z'), 'x\\,y\\=z');
  assert.equal(unescapeFieldValue('x\\,y'), 'x,y');
});

test('bad selectors give upstream\'s messages', () => {
  assert.equal(badRequestMessage(() => parseFieldSelector('abc')), "invalid selector: 'abc'; can't understand 'abc'");
  assert.equal(badRequestMessage(() => parseFieldSelector('x=1,zzz')), "invalid selector: 'x=1,zzz'; can't understand 'zzz'");
  assert.equal(badRequestMessage(() => parseFieldSelector('a=b=c')), 'invalid field selector: unescaped character in value: 61');
  assert.equal(badRequestMessage(() => parseFieldSelector('a=b\\x')), 'invalid field selector: invalid escape sequence: \\x');
  assert.equal(badRequestMessage(() => parseFieldSelector('a=b\\')), 'invalid field selector: invalid escape sequence: \\');
});

test('field labels are checked per kind, with upstream\'s wording', () => {
  assert.equal(badRequestMessage(() => parseFieldSelector('foo=bar', 'Pod')), 'field label not supported: foo');
  assert.equal(badRequestMessage(() => parseFieldSelector('metadata.namespace=x', 'Node')), 'field label not supported: metadata.namespace');
  assert.equal(badRequestMessage(() => parseFieldSelector('spec.replicas=1', 'Deployment')),
    '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"');
  // Sorted first, so the same label is reported as upstream would.
  assert.equal(badRequestMessage(() => parseFieldSelector('zz=1,aa=2', 'Pod')), 'field label not supported: aa');

  assert.equal(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed', 'Pod').toString(), 'spec.nodeName=n1,status.phase!=Failed');
  // The legacy alias is rewritten to the label it means.
  assert.equal(parseFieldSelector('spec.host=n1', 'Pod').toString(), 'spec.nodeName=n1');
  assert.equal(parseFieldSelector('metadata.name=a', 'ConfigMap').toString(), 'metadata.name=a');
  assert.equal(convertFieldLabels('Secret', parseFieldSelector('type=Opaque')).toString(), 'type=Opaque');
  assert.ok(supportedFieldLabels('Node').includes('spec.unschedulable'));
  assert.deepEqual(supportedFieldLabels('Lease'), ['metadata.name', 'metadata.namespace']);
});

test('fieldsOf gives name, namespace and the kind\'s fields', () => {
  const pod = { metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'n1' } };
  const fields = fieldsOf(pod, { 'spec.nodeName': pod.spec.nodeName });
  assert.deepEqual(fields, { 'metadata.name': 'web', 'metadata.namespace': 'default', 'spec.nodeName': 'n1' });
  assert.deepEqual(fieldsOf({ metadata: { name: 'n1' } }), { 'metadata.name': 'n1', 'metadata.namespace': '' });
  assert.equal(parseFieldSelector('metadata.namespace=default,spec.nodeName=n1', 'Pod').matches(fields), true);
});

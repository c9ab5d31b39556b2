import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { nameIsDNSSubdomain } from './names.js';

const rules = { namespaced: true, nameFn: nameIsDNSSubdomain };
const messages = (errs: Array<{ field: string; message: string }>) => errs.map((e) => `${e.field}: ${e.message}`);

describe('object metadata', () => {
  it('needs a name (generateName counts) and a namespace when namespaced', () => {
    assert.deepEqual(messages(validateObjectMeta({}, rules)), ['metadata.name: Required value: name or generateName is required', 'metadata.namespace: Required value']);
  });

  it('checks labels, annotations, owner references and finalizers', () => {
    const errs = validateObjectMeta({
      name: 'x', namespace: 'default',
      labels: { 'bad key!': 'v' },
      annotations: { big: 'x'.repeat(256 * 1024) },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: 'u' }],
      finalizers: ['custom'],
    }, rules);
    assert.deepEqual(messages(errs), [
      'metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\',  or \'my.name\',  or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')',
      'metadata.annotations: Too long: may not be more than 262144 bytes',
      'metadata.ownerReferences: Invalid value: {"apiVersion":"v1","kind":"Event","name":"e","uid":"u"}: /v1, Kind=Event is disallowed from being an owner',
      'metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });

  it('keeps name, namespace, uid and creationTimestamp on update', () => {
    const old = { name: 'x', namespace: 'default', uid: 'a', creationTimestamp: '2024-01-01T00:00:00Z' };
    assert.deepEqual(validateObjectMetaUpdate({ ...old }, old), []);
    assert.deepEqual(messages(validateObjectMetaUpdate({ ...old, uid: 'b', creationTimestamp: '2025-01-01T00:00:00Z' }, old)), [
      'metadata.uid: Invalid value: "b": field is immutable',
      'metadata.creationTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable',
    ]);
  });

  it('lets no finalizer in once deletion started', () => {
    const old = { name: 'x', deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['kubernetes'] };
    assert.deepEqual(messages(validateObjectMetaUpdate({ ...old, finalizers: ['kubernetes', 'example.com/hold'] }, old)), [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ["example.com/hold"]',
    ]);
  });
});

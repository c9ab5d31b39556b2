import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultImagePullPolicy, parseImageReference } from './image-pull-policy.js';

describe('image pull policy default', () => {
  it('is Always for latest, said or implied', () => {
    assert.equal(defaultImagePullPolicy('nginx'), 'Always');
    assert.equal(defaultImagePullPolicy('nginx:latest'), 'Always');
    assert.equal(defaultImagePullPolicy('127.0.0.1:5000/team/app'), 'Always');
  });

  it('is IfNotPresent for versions, digests and references that do not parse', () => {
    assert.equal(defaultImagePullPolicy('nginx:1.27'), 'IfNotPresent');
    assert.equal(defaultImagePullPolicy(`nginx@sha256:${'a'.repeat(64)}`), 'IfNotPresent');
    assert.equal(defaultImagePullPolicy('Nginx'), 'IfNotPresent');
    assert.equal(defaultImagePullPolicy(''), 'IfNotPresent');
  });

  it('tells a registry port from a tag', () => {
    assert.deepEqual(parseImageReference('localhost:5000/app:v2'), { name: 'localhost:5000/app', tag: 'v2' });
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../api/status.js';
import type { KubeObject } from '../strategy.js';
import {
  APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, applyPatch, patchTypeOf,
} from './index.js';
import { mergePatch } from './merge-patch.js';
import { goJsonSyntaxError } from './json-value.js';
import { testSchemas } from './test-schemas.js';

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };

function deployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web', namespace: 'default', labels: { app: 'web', tier: 'frontend' },
      annotations: { 'example.com/owner': 'team-a' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'web', image: 'nginx:1', args: ['-g', 'daemon off;'], ports: [{ containerPort: 80 }] },
            { name: 'sidecar', image: 'busybox' },
          ],
        },
      },
    },
  };
}

const patch = (obj: KubeObject, body: string, type: string, gvk = DEPLOYMENT) => applyPatch(obj, body, type, gvk, testSchemas);
const spec = (obj: KubeObject) => obj.spec as {
  replicas: unknown;
  template: { spec: { containers: Array<Record<string, unknown>> } };
};

function rejects(fn: () => unknown, code: number, reason: string, message: string | RegExp, cause?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.reason, reason);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    if (cause !== undefined) assert.deepEqual(e.details?.causes, [{ reason: 'UnexpectedServerResponse', message: cause }]);
    return true;
  });
}

const NOT_APPLIED = 'the server rejected our request due to an error in our request';

describe('content types', () => {
  it('knows the four patch types, ignoring parameters', () => {
    assert.equal(patchTypeOf('application/json-patch+json'), JSON_PATCH);
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8'), MERGE_PATCH);
    assert.equal(patchTypeOf('application/strategic-merge-patch+json'), STRATEGIC_MERGE_PATCH);
    assert.equal(patchTypeOf('application/apply-patch+yaml'), APPLY_PATCH);
  });

  it('answers anything else with upstream 415', () => {
    for (const type of ['application/json', 'text/plain', '']) {
      rejects(() => patch(deployment(), '{}', type), 415, 'UnsupportedMediaType',
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml');
    }
  });
});

describe('JSON patch (RFC 6902)', () => {
  const jp = (obj: KubeObject, ops: unknown) => patch(obj, JSON.stringify(ops), JSON_PATCH);

  it('adds, replaces, removes and tests', () => {
    const out = jp(deployment(), [
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/version', value: 'v2' },
      { op: 'remove', path: '/metadata/labels/tier' },
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:2' },
      { op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '-q' },
      { op: 'add', path: '/spec/template/spec/containers/1/env', value: [{ name: 'A', value: '1' }] },
    ]);
    assert.equal(spec(out).replicas, 5);
    assert.deepEqual(out.metadata?.labels, { app: 'web', version: 'v2' });
    assert.equal(spec(out).template.spec.containers[0].image, 'nginx:2');
    assert.deepEqual(spec(out).template.spec.containers[0].args, ['-g', 'daemon off;', '-q']);
    assert.deepEqual(spec(out).template.spec.containers[1].env, [{ name: 'A', value: '1' }]);
  });

  it('inserts into and removes from arrays by index, negative indices from the end', () => {
    const out = jp(deployment(), [
      { op: 'add', path: '/spec/template/spec/containers/0/args/0', value: 'first' },
      { op: 'remove', path: '/spec/template/spec/containers/-1' },
      { op: 'replace', path: '/spec/template/spec/containers/0/args/-1', value: 'last' },
    ]);
    assert.deepEqual(spec(out).template.spec.containers.map((c) => c.name), ['web']);
    assert.deepEqual(spec(out).template.spec.containers[0].args, ['first', '-g', 'last']);
  });

  it('unescapes ~1 and ~0 in paths (annotation keys)', () => {
    const out = jp(deployment(), [
      { op: 'replace', path: '/metadata/annotations/example.com~1owner', value: 'team-b' },
      { op: 'add', path: '/metadata/annotations/a~0b', value: 'tilde' },
    ]);
    assert.deepEqual(out.metadata?.annotations, { 'example.com/owner': 'team-b', 'a~b': 'tilde' });
  });

  it('moves and copies', () => {
    const out = jp(deployment(), [
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copied' },
      { op: 'move', from: '/metadata/labels/tier', path: '/metadata/annotations/tier' },
    ]);
    assert.deepEqual(out.metadata?.labels, { app: 'web', copied: 'web' });
    assert.equal(out.metadata?.annotations?.tier, 'frontend');
  });

  it('replaces a missing member of an object by adding it, as upstream does', () => {
    const out = jp(deployment(), [{ op: 'replace', path: '/metadata/labels/new', value: 'x' }]);
    assert.equal(out.metadata?.labels?.new, 'x');
  });

  it('tests a missing member against null', () => {
    jp(deployment(), [{ op: 'test', path: '/metadata/labels/none', value: null }]);
    rejects(() => jp(deployment(), [{ op: 'test', path: '/metadata/labels/none', value: 'x' }]), 422, 'Invalid', NOT_APPLIED,
      'testing value /metadata/labels/none failed: test failed');
  });

  it('answers 422 when a test fails, and applies nothing', () => {
    const before = deployment();
    rejects(() => jp(before, [
      { op: 'replace', path: '/spec/replicas', value: 9 },
      { op: 'test', path: '/spec/replicas', value: 2 },
    ]), 422, 'Invalid', NOT_APPLIED, 'testing value /spec/replicas failed: test failed');
    assert.equal(spec(before).replicas, 2);
  });

  it('answers 422 with upstream wording for paths that do not resolve', () => {
    rejects(() => jp(deployment(), [{ op: 'replace', path: '/spec/nothing/here', value: 1 }]), 422, 'Invalid', NOT_APPLIED,
      'replace operation does not apply: doc is missing path: /spec/nothing/here: missing value');
    rejects(() => jp(deployment(), [{ op: 'add', path: '/spec/nothing/here', value: 1 }]), 422, 'Invalid', NOT_APPLIED,
      'add operation does not apply: doc is missing path: "/spec/nothing/here": missing value');
    rejects(() => jp(deployment(), [{ op: 'remove', path: '/metadata/labels/missing' }]), 422, 'Invalid', NOT_APPLIED,
      "error in remove for path: '/metadata/labels/missing': Unable to remove nonexistent key: missing: missing value");
    rejects(() => jp(deployment(), [{ op: 'add', path: '/spec/template/spec/containers/5', value: {} }]), 422, 'Invalid', NOT_APPLIED,
      "error in add for path: '/spec/template/spec/containers/5': Unable to access invalid index: 5: invalid index referenced");
    rejects(() => jp(deployment(), [{ op: 'replace', path: '/spec/template/spec/containers/x', value: {} }]), 422, 'Invalid', NOT_APPLIED,
      'replace operation does not apply: doc is missing key: /spec/template/spec/containers/x: missing value');
    rejects(() => jp(deployment(), [{ op: 'add', value: 1 }]), 422, 'Invalid', NOT_APPLIED,
      'add operation failed to decode path: missing value');
    rejects(() => jp(deployment(), [{ op: 'move', path: '/a' }]), 422, 'Invalid', NOT_APPLIED,
      'move operation failed to decode from: operation, missing from field: missing value');
  });

  it('answers 422 for an unknown operation', () => {
    rejects(() => jp(deployment(), [{ op: 'frobnicate', path: '/spec' }]), 422, 'Invalid', NOT_APPLIED, 'Unexpected kind: frobnicate');
    rejects(() => jp(deployment(), [{ path: '/spec' }]), 422, 'Invalid', NOT_APPLIED, 'Unexpected kind: unknown');
  });

  it('answers 400 for a body that is not an array of operations', () => {
    rejects(() => patch(deployment(), '{"op":"add","path":"/a","value":1}', JSON_PATCH), 400, 'BadRequest',
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    rejects(() => patch(deployment(), '["add"]', JSON_PATCH), 400, 'BadRequest',
      'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
    rejects(() => patch(deployment(), '[{"op": "add",}]', JSON_PATCH), 400, 'BadRequest',
      "invalid character '}' looking for beginning of object key string");
    rejects(() => patch(deployment(), '', JSON_PATCH), 400, 'BadRequest', 'unexpected end of JSON input');
  });

  it('answers 413 beyond 10000 operations', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' }));
    rejects(() => patch(deployment(), JSON.stringify(ops), JSON_PATCH), 413, 'RequestEntityTooLarge',
      'The allowed maximum operations in a JSON patch is 10000, got 10001');
  });

  it('answers 422 when the result is not an object', () => {
    rejects(() => jp(deployment(), [{ op: 'replace', path: '', value: [1] }]), 422, 'Invalid', /^ "" is invalid: patch: Invalid value: "\[1\]": /);
  });

  it('refuses to touch __proto__', () => {
    rejects(() => jp(deployment(), [{ op: 'add', path: '/__proto__/polluted', value: true }]), 422, 'Invalid', NOT_APPLIED);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('treats null as an empty patch and does not modify the original', () => {
    const before = deployment();
    assert.deepEqual(patch(before, 'null', JSON_PATCH), before);
    jp(before, [{ op: 'remove', path: '/metadata/labels' }]);
    assert.deepEqual(before, deployment());
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  it('gives the results of the RFC 7386 appendix', () => {
    const cases: Array<[unknown, unknown, unknown]> = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, p, expected] of cases) {
      assert.deepEqual(mergePatch(target, p), expected, `${JSON.stringify(target)} + ${JSON.stringify(p)}`);
    }
  });

  it('kubectl scale: sets replicas', () => {
    const scale: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 2 } };
    const out = patch(scale, '{"spec":{"replicas":5}}', MERGE_PATCH, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    assert.deepEqual(out.spec, { replicas: 5 });
  });

  it('kubectl label and annotate: add, overwrite and remove', () => {
    const labelled = patch(deployment(), '{"metadata":{"labels":{"tier":"backend","env":"prod"}}}', MERGE_PATCH);
    assert.deepEqual(labelled.metadata?.labels, { app: 'web', tier: 'backend', env: 'prod' });
    const unlabelled = patch(deployment(), '{"metadata":{"labels":{"tier":null}}}', MERGE_PATCH);
    assert.deepEqual(unlabelled.metadata?.labels, { app: 'web' });
    const annotated = patch(deployment(), '{"metadata":{"annotations":{"description":"my app","example.com/owner":null}}}', MERGE_PATCH);
    assert.deepEqual(annotated.metadata?.annotations, { description: 'my app' });
  });

  it('replaces lists whole, unlike strategic merge', () => {
    const out = patch(deployment(), '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}', MERGE_PATCH);
    assert.deepEqual(spec(out).template.spec.containers, [{ name: 'web', image: 'nginx:2' }]);
  });

  it('drops nulls inside objects it brings in, as upstream does', () => {
    const out = patch(deployment(), '{"spec":{"extra":{"a":null,"b":[{"c":null,"d":1},null]}}}', MERGE_PATCH);
    assert.deepEqual((out.spec as Record<string, unknown>).extra, { b: [{ d: 1 }, null] });
  });

  it('answers 400 "Invalid JSON Patch" for bodies upstream cannot merge', () => {
    for (const body of ['{"metadata":', 'null', '"x"', '3', '']) {
      rejects(() => patch(deployment(), body, MERGE_PATCH), 400, 'BadRequest', 'Invalid JSON Patch');
    }
  });

  it('answers 422 for an array body, whose result is no object', () => {
    rejects(() => patch(deployment(), '[1]', MERGE_PATCH), 422, 'Invalid', /^ "" is invalid: patch: Invalid value/);
  });
});

describe('server-side apply (the subset bosun implements)', () => {
  const apply = (obj: KubeObject, yaml: string) => patch(obj, yaml, APPLY_PATCH);

  it('merges the configuration into the live object; its fields win', () => {
    const out = apply(deployment(), [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: web',
      '  labels:',
      '    tier: backend',
      'spec:',
      '  replicas: 3',
      '  template:',
      '    spec:',
      '      containers:',
      '      - name: web',
      '        image: nginx:2',
      '        ports:',
      '        - containerPort: 8080',
      '      - name: extra',
      '        image: redis',
    ].join('\n'));
    assert.equal(spec(out).replicas, 3);
    assert.deepEqual(out.metadata?.labels, { app: 'web', tier: 'backend' });
    assert.deepEqual(spec(out).template.spec.containers, [
      { name: 'web', image: 'nginx:2', args: ['-g', 'daemon off;'], ports: [{ containerPort: 80 }, { containerPort: 8080 }] },
      { name: 'sidecar', image: 'busybox' },
      { name: 'extra', image: 'redis' },
    ]);
  });

  it('creates from nothing and accepts JSON', () => {
    const out = apply({}, '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"new"},"spec":{"replicas":1,"paused":null}}');
    assert.deepEqual(out, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'new' }, spec: { replicas: 1 } });
  });

  it('decodes YAML 1.1 as upstream does: yes is true, timestamps and 22:22 stay strings', () => {
    const out = apply(deployment(), 'apiVersion: apps/v1\nkind: Deployment\nspec:\n  paused: yes\n  replicas: 010\nmetadata:\n  annotations:\n    at: 2024-01-01T00:00:00Z\n    ports: 22:22\n');
    assert.equal((out.spec as Record<string, unknown>).paused, true);
    assert.equal((out.spec as Record<string, unknown>).replicas, 8);
    assert.equal(out.metadata?.annotations?.at, '2024-01-01T00:00:00Z');
    assert.equal(out.metadata?.annotations?.ports, '22:22');
  });

  it('replaces atomic lists and maps, removes fields set to null', () => {
    const out = apply(deployment(), 'apiVersion: apps/v1\nkind: Deployment\nspec:\n  selector:\n    matchLabels:\n      run: web\n  template:\n    spec:\n      containers:\n      - name: web\n        args: ["-x"]\n        ports: null\n');
    assert.deepEqual((out.spec as Record<string, unknown>).selector, { matchLabels: { run: 'web' } });
    assert.deepEqual(spec(out).template.spec.containers[0], { name: 'web', image: 'nginx:1', args: ['-x'] });
  });

  it('reads only the first YAML document, as go-yaml does', () => {
    const out = apply(deployment(), 'apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 4\n---\nspec:\n  replicas: 9\n');
    assert.equal(spec(out).replicas, 4);
  });

  it('refuses a configuration for another kind', () => {
    rejects(() => apply(deployment(), 'apiVersion: v1\nkind: Pod\n'), 400, 'BadRequest', 'invalid object type: /v1, Kind=Pod');
    rejects(() => apply(deployment(), 'metadata:\n  name: web\n'), 400, 'BadRequest', 'invalid object type: /, Kind=');
  });

  it('refuses managedFields in the configuration', () => {
    rejects(() => apply(deployment(), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  managedFields: []\n'), 400, 'BadRequest', 'metadata.managedFields must be nil');
  });

  it('refuses what is not a YAML map', () => {
    rejects(() => apply(deployment(), 'a: [\n'), 400, 'BadRequest', /^error decoding YAML: error converting YAML to JSON: yaml: /);
    rejects(() => apply(deployment(), '- a\n- b\n'), 400, 'BadRequest', 'error decoding YAML: json: cannot unmarshal array into Go value of type map[string]interface {}');
    rejects(() => apply(deployment(), 'a: 1\na: 2\n'), 400, 'BadRequest', /^error decoding YAML: /);
  });
});

describe('Go-compatible JSON errors', () => {
  it('words syntax errors as encoding/json does', () => {
    const cases: Array<[string, string | undefined]> = [
      ['{"a":1}', undefined],
      ['  [1, -2.5e+3, "x\\u00e9", true, false, null] ', undefined],
      ['', 'unexpected end of JSON input'],
      ['{"a":nul}', "invalid character '}' in literal null (expecting 'l')"],
      ['{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
      ['[1 2]', "invalid character '2' after array element"],
      ['[01]', "invalid character '1' after array element"],
      ['[1.]', "invalid character ']' after decimal point in numeric literal"],
      ['[1e]', "invalid character ']' in exponent of numeric literal"],
      ['[-]', "invalid character ']' in numeric literal"],
      ['["\\x"]', "invalid character 'x' in string escape code"],
      ['["\\u12g4"]', "invalid character 'g' in \\u hexadecimal character escape"],
      ['["a\nb"]', "invalid character '\\n' in string literal"],
      ['{"a":1}}', "invalid character '}' after top-level value"],
      ['x', "invalid character 'x' looking for beginning of value"],
      ['[', 'unexpected end of JSON input'],
    ];
    for (const [text, expected] of cases) assert.equal(goJsonSyntaxError(text), expected, text);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKubectl, startTestServer } from '../helpers/server.js';

/**
 * `kubectl auth whoami` and `kubectl auth can-i`: the caller's identity as
 * the API server authenticated it, and its rights — all of them, since bosun
 * has no authorization layer yet (upstream's AlwaysAllow answers).
 */
test('kubectl auth whoami and can-i describe the caller', async (t) => {
  const ts = await startTestServer();
  t.after(() => ts.stop());

  const who = await ts.kubectl(['auth', 'whoami']);
  assert.equal(who.code, 0, who.stderr);
  assert.match(who.stdout, /Username\s+system:admin\n/);
  assert.match(who.stdout, /Groups\s+\[system:masters system:authenticated\]/);

  // Another credential, another answer: the server token authenticates as the server.
  const token = (await readFile(join(ts.dataDir, 'server/token'), 'utf8')).trim();
  const asServer = await runKubectl(['--kubeconfig', '/dev/null', '--server', ts.url, '--certificate-authority', join(ts.dataDir, 'server/tls/server-ca.crt'),
    '--token', token, 'auth', 'whoami', '-o', 'json']);
  assert.equal(asServer.code, 0, asServer.stderr);
  const review = JSON.parse(asServer.stdout);
  assert.equal(review.kind, 'SelfSubjectReview');
  assert.equal(review.status.userInfo.username, 'system:bosun:server');

  for (const args of [['create', 'pods'], ['delete', 'nodes', '--all-namespaces'], ['get', '/healthz'], ['*', '*']]) {
    const r = await ts.kubectl(['auth', 'can-i', ...args]);
    assert.equal(r.code, 0, `can-i ${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout.trim(), 'yes');
  }
  const list = await ts.kubectl(['auth', 'can-i', '--list', '-n', 'default']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
  assert.match(list.stdout, /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);

  // A review must ask about exactly one thing: upstream's 422.
  // (--validate=false: kubectl validates create-only kinds with the protobuf OpenAPI v2 document, which bosun serves as JSON only.)
  const bad = await ts.kubectl(['create', '--validate=false', '-f', '-'], JSON.stringify({
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {},
  }));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /The SelfSubjectAccessReview "" is invalid: spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified/);
  const get = await ts.kubectl(['get', '--raw', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews']);
  assert.notEqual(get.code, 0, 'reviews are create-only');
  assert.match(get.stderr, /MethodNotAllowed|not allow this method/);
});

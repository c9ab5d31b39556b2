import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ApiHttp, podManifest, type HttpResult } from '../helpers/http.js';

/** Every failure is a Status object with upstream's code and reason. */
function assertStatus(r: HttpResult, code: number, reason: string, messagePart?: string | RegExp) {
  assert.equal(r.status, code, r.body);
  const status = r.json<{ kind: string; status: string; code: number; reason: string; message: string }>();
  assert.equal(status.kind, 'Status');
  assert.equal(status.status, 'Failure');
  assert.equal(status.code, code);
  assert.equal(status.reason, reason);
  if (typeof messagePart === 'string') assert.ok(status.message.includes(messagePart), `message "${status.message}" lacks "${messagePart}"`);
  else if (messagePart) assert.match(status.message, messagePart);
  return status;
}

describe('bad input gets the right Status and loses nothing', () => {
  let ts: TestServer;
  let http: ApiHttp;
  let before_: string;
  const pods = '/api/v1/namespaces/default/pods';
  const cms = '/api/v1/namespaces/default/configmaps';

  before(async () => {
    ts = await startTestServer();
    http = new ApiHttp(ts.url, ts.dataDir);
    assert.equal((await http.request('POST', cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep' }, data: { a: '1' } })).status, 201);
    assert.equal((await http.request('POST', pods, podManifest('keep-pod'))).status, 201);
    before_ = (await http.request('GET', `${cms}/keep`)).body;
  });
  after(async () => { http.close(); await ts.stop(); });

  it('malformed JSON is 400 BadRequest', async () => {
    assertStatus(await http.request('POST', pods, '{"apiVersion": "v1", "kind": "Pod", metadata: }'), 400, 'BadRequest');
  });

  it('malformed YAML is 400 BadRequest', async () => {
    assertStatus(await http.request('POST', pods, 'apiVersion: v1\nkind: Pod\nmetadata: [name: x\n', { 'Content-Type': 'application/yaml' }), 400, 'BadRequest');
  });

  it('a body that is not an object is 400', async () => {
    assertStatus(await http.request('POST', pods, '[1,2,3]'), 400, 'BadRequest');
  });

  it('the wrong kind for the endpoint is 400', async () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 80 }] } };
    assertStatus(await http.request('POST', pods, svc), 400, 'BadRequest', 'Service');
  });

  it('the wrong apiVersion for the endpoint is 400', async () => {
    assertStatus(await http.request('POST', pods, { ...podManifest('x'), apiVersion: 'apps/v1' }), 400, 'BadRequest', 'apps/v1');
  });

  it('an invalid name is 422 Invalid naming the field', async () => {
    const status = assertStatus(await http.request('POST', pods, podManifest('Not_A_Name')), 422, 'Invalid', 'Pod "Not_A_Name" is invalid');
    assert.ok(JSON.stringify(status).includes('metadata.name'));
  });

  it('a pod without containers is 422 Invalid', async () => {
    const r = await http.request('POST', pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'empty' }, spec: { containers: [] } });
    assertStatus(r, 422, 'Invalid', 'spec.containers');
  });

  it('a body over 3 MiB is 413', async () => {
    const big = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 + 10) } };
    assertStatus(await http.request('POST', cms, big), 413, 'RequestEntityTooLarge');
  });

  it('a stale update is 409 Conflict', async () => {
    const current = (await http.request('GET', `${cms}/keep`)).json<{ metadata: { resourceVersion: string } }>();
    const stale = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', resourceVersion: String(Number(current.metadata.resourceVersion) - 1) }, data: { a: 'changed' } };
    assertStatus(await http.request('PUT', `${cms}/keep`, stale), 409, 'Conflict', 'the object has been modified');
  });

  it('a duplicate create is 409 AlreadyExists', async () => {
    assertStatus(await http.request('POST', pods, podManifest('keep-pod')), 409, 'AlreadyExists', 'pods "keep-pod" already exists');
  });

  it('an unauthenticated request is 401', async () => {
    assertStatus(await http.request('GET', pods, undefined, {}, true), 401, 'Unauthorized');
  });

  it('health and version need no credentials', async () => {
    assert.equal((await http.request('GET', '/healthz', undefined, {}, true)).status, 200);
    const v = await http.request('GET', '/version', undefined, {}, true);
    assert.equal(v.status, 200);
    assert.equal(v.json<{ major: string }>().major, '1');
  });

  it('an unknown resource is 404', async () => {
    assertStatus(await http.request('GET', '/api/v1/namespaces/default/widgets'), 404, 'NotFound');
  });

  it('a missing object is 404 with upstream wording', async () => {
    assertStatus(await http.request('GET', `${pods}/nope`), 404, 'NotFound', 'pods "nope" not found');
  });

  it('a create into a missing namespace is 404', async () => {
    assertStatus(await http.request('POST', '/api/v1/namespaces/nowhere/pods', podManifest('x')), 404, 'NotFound', 'namespaces "nowhere" not found');
  });

  it('an unknown field with fieldValidation=Strict is 400', async () => {
    const pod = { ...podManifest('strict'), spec: { containers: [{ name: 'main', image: 'x', bogus: 1 }] } };
    assertStatus(await http.request('POST', `${pods}?fieldValidation=Strict`, pod), 400, 'BadRequest', 'unknown field "spec.containers[0].bogus"');
  });

  it('a bad label selector is 400', async () => {
    assertStatus(await http.request('GET', `${pods}?labelSelector=${encodeURIComponent('a in (b')}`), 400, 'BadRequest');
  });

  it('leaves what was stored intact', async () => {
    assert.equal((await http.request('GET', `${cms}/keep`)).body, before_);
    const list = (await http.request('GET', pods)).json<{ items: Array<{ metadata: { name: string } }> }>();
    assert.deepEqual(list.items.map((p) => p.metadata.name), ['keep-pod']);
    assert.equal((await http.request('GET', `${cms}/big`)).status, 404);
  });
});

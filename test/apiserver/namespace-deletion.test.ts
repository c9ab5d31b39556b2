import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ApiHttp } from '../helpers/http.js';

/** A namespace is held by its `kubernetes` finalizer until whoever empties it calls /finalize. */
describe('namespace deletion', () => {
  let ts: TestServer;
  let http: ApiHttp;
  before(async () => { ts = await startTestServer(); http = new ApiHttp(ts.url, ts.dataDir); });
  after(async () => { http.close(); await ts.stop(); });

  it('turns Terminating, refuses creates, and goes once finalized', async () => {
    assert.equal((await http.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } })).status, 201);
    const created = (await http.request('GET', '/api/v1/namespaces/team')).json<{ spec: { finalizers: string[] }; metadata: { labels: Record<string, string> } }>();
    assert.deepEqual(created.spec.finalizers, ['kubernetes']);
    assert.equal(created.metadata.labels['kubernetes.io/metadata.name'], 'team');

    const deleted = await http.request('DELETE', '/api/v1/namespaces/team');
    assert.equal(deleted.status, 200);
    const terminating = deleted.json<{ status: { phase: string }; metadata: { deletionTimestamp?: string } }>();
    assert.equal(terminating.status.phase, 'Terminating');
    assert.ok(terminating.metadata.deletionTimestamp);

    const refused = await http.request('POST', '/api/v1/namespaces/team/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    assert.equal(refused.status, 403);
    assert.match(refused.json<{ message: string }>().message, /unable to create new content in namespace team because it is being terminated/);

    const ns = (await http.request('GET', '/api/v1/namespaces/team')).json<Record<string, unknown> & { spec: { finalizers?: string[] } }>();
    ns.spec.finalizers = [];
    const finalized = await http.request('PUT', '/api/v1/namespaces/team/finalize', ns);
    assert.equal(finalized.status, 200, finalized.body);
    assert.equal((await http.request('GET', '/api/v1/namespaces/team')).status, 404);
  });

  it('kubectl delete namespace waits for it to go', async () => {
    assert.equal((await ts.kubectl(['create', 'namespace', 'quick'])).code, 0);
    // Play the namespace controller: finalize as soon as the namespace is Terminating.
    const finalizer = (async () => {
      for (let i = 0; i < 200; i++) {
        const r = await http.request('GET', '/api/v1/namespaces/quick');
        const ns = r.json<Record<string, unknown> & { status?: { phase?: string }; spec: { finalizers?: string[] } }>();
        if (ns.status?.phase === 'Terminating') {
          ns.spec.finalizers = [];
          await http.request('PUT', '/api/v1/namespaces/quick/finalize', ns);
          return;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const out = await ts.kubectl(['delete', 'namespace', 'quick', '--timeout=20s']);
    await finalizer;
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /namespace "quick" deleted/);
  });
});

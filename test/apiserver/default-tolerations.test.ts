import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ApiHttp, podManifest } from '../helpers/http.js';

interface PodOut { spec: { tolerations?: Array<{ key?: string; operator?: string; effect?: string; tolerationSeconds?: number }> } }

/** DefaultTolerationSeconds admission: pods ride out a short node outage, and leave after a long one. */
describe('default toleration seconds', () => {
  let ts: TestServer;
  let http: ApiHttp;
  before(async () => { ts = await startTestServer(); http = new ApiHttp(ts.url, ts.dataDir); });
  after(async () => { http.close(); await ts.stop(); });

  it('adds not-ready and unreachable NoExecute tolerations of 300 s to a new pod', async () => {
    const pod = (await http.request('POST', '/api/v1/namespaces/default/pods', podManifest('plain'))).json<PodOut>();
    assert.deepEqual(pod.spec.tolerations, [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it('keeps a pod’s own toleration and adds only the missing one', async () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6 };
    const manifest = podManifest('own');
    const body = { ...manifest, spec: { ...manifest.spec, tolerations: [own] } };
    const pod = (await http.request('POST', '/api/v1/namespaces/default/pods', body)).json<PodOut>();
    assert.deepEqual(pod.spec.tolerations, [own, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
  });

  it('adds nothing to a pod that tolerates every taint', async () => {
    const manifest = podManifest('all');
    const body = { ...manifest, spec: { ...manifest.spec, tolerations: [{ operator: 'Exists' }] } };
    const pod = (await http.request('POST', '/api/v1/namespaces/default/pods', body)).json<PodOut>();
    assert.deepEqual(pod.spec.tolerations, [{ operator: 'Exists' }]);
  });
});

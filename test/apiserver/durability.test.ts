import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, stopProcess, freePort } from '../helpers/server.js';
import { ApiHttp, podManifest } from '../helpers/http.js';

describe('an acknowledged write survives kill -9 of the server', () => {
  let dataDir = '';
  after(async () => { if (dataDir) await rm(dataDir, { recursive: true, force: true }); });

  it('keeps every pod that got a 201 while 1,000 concurrent creates were cut short', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bosun-kill9-'));
    const port = await freePort();
    const first = await spawnServer(dataDir, port, ['--disable-scheduler', '--disable-controller-manager']);
    const http = new ApiHttp(`https://127.0.0.1:${port}`, dataDir);
    const acknowledged: string[] = [];
    let failed = 0;
    const creates = Array.from({ length: 1000 }, (_, i) => {
      const name = `pod-${i}`;
      return http.request('POST', '/api/v1/namespaces/default/pods', podManifest(name))
        .then((r) => { if (r.status === 201) acknowledged.push(name); else failed++; }, () => { failed++; });
    });
    // Kill once some creates are acknowledged, while the rest are in flight.
    while (acknowledged.length < 100) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    await Promise.all(creates);
    http.close();
    assert.ok(failed > 0, 'the kill should cut some creates short');

    const second = await spawnServer(dataDir, port, ['--disable-scheduler', '--disable-controller-manager']);
    const http2 = new ApiHttp(`https://127.0.0.1:${port}`, dataDir);
    try {
      const list = await http2.request('GET', '/api/v1/namespaces/default/pods');
      assert.equal(list.status, 200);
      const names = new Set(list.json<{ items: Array<{ metadata: { name: string } }> }>().items.map((p) => p.metadata.name));
      const lost = acknowledged.filter((n) => !names.has(n));
      assert.deepEqual(lost, [], `acknowledged creates lost after kill -9: ${lost.length} of ${acknowledged.length}`);
    } finally {
      http2.close();
      await stopProcess(second.child);
    }
  });
});

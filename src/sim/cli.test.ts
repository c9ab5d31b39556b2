import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, nodes, pods } from '../client/index.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { parseControlFile } from '../cli/sim.js';

let srv: TestServer;
let client: Client;
let tmp: string;

before(async () => {
  srv = await startTestServer();
  client = await Client.fromKubeconfig(srv.kubeconfig, { qps: 0 });
  tmp = await mkdtemp(join(tmpdir(), 'bosun-sim-cli-'));
});

after(async () => {
  client?.close();
  await srv?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('parseControlFile: names one a line, comments and blanks ignored', () => {
  assert.deepEqual([...parseControlFile('a\n# b\n\n c  # why\n')], ['a', 'c']);
});

test('bosun sim --server --token --nodes 3 registers 3 nodes, obeys SIGUSR1, stops on SIGTERM', async () => {
  const token = (await readFile(join(srv.dataDir, 'server/token'), 'utf8')).trim();
  const control = join(tmp, 'down');
  await writeFile(control, '');
  const root = join(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'sim',
    '--server', srv.url, '--token', token, '--nodes', '3', '--name-prefix', 'cli-', '--labels', 'pool=cli',
    '--taints', 'dedicated=sim:NoSchedule', '--control-file', control, '--delete-nodes-on-exit'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const waitFor = async (text: string, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!out.includes(text)) {
      if (child.exitCode !== null) throw new Error(`sim exited early:\n${out}`);
      if (Date.now() > deadline) throw new Error(`no "${text}" in:\n${out}`);
      await delay(50);
    }
  };
  try {
    await waitFor('sim: running');
    assert.match(out, /server CA matches the token's hash/);
    assert.match(out, /sim: 3 nodes registered in/);
    const list = await client.list(nodes, { labelSelector: 'pool=cli' });
    assert.deepEqual(list.items.map((n) => n.metadata!.name).sort(), ['cli-0', 'cli-1', 'cli-2']);
    assert.deepEqual(list.items[0].spec!.taints, [{ key: 'dedicated', value: 'sim', effect: 'NoSchedule' }]);

    await client.create(pods, { metadata: { name: 'on-cli', namespace: 'default' }, spec: { nodeName: 'cli-2', containers: [{ name: 'c', image: 'x' }] } });
    for (let i = 0; (await client.get(pods, 'default', 'on-cli')).status?.phase !== 'Running'; i++) {
      assert.ok(i < 200, 'pod on cli-2 runs');
      await delay(50);
    }

    await writeFile(control, '# dead machines\ncli-1\n');
    child.kill('SIGUSR1');
    await waitFor('heartbeat stopped for [cli-1]');
    await writeFile(control, '');
    child.kill('SIGUSR1');
    await waitFor('resumed for [cli-1]');

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit') as [number | null];
    assert.equal(code, 0, out);
    assert.match(out, /sim: stopped/);
    assert.equal((await client.list(nodes, { labelSelector: 'pool=cli' })).items.length, 0, 'nodes deleted on exit');
  } finally {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await once(child, 'exit'); }
  }
});

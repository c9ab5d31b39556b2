/**
 * Measures `bosun sim` at scale against an in-process test server:
 * `node --import tsx src/sim/scale-check.ts [nodes=5000] [pods=1000] [settle-seconds=0]`.
 * Prints one JSON line: registration time, the simulator's RSS, heartbeat
 * writes per second, time for bound pods to turn Running. Not a test: it
 * asserts no timing.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, pods } from '../client/index.js';
import { startTestServer } from '../../test/helpers/server.js';

const count = Number(process.argv[2] ?? 5000);
const podCount = Number(process.argv[3] ?? 1000);
/** Seconds to wait before the heartbeat rate is read: status updates start a minute in. */
const settleSeconds = Number(process.argv[4] ?? 0);
const srv = await startTestServer();
const client = await Client.fromKubeconfig(srv.kubeconfig, { qps: 0 });
const token = (await readFile(join(srv.dataDir, 'server/token'), 'utf8')).trim();
const root = join(import.meta.dirname, '../..');
const started = Date.now();
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'sim',
  '--server', srv.url, '--token', token, '--nodes', String(count), '--stats-interval', '10s'], { stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
try {
  while (!out.includes('sim: running')) {
    if (child.exitCode !== null) throw new Error(out);
    await delay(100);
  }
  const registerSeconds = Number(/nodes registered in ([\d.]+)s/.exec(out)?.[1]);
  const readySeconds = (Date.now() - started) / 1000;
  const rssAfterRegister = await rss();

  const podStart = Date.now();
  const names: string[] = [];
  const queue = Array.from({ length: podCount }, (_, i) => i);
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const name = `p-${i}`;
      names.push(name);
      await client.create(pods, { metadata: { name, namespace: 'default' }, spec: { nodeName: `hollow-${(i * 7) % count}`, containers: [{ name: 'c', image: 'x' }] } });
    }
  }));
  const created = (Date.now() - podStart) / 1000;
  for (;;) {
    const list = await client.list(pods, { namespace: 'default', fieldSelector: 'status.phase=Running' });
    if (list.items.length >= podCount) break;
    await delay(200);
  }
  const podsRunningSeconds = (Date.now() - podStart) / 1000;

  // Let two stats intervals pass for the steady heartbeat rate.
  await delay(settleSeconds * 1000);
  const before = out.length;
  while ((out.slice(before).match(/sim: stats:/g) ?? []).length < 2) await delay(500);
  const rates = [...out.slice(before).matchAll(/stats: ([\d.]+) heartbeat writes\/s/g)].map((m) => Number(m[1]));
  const result = {
    nodes: count, store: 'sqlite', registerSeconds, startToRunningSeconds: readySeconds,
    pods: podCount, podsCreateSeconds: created, podsCreateToRunningSeconds: podsRunningSeconds,
    heartbeatWritesPerSecond: rates.at(-1), simErrors: Number([...out.matchAll(/(\d+) errors/g)].at(-1)?.[1]), simRssMiB: Math.round(await rss()), simRssAfterRegisterMiB: Math.round(rssAfterRegister),
  };
  console.log(JSON.stringify(result));
} finally {
  if (child.exitCode === null) { child.kill('SIGTERM'); await once(child, 'exit'); }
  client.close();
  await srv.stop();
}

/**
 * API server throughput and latency on SQLite and etcd, one JSON line.
 *
 *   npm run bench -- apiserver [--pods N] [--clients C] [--watchers W] [--store sqlite|etcd|etcd3|both|all]
 *   (etcd3: a three-member etcd cluster on 127.0.0.1/.2/.3, as an HA cluster runs)
 *
 * The server runs as its own process (so its RSS is its own); this process is
 * the load: C concurrent HTTPS clients creating N pods, LISTs of all pods, W
 * watchers measuring event lag, and the raw store write rate for the same
 * payloads. Everything runs on loopback and stops by itself.
 */
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { spawnServer, stopProcess, freePort } from '../test/helpers/server.js';
import { ApiHttp } from '../test/helpers/http.js';
import { startEtcd } from '../test/helpers/etcd.js';
import { startEtcdCluster } from '../test/ha/etcd-cluster.js';

const podBody = (i: number) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `bench-${i}`, labels: { app: 'bench', shard: String(i % 16) } },
  spec: { containers: [{ name: 'main', image: '127.0.0.1:5000/busybox:1', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

const percentile = (sorted: number[], p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return round(kb / 1024);
}

/** Opens W watch streams and records, per pod name, when each watcher saw it. */
function openWatchers(http: ApiHttp, count: number, fromRv: string, seen: Map<string, number[]>) {
  const requests: Array<{ destroy: () => void }> = [];
  const ready: Promise<void>[] = [];
  for (let w = 0; w < count; w++) {
    ready.push(new Promise((resolve, reject) => {
      const req = request(new URL(`/api/v1/namespaces/default/pods?watch=true&resourceVersion=${fromRv}`, http.baseUrl), {
        agent: http.agent, headers: { Accept: 'application/json' },
      }, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = performance.now();
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            const m = /"name":"(lag-\d+)"/.exec(line);
            if (m) {
              const list = seen.get(m[1]) ?? [];
              list.push(now);
              seen.set(m[1], list);
            }
          }
        });
        res.on('error', () => {});
        resolve();
      });
      req.on('error', (e) => { if (!requests.length) reject(e); });
      req.end();
      requests.push(req);
    }));
  }
  return { ready: Promise.all(ready), close: () => requests.forEach((r) => r.destroy()) };
}

async function runCreates(http: ApiHttp, total: number, clients: number) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      const r = await http.request('POST', '/api/v1/namespaces/default/pods', podBody(i));
      latencies.push(performance.now() - t0);
      if (r.status !== 201) errors++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { createsPerSec: round(total / seconds), createP50Ms: round(percentile(latencies, 50), 2), createP99Ms: round(percentile(latencies, 99), 2), createErrors: errors };
}

async function runLists(http: ApiHttp, rounds: number, expected: number) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const r = await http.request('GET', '/api/v1/pods');
    times.push(performance.now() - t0);
    bytes = r.body.length;
    const n = (r.body.match(/"kind":"Pod"/g) ?? []).length;
    if (n < expected) throw new Error(`LIST returned ${n} pods, expected ${expected}`);
  }
  times.sort((a, b) => a - b);
  return { listAllP50Ms: round(percentile(times, 50)), listAllP99Ms: round(percentile(times, 99)), listAllMiB: round(bytes / 1048576) };
}

async function runWatchLag(http: ApiHttp, watchers: number, events: number, dataDir: string) {
  const rv = (await http.request('GET', '/api/v1/namespaces/default/pods?limit=1')).json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
  const seen = new Map<string, number[]>();
  const watchHttp = new ApiHttp(http.baseUrl, dataDir, Infinity);
  const w = openWatchers(watchHttp, watchers, rv, seen);
  await w.ready;
  await new Promise((r) => setTimeout(r, 300));
  const acked = new Map<string, number>();
  // Paced creates: lag measures delivery, not a queue we built ourselves.
  for (let i = 0; i < events; i++) {
    const name = `lag-${i}`;
    const r = await http.request('POST', '/api/v1/namespaces/default/pods', podBody(100_000 + i).replace(/bench-\d+/, name));
    acked.set(name, performance.now());
    if (r.status !== 201) throw new Error(`create ${name}: ${r.status}`);
    await new Promise((res) => setTimeout(res, 10));
  }
  const deadline = Date.now() + 10_000;
  while ([...acked.keys()].some((n) => (seen.get(n)?.length ?? 0) < watchers) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  w.close();
  watchHttp.close();
  const lags: number[] = [];
  let missing = 0;
  for (const [name, t] of acked) {
    const times = seen.get(name) ?? [];
    missing += watchers - times.length;
    for (const s of times) lags.push(Math.max(0, s - t));
  }
  lags.sort((a, b) => a - b);
  return { watchers, watchEvents: events, watchLagP50Ms: round(percentile(lags, 50), 2), watchLagP99Ms: round(percentile(lags, 99), 2), watchEventsMissing: missing };
}

/** The same payloads written straight to the store with its own client, no API server. */
async function rawSqlite(total: number, dir: string) {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE kv (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, value BLOB)');
  const insert = db.prepare('INSERT INTO kv (name, value) VALUES (?, ?)');
  const started = performance.now();
  for (let i = 0; i < total; i++) insert.run(`/registry/core/pods/default/bench-${i}`, podBody(i));
  const perSec = total / ((performance.now() - started) / 1000);
  db.close();
  return round(perSec);
}

async function rawEtcd(total: number, endpoint: string[], clients: number) {
  const etcd = new Etcd3({ hosts: endpoint });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < total) { const i = next++; await etcd.put(`/raw/pods/default/bench-${i}`).value(podBody(i)); }
  }));
  const perSec = total / ((performance.now() - started) / 1000);
  etcd.close();
  return round(perSec);
}

async function benchStore(kind: 'sqlite' | 'etcd' | 'etcd3', o: { pods: number; clients: number; watchers: number; lagEvents: number; listRounds: number }) {
  const dataDir = await mkdtemp(join(tmpdir(), `bosun-bench-${kind}-`));
  // etcd3: a three-member cluster (HA), where each write waits for two members' fsyncs.
  const etcd = kind === 'etcd' ? await startEtcd() : kind === 'etcd3' ? await startEtcdCluster().then((c) => ({ endpoint: c.endpoints.join(','), stop: c.stop })) : undefined;
  const port = await freePort();
  // The API alone: no scheduler or controllers reacting to the bench's pods.
  const apiOnly = ['--disable-scheduler', '--disable-controller-manager'];
  const server = await spawnServer(dataDir, port, etcd ? ['--datastore-endpoint', etcd.endpoint, ...apiOnly] : apiOnly, { compiled: true });
  const http = new ApiHttp(`https://127.0.0.1:${port}`, dataDir);
  try {
    const creates = await runCreates(http, o.pods, o.clients);
    const lists = await runLists(http, o.listRounds, o.pods);
    const lag = await runWatchLag(http, o.watchers, o.lagEvents, dataDir);
    const rss = await rssMiB(server.child.pid!);
    const raw = kind === 'sqlite' ? await rawSqlite(o.pods, dataDir) : await rawEtcd(o.pods, etcd!.endpoint.split(','), o.clients);
    return { store: kind, ...creates, ...lists, ...lag, serverRssMiB: rss, rawStoreWritesPerSec: raw, createsVsRaw: round(creates.createsPerSec / raw, 3) };
  } finally {
    http.close();
    await stopProcess(server.child);
    await etcd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: {
    pods: { type: 'string', default: '10000' }, clients: { type: 'string', default: '32' },
    watchers: { type: 'string', default: '100' }, store: { type: 'string', default: 'both' },
  } });
  const o = { pods: Number(values.pods), clients: Number(values.clients), watchers: Number(values.watchers), lagEvents: 200, listRounds: 20 };
  const stores = values.store === 'both' ? ['sqlite', 'etcd'] as const : values.store === 'all' ? ['sqlite', 'etcd', 'etcd3'] as const : [values.store as 'sqlite' | 'etcd' | 'etcd3'];
  const results = [];
  for (const s of stores) results.push(await benchStore(s, o));
  console.log(JSON.stringify({
    bench: 'apiserver',
    conditions: { pods: o.pods, clients: o.clients, watchers: o.watchers, lagEvents: o.lagEvents, listRounds: o.listRounds, cpus: cpus().length, memGiB: round(totalmem() / 2 ** 30), node: process.version, transport: 'HTTPS/1.1 keep-alive, JSON' },
    results,
  }));
}

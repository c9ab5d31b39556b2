/**
 * Cluster DNS throughput and latency for in-cluster names.
 *
 *   npm run bench -- dns [--services 1000] [--endpoints 3] [--seconds 5] [--window 256]
 *
 * This process runs an in-process API server and creates N ClusterIP
 * Services, each with a hand-made EndpointSlice of E ready endpoints. The DNS
 * server runs in a child process pinned to CPU 0 (`taskset -c 0`), fed by a
 * watch like in an agent; the load generator is a second child pinned to CPU 1.
 * It sends A queries for random Services over UDP from 4 sockets, keeping
 * `window` queries in flight (saturation: queries/s, p50/p99), then paces
 * at half that rate for the latency of a server that is not saturated.
 * The server's own CPU time is reported too: on a shared machine
 * `qpsPerCpuSecond` is the figure for "one core".
 *
 * Prints one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import dnsPacket from 'dns-packet';
import { Client, endpointslices, namespaces, services } from '../src/client/index.js';
import { ClusterDnsServer } from '../src/dns/index.js';

const percentile = (sorted: Float64Array | number[], p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const self = fileURLToPath(import.meta.url);

type Message =
  | { kind: 'listening'; port: number; hotPathNsPerQuery?: number }
  | { kind: 'cpu'; userMs: number; systemMs: number }
  | { kind: 'result'; phase: string; sent: number; received: number; lost: number; seconds: number; latenciesMs: number[]; cpuMs: number };

async function pool<T>(items: T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < items.length) await fn(items[next++]); }));
}

/** A child on one CPU (`taskset` when the machine has it and more than one CPU), talking over IPC. */
function child(cpu: number, args: string[], pin: boolean): ChildProcess {
  const node = [process.execPath, '--import', 'tsx', self, ...args];
  const pinned = pin && cpus().length > 1 ? ['taskset', '-c', String(cpu), ...node] : node;
  return spawn(pinned[0], pinned.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<K extends Message['kind']>(c: ChildProcess, kind: K): Promise<Extract<Message, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Message) => { if (m.kind === kind) { c.off('message', onMessage); c.off('exit', onExit); resolve(m as Extract<Message, { kind: K }>); } };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before sending ${kind}`));
    c.on('message', onMessage);
    c.once('exit', onExit);
  });
}

// ---- the DNS server child ----------------------------------------------------

async function serve(kubeconfig: string, expected: number): Promise<void> {
  const client = await Client.fromKubeconfig(kubeconfig, { qps: 0 });
  const dns = new ClusterDnsServer({ client, upstreams: [], log: () => {} });
  const { port } = await dns.listen({ address: '127.0.0.1', port: 0 });
  while (dns.zone.ownerCount < expected) await new Promise((r) => setTimeout(r, 50));
  // The hot path alone, without sockets: what a query costs in JavaScript.
  const queries = Array.from({ length: expected }, (_, i) => dnsPacket.encode({ type: 'query', id: i, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: `svc-${i}.bench.svc.cluster.local`, type: 'A', class: 'IN' }] }));
  for (const q of queries) dns.handle(q);
  const n = 300_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) dns.handle(queries[i % queries.length]);
  const hotPathNsPerQuery = Number(process.hrtime.bigint() - t0) / n;
  let mark = process.cpuUsage();
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'cpu-mark') mark = process.cpuUsage();
    if (m.kind === 'cpu') { const d = process.cpuUsage(mark); process.send!({ kind: 'cpu', userMs: d.user / 1000, systemMs: d.system / 1000 }); }
    if (m.kind === 'stop') void dns.stop().then(() => { client.close(); process.exit(0); });
  });
  process.send!({ kind: 'listening', port, hotPathNsPerQuery });
}

// ---- the load generator child ------------------------------------------------

interface LoadOptions { port: number; names: string[]; seconds: number; window: number; rate?: number; phase: string }

/** Queries for random names from 4 sockets; `rate` paces, else `window` stay in flight. */
async function load(o: LoadOptions): Promise<Message> {
  const queries = o.names.map((name) => dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] }));
  const sockets = Array.from({ length: 4 }, () => createSocket({ type: 'udp4', recvBufferSize: 4 << 20 }));
  const sentAt = new Float64Array(65536).fill(-1);
  const latencies: number[] = [];
  let sent = 0;
  let received = 0;
  let nextId = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + o.seconds * 1000;
  let done = false;
  const send = (s: (typeof sockets)[number]) => {
    let id = nextId;
    // Skip ids still waiting for their answer.
    for (let i = 0; i < 65536 && sentAt[id] >= 0; i++) id = (id + 1) & 0xffff;
    nextId = (id + 1) & 0xffff;
    const q = queries[(Math.random() * queries.length) | 0];
    q.writeUInt16BE(id, 0);
    sentAt[id] = performance.now();
    sent++;
    s.send(q, o.port, '127.0.0.1');
  };
  for (const s of sockets) {
    s.on('message', (msg) => {
      const id = msg.readUInt16BE(0);
      const t = sentAt[id];
      if (t < 0) return;
      sentAt[id] = -1;
      received++;
      latencies.push(performance.now() - t);
      if (!done && !o.rate) send(s);
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  }
  // Answers lost under saturation would shrink the window: their slots are refilled after 500 ms.
  const reaper = setInterval(() => {
    const now = performance.now();
    let lost = 0;
    for (let id = 0; id < 65536; id++) if (sentAt[id] >= 0 && now - sentAt[id] > 500) { sentAt[id] = -1; lost++; }
    if (!o.rate) for (let i = 0; i < lost && !done; i++) send(sockets[i % sockets.length]);
  }, 250);
  if (o.rate) {
    const rate = o.rate;
    let due = 0;
    while (performance.now() < end) {
      const target = ((performance.now() - start) / 1000) * rate;
      // After a stall of this process, catch up by at most 10 ms of queries rather than one burst.
      if (target - due > rate / 100) due = Math.floor(target - rate / 100);
      while (due < target) { send(sockets[due % sockets.length]); due++; }
      await new Promise((r) => setTimeout(r, 1));
    }
  } else {
    for (let i = 0; i < o.window; i++) send(sockets[i % sockets.length]);
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
  }
  done = true;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  await new Promise((r) => setTimeout(r, 200));
  clearInterval(reaper);
  for (const s of sockets) s.close();
  return { kind: 'result', phase: o.phase, sent, received, lost: sent - received, seconds, latenciesMs: latencies, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function generate(port: number, services: number): Promise<void> {
  const names = Array.from({ length: services }, (_, i) => `svc-${i}.bench.svc.cluster.local`);
  process.on('message', (m: { kind: string; seconds: number; window: number; rate?: number; phase: string }) => {
    if (m.kind !== 'load') return;
    void load({ port, names, seconds: m.seconds, window: m.window, rate: m.rate, phase: m.phase }).then((r) => process.send!(r));
  });
  process.send!({ kind: 'listening', port });
}

// ---- the driver ------------------------------------------------------------------

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, options: {
      services: { type: 'string', default: '1000' }, endpoints: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' }, window: { type: 'string', default: '256' }, pin: { type: 'string', default: 'true' },
    },
  });
  const nServices = Number(values.services);
  const nEndpoints = Number(values.endpoints);
  const seconds = Number(values.seconds);
  const window = Number(values.window);
  const pin = values.pin !== 'false';
  const { startTestServer } = await import('../test/helpers/server.js');
  const ts = await startTestServer();
  const children: ChildProcess[] = [];
  try {
    const client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
    await client.create(namespaces, { metadata: { name: 'bench' } });
    const t0 = performance.now();
    await pool(Array.from({ length: nServices }, (_, i) => i), 32, async (i) => {
      await client.create(services, { metadata: { name: `svc-${i}`, namespace: 'bench' }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } } as Service);
      await client.create(endpointslices, {
        metadata: { name: `svc-${i}-a`, namespace: 'bench', labels: { 'kubernetes.io/service-name': `svc-${i}` } },
        addressType: 'IPv4',
        endpoints: Array.from({ length: nEndpoints }, (_, j) => ({ addresses: [`10.42.${(i * nEndpoints + j) >> 8 & 255}.${(i * nEndpoints + j) & 255}`], conditions: { ready: true } })),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      } as EndpointSlice);
    });
    const createSeconds = (performance.now() - t0) / 1000;
    client.close();

    const server = child(0, ['--role', 'server', '--kubeconfig', ts.kubeconfig, '--expect', String(nServices)], pin);
    children.push(server);
    const { port, hotPathNsPerQuery } = await nextMessage(server, 'listening');
    const gen = child(1, ['--role', 'client', '--port', String(port), '--services', String(nServices)], pin);
    children.push(gen);
    await nextMessage(gen, 'listening');

    const run = async (phase: string, secs: number, rate?: number) => {
      server.send({ kind: 'cpu-mark' });
      gen.send({ kind: 'load', phase, seconds: secs, window, rate });
      const r = await nextMessage(gen, 'result');
      server.send({ kind: 'cpu' });
      const cpu = await nextMessage(server, 'cpu');
      const lat = Float64Array.from(r.latenciesMs).sort();
      const qps = r.received / r.seconds;
      const cpuSeconds = (cpu.userMs + cpu.systemMs) / 1000;
      return {
        qps: Math.round(qps), p50Ms: round(percentile(lat, 50), 3), p99Ms: round(percentile(lat, 99), 3),
        lost: r.lost, serverCpuPerWallSecond: round(cpuSeconds / r.seconds, 2), qpsPerCpuSecond: Math.round(r.received / cpuSeconds),
        clientCpuPerWallSecond: round(r.cpuMs / 1000 / r.seconds, 2),
      };
    };
    await run('warmup', 1);
    const saturated = await run('saturated', seconds);
    const paced = await run('paced', Math.max(2, seconds - 1), Math.max(1000, Math.round(saturated.qps / 2)));
    console.log(JSON.stringify({
      bench: 'dns',
      queries: 'A for random in-cluster Service names over UDP',
      services: nServices, endpointsPerService: nEndpoints,
      saturated: { ...saturated, window },
      paced: { ...paced, targetQps: Math.max(1000, Math.round(saturated.qps / 2)) },
      hotPath: { nsPerQuery: Math.round(hotPathNsPerQuery ?? NaN), queriesPerCpuSecond: Math.round(1e9 / (hotPathNsPerQuery ?? NaN)) },
      conditions: {
        server: `ClusterDnsServer in a child process${pin ? ', pinned to CPU 0' : ''}`, client: `load generator child process${pin ? ', pinned to CPU 1' : ''}, 4 UDP sockets`,
        cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgBefore: loadavg().map((x) => round(x, 2)), node: process.version,
        apiObjectsCreateSeconds: round(createSeconds, 1), target: '>= 20000 qps per core (CoreDNS ~17000)',
      },
    }));
    server.send({ kind: 'stop' });
    await once(server, 'exit');
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await ts.stop();
  }
}

// As a child: `--role server|client`.
const roleAt = process.argv.indexOf('--role');
if (roleAt > 0) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: {
    role: { type: 'string' }, kubeconfig: { type: 'string' }, expect: { type: 'string' }, port: { type: 'string' }, services: { type: 'string' },
  } });
  const exitWithParent = () => process.exit(0);
  process.on('disconnect', exitWithParent);
  if (values.role === 'server') await serve(values.kubeconfig!, Number(values.expect));
  else await generate(Number(values.port), Number(values.services));
}

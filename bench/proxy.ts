/**
 * The proxy's costs, one JSON line (root: iptables, network namespaces).
 *
 *   npm run bench -- proxy [--services 1000,5000] [--endpoints 10] [--seconds 3] [--runs 8] [--concurrency 4]
 *
 * Sync: for each size, made-up Services × endpoints go straight into the
 * rule syncer (no API server: this is the iptables side alone) under a chain
 * prefix of the bench's own, without jumps from the built-in chains, so no
 * packet of the host ever enters them. Measured: the first full sync (every
 * chain created), a second full sync (every chain rewritten, as the periodic
 * resync does), and a partial sync after one Service's endpoint changed
 * (median of 5). `renderMs` is building the restore text alone.
 *
 * Traffic: a backend namespace runs a Node HTTP server, a client namespace
 * runs a Node load generator (new connection per request, `concurrency`
 * loops); requests/s through a ClusterIP (our real rules, jumps included)
 * versus straight to the backend's address, alternated (direct, service,
 * service, direct, …) to even out a noisy machine. Everything is removed after.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { RuleSyncer, cleanupProxyRules, renderRestore, type RuleConfig, type ServicePortState } from '../src/proxy/index.js';
import type { EndpointInfo, ServicePortInfo } from '../src/proxy/model.js';
import { NetLab, freeTestOctet, run } from '../test/helpers/netns.js';

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function madeUpServices(n: number, endpointsEach: number): ServicePortState[] {
  const states: ServicePortState[] = [];
  for (let i = 0; i < n; i++) {
    const port: ServicePortInfo = {
      name: `bench/svc-${i}:http`, namespace: 'bench', service: `svc-${i}`, portName: 'http', protocol: 'TCP',
      clusterIP: `10.43.${(i >> 8) & 255}.${i & 255}`, port: 80, externalIPs: [], externalPolicyLocal: false, internalPolicyLocal: false,
    };
    const endpoints: EndpointInfo[] = [];
    for (let j = 0; j < endpointsEach; j++) {
      const k = i * endpointsEach + j;
      endpoints.push({ ip: `10.${40 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`, port: 8080, ready: true, serving: true, terminating: false, isLocal: false });
    }
    states.push({ port, endpoints });
  }
  return states;
}

async function syncBench(services: number, endpointsEach: number, prefix: string) {
  const cfg: RuleConfig = { chainPrefix: prefix, clusterCIDR: '10.42.0.0/16', masqueradeAll: false, masqueradeBit: 14, nodePortAddresses: [], localhostNodePorts: false };
  const states = madeUpServices(services, endpointsEach);
  const syncer = new RuleSyncer(cfg, () => {}, { installJumps: false });
  try {
    const t0 = performance.now();
    const plan = renderRestore(states, cfg, { existingChains: [] });
    const renderMs = performance.now() - t0;
    const first = await syncer.sync(states, { full: true, conntrack: false });
    const again = await syncer.sync(states, { full: true, conntrack: false });
    const partial: number[] = [];
    for (let r = 0; r < 5; r++) {
      const i = (r * 7919) % services;
      const s = states[i]!;
      // One endpoint of one Service moves to a new address.
      states[i] = { ...s, endpoints: [...s.endpoints.slice(1), { ...s.endpoints[0]!, ip: `10.${60 + r}.0.1` }] };
      const res = await syncer.sync(states, { conntrack: false });
      if (res.full) throw new Error('expected a partial sync');
      partial.push(res.durationMs);
    }
    return {
      services, endpointsPerService: endpointsEach, natRules: plan.natRules, chains: plan.chains.size + 4, restoreTextMB: round(plan.text.length / 1e6, 1),
      renderMs: round(renderMs), firstFullSyncMs: round(first.durationMs), fullSyncMs: round(again.durationMs), partialSyncMs: round(median(partial)),
    };
  } finally {
    await cleanupProxyRules(prefix);
  }
}

const SERVER = `import http from 'node:http';
http.createServer((req, res) => res.end(process.argv[2])).listen(80, '0.0.0.0');`;

/**
 * One new TCP connection per request, GET, read the answer, close with a
 * reset: no TIME_WAIT on either side, so ports can be reused at thousands of
 * connections a second (a server-side TIME_WAIT hit by a reused port costs a
 * one-second SYN retransmit, and NAT would dodge it where a direct
 * connection cannot, skewing the comparison). Several source addresses
 * widen the port space further.
 */
const LOADGEN = `import net from 'node:net';
const [host, secs, conc, body] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[6]];
const sources = process.argv[5].split(',');
let next = 0, ok = 0, failed = 0;
const end = Date.now() + secs * 1000;
const one = () => new Promise((resolve) => {
  const s = net.connect({ host, port: 80, localAddress: sources[next++ % sources.length] });
  let buf = '';
  let done = false;
  const finish = (good) => { if (done) return; done = true; good ? ok++ : failed++; s.resetAndDestroy(); resolve(); };
  s.setNoDelay(true);
  s.on('connect', () => s.write('GET / HTTP/1.1\\r\\nHost: bench\\r\\n\\r\\n'));
  s.on('data', (d) => { buf += d; if (buf.endsWith('\\r\\n\\r\\n' + body)) finish(true); });
  s.on('error', () => finish(false));
  s.on('close', () => finish(false));
  s.setTimeout(5000, () => finish(false));
});
await Promise.all(Array.from({ length: conc }, async () => { while (Date.now() < end) await one(); }));
console.log(JSON.stringify({ ok, failed }));`;

async function trafficBench(seconds: number, runCount: number, concurrency: number, prefix: string, lab: NetLab) {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-bench-'));
  const abort = new AbortController();
  try {
    await writeFile(join(dir, 'server.mjs'), SERVER);
    await writeFile(join(dir, 'loadgen.mjs'), LOADGEN);
    const octet = await freeTestOctet();
    const br = await lab.bridge(`10.42.${octet}.1/24`);
    const backend = await lab.netns('web', br, `10.42.${octet}.11`, { hairpin: true });
    const client = await lab.netns('client', br, `10.42.${octet}.100`);
    const sources = Array.from({ length: 16 }, (_, i) => `10.42.${octet}.${100 + i}`);
    for (const ip of sources.slice(1)) await client.exec(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    const server: ChildProcess = backend.spawn([process.execPath, join(dir, 'server.mjs'), 'web']);
    const direct = backend.ip;
    for (let i = 0; ; i++) {
      if ((await client.exec(['busybox', 'wget', '-qO-', `http://${direct}/`], { timeoutMs: 2000 })).code === 0) break;
      if (i > 100 || server.exitCode !== null) throw new Error('bench backend did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const clusterIP = `10.43.${octet}.10`;
    await lab.route([`${clusterIP}/32`, 'dev', br.name]);
    const cfg: RuleConfig = { chainPrefix: prefix, clusterCIDR: '10.42.0.0/16', masqueradeAll: false, masqueradeBit: 14, nodePortAddresses: [br.address], localhostNodePorts: false };
    const syncer = new RuleSyncer(cfg);
    await syncer.sync([{
      port: { name: 'bench/web:http', namespace: 'bench', service: 'web', portName: 'http', protocol: 'TCP', clusterIP, port: 80, externalIPs: [], externalPolicyLocal: false, internalPolicyLocal: false },
      endpoints: [{ ip: backend.ip, port: 80, ready: true, serving: true, terminating: false, isLocal: true }],
    }], { full: true });
    const viaService = clusterIP;
    if ((await client.fetch(`http://${viaService}/`)).trim() !== 'web') throw new Error('the ClusterIP does not answer');

    const load = async (host: string) => {
      const r = await client.exec([process.execPath, join(dir, 'loadgen.mjs'), host, String(seconds), String(concurrency), sources.join(','), 'web'], { timeoutMs: seconds * 1000 + 30_000 });
      if (r.code !== 0) throw new Error(`load generator: ${r.stderr}`);
      return JSON.parse(r.stdout) as { ok: number; failed: number };
    };
    // Warm-up (not counted): the server's and load generator's JIT, ARP, routes.
    await load(direct);
    await load(viaService);
    const runs = { direct: [] as number[], service: [] as number[], failed: 0 };
    // ABBA order (direct, service, service, direct, …): a drifting machine load hits both alike.
    for (let i = 0; i < runCount; i++) {
      const which = (i % 4 === 0 || i % 4 === 3) ? 'direct' : 'service';
      const r = await load(which === 'direct' ? direct : viaService);
      runs[which].push(round(r.ok / seconds));
      runs.failed += r.failed;
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const directRps = mean(runs.direct);
    const serviceRps = mean(runs.service);
    return {
      directRps: round(directRps), clusterIPRps: round(serviceRps), ratio: round(serviceRps / directRps, 3), failedRequests: runs.failed,
      directRuns: runs.direct, clusterIPRuns: runs.service, secondsPerRun: seconds, concurrency, newConnectionPerRequest: true,
    };
  } finally {
    abort.abort();
    await cleanupProxyRules(prefix).catch(() => {});
    await lab.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      services: { type: 'string', default: '1000,5000' },
      endpoints: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '3' },
      runs: { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '4' },
    },
  });
  if (process.getuid?.() !== 0) throw new Error('the proxy bench needs root (iptables, network namespaces)');
  const prefix = `KB${(process.pid % 100_000).toString(36).toUpperCase()}`;
  const lab = new NetLab('pbench');
  // Interrupted (Ctrl-C, a timeout): nothing of ours may stay behind.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void Promise.allSettled([cleanupProxyRules(prefix), lab.cleanup()]).then(() => process.exit(130));
    });
  }
  await cleanupProxyRules(prefix);
  // Traffic first: right after tens of thousands of chains came and went the kernel is still busy freeing them.
  const traffic = await trafficBench(Number(values.seconds), Math.max(2, Number(values.runs)), Number(values.concurrency), prefix, lab);
  const sync = [];
  for (const n of values.services!.split(',').map(Number)) sync.push(await syncBench(n, Number(values.endpoints), prefix));
  const iptables = (await run(['iptables', '--version'])).stdout.trim();
  console.log(JSON.stringify({
    bench: 'proxy', sync, traffic,
    conditions: { iptables, cpus: cpus().length, cpuModel: cpus()[0]?.model, note: 'sync: rule syncer alone, no jumps from built-in chains; traffic: netns on a test bridge, Node server and load generator' },
  }));
}

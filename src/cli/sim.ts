import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { Client, loadKubeconfig } from '../client/index.js';
import { connectionFromToken } from '../sim/connect.js';
import { startHollowNodes, type HollowCluster } from '../sim/hollow-cluster.js';
import { parseDuration, parseLabels, parseTaints } from '../sim/node-spec.js';

export const SIM_USAGE = `Usage: bosun sim --server URL --token TOKEN --nodes N [flags]
       bosun sim --kubeconfig PATH --nodes N [flags]

Hollow nodes: N fake nodes and a fake kubelet (as KWOK). Pods bound to them
turn Running with an IP from the node's pod CIDR; no container runs.

  --server URL              https://host:port of a bosun server
  --token TOKEN             the K10<ca-sha256>::server:<secret> join token ($BOSUN_TOKEN);
                            the server's CA is checked against the hash before the token is sent
  --kubeconfig PATH         connect with a kubeconfig instead
  --nodes N                 how many nodes (required)
  --cpu Q                   default 32
  --memory Q                default 256Gi
  --pods N                  default 110
  --ephemeral-storage Q     default 100Gi
  --labels k=v,...          extra node labels
  --taints k=v:Effect,...   node taints
  --name-prefix P           default hollow-  (nodes P0, P1, …)
  --start-index I           first node index, default 0 (several simulators, one cluster)
  --zones Z                 topology.kubernetes.io/zone zone-a… round-robin, default 3
  --cluster-cidr CIDR       pod CIDRs (a /24 a node) when the server assigns none;
                            default 10.42.0.0/16, or 10.128.0.0/9 beyond 256 nodes
  --pod-start-delay D       a bound pod stays Pending this long, default 100ms
  --max-deletion-grace D    remove deleted pods after min(grace period, D), e.g. 1s
  --concurrency N           requests in flight at most, default 32
  --control-file PATH       on SIGUSR1 the file is read: the node names in it (one a
                            line, # comments) stop heartbeating; every other node resumes
  --stats-interval D        a stats line this often, default 60s; 0 for none
  --delete-nodes-on-exit    delete the nodes and their Leases on SIGINT/SIGTERM
  --nodes-only              no fake kubelet: pods bound to the nodes stay Pending
  --disable-kubelet-api     no kubelet API: by default one HTTPS endpoint on 127.0.0.1
                            serves /stats/summary for every node (synthetic usage from
                            pod annotations sim.bosun.io/cpu-usage, sim.bosun.io/memory-usage)
                            to the API server's kubelet client certificate, for kubectl top
`;

function positiveInt(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid ${flag}: ${v}`);
  return n;
}

function duration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = v === '0' ? 0 : parseDuration(v);
  if (ms === undefined) throw new Error(`invalid ${flag}: ${v} (want e.g. 500ms, 2s, 1m)`);
  return ms;
}

/** Names listed in a control file: one a line, blank lines and `#` comments ignored. */
export function parseControlFile(text: string): Set<string> {
  return new Set(text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean));
}

export async function sim(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string', short: 's' },
      token: { type: 'string', short: 't' },
      kubeconfig: { type: 'string' },
      nodes: { type: 'string', short: 'n' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      pods: { type: 'string' },
      'ephemeral-storage': { type: 'string' },
      labels: { type: 'string' },
      taints: { type: 'string' },
      'name-prefix': { type: 'string' },
      'start-index': { type: 'string' },
      zones: { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'pod-start-delay': { type: 'string' },
      'max-deletion-grace': { type: 'string' },
      concurrency: { type: 'string' },
      'control-file': { type: 'string' },
      'stats-interval': { type: 'string' },
      'delete-nodes-on-exit': { type: 'boolean' },
      'nodes-only': { type: 'boolean' },
      'disable-kubelet-api': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) { process.stdout.write(SIM_USAGE); return; }
  if (values.nodes === undefined) throw new Error(`--nodes is required\n\n${SIM_USAGE}`);
  const count = positiveInt('--nodes', values.nodes, 0);
  const token = values.token ?? process.env.BOSUN_TOKEN;

  let client: Client;
  /** The cluster CA, which the hollow kubelet API checks the API server's client certificate against. */
  let clusterCA: string | undefined;
  if (values.kubeconfig) {
    client = await Client.fromKubeconfig(values.kubeconfig, { qps: 0, userAgent: 'bosun-sim' });
    clusterCA = (await loadKubeconfig(values.kubeconfig)).ca;
    console.log(`sim: connecting to ${client.server} with ${values.kubeconfig}`);
  } else {
    if (!values.server || !token) throw new Error(`--server and --token (or --kubeconfig) are required\n\n${SIM_USAGE}`);
    const conn = await connectionFromToken(values.server, token);
    client = new Client({ ...conn, qps: 0, userAgent: 'bosun-sim', discoverServers: true });
    clusterCA = conn.ca;
    console.log(`sim: connecting to ${client.server} (server CA matches the token's hash)`);
  }

  if (!clusterCA && !values['disable-kubelet-api']) console.error('sim: the connection names no cluster CA: no kubelet API, so no metrics for these nodes');
  const started = Date.now();
  const step = Math.max(1, Math.ceil(count / 10));
  console.log(`sim: registering ${count} hollow nodes`);
  let cluster: HollowCluster;
  try {
    cluster = await startHollowNodes({
      client, count,
      namePrefix: values['name-prefix'],
      startIndex: positiveInt('--start-index', values['start-index'], 0),
      cpu: values.cpu, memory: values.memory, ephemeralStorage: values['ephemeral-storage'],
      pods: values.pods === undefined ? undefined : positiveInt('--pods', values.pods, 110),
      labels: parseLabels(values.labels), taints: parseTaints(values.taints),
      zones: values.zones === undefined ? undefined : positiveInt('--zones', values.zones, 3),
      clusterCidr: values['cluster-cidr'],
      podStartDelayMs: duration('--pod-start-delay', values['pod-start-delay']),
      maxDeletionGraceMs: duration('--max-deletion-grace', values['max-deletion-grace']),
      kubelet: !values['nodes-only'],
      kubeletApiClientCA: values['disable-kubelet-api'] ? undefined : clusterCA,
      concurrency: values.concurrency === undefined ? undefined : positiveInt('--concurrency', values.concurrency, 32),
      log: (m) => console.error(`sim: ${m}`),
      onRegistered: (done, total) => { if (done % step === 0 && done < total) console.log(`sim: registered ${done}/${total} nodes`); },
    });
  } catch (err) {
    client.close();
    throw err;
  }
  console.log(`sim: ${count} nodes registered in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  const controlFile = values['control-file'];
  const onControl = () => {
    if (!controlFile) { console.error('sim: SIGUSR1 without --control-file: nothing to do'); return; }
    readFile(controlFile, 'utf8').catch(() => '').then((text) => {
      const down = parseControlFile(text);
      const stopped: string[] = [];
      const resumed: string[] = [];
      for (const name of cluster.nodeNames) {
        const beating = cluster.isHeartbeating(name);
        if (down.has(name) && beating) { cluster.stopHeartbeat(name); stopped.push(name); }
        if (!down.has(name) && !beating) { cluster.resumeHeartbeat(name); resumed.push(name); }
      }
      console.log(`sim: control: heartbeat stopped for [${stopped.join(' ')}], resumed for [${resumed.join(' ')}]`);
    }, (err: unknown) => console.error(`sim: control file: ${String(err)}`));
  };
  process.on('SIGUSR1', onControl);

  const statsEvery = duration('--stats-interval', values['stats-interval']) ?? 60_000;
  let last = { ...cluster.stats, at: Date.now() };
  const statsTimer = statsEvery > 0 ? setInterval(() => {
    const s = cluster.stats;
    const secs = (Date.now() - last.at) / 1000;
    const rate = (s.leaseRenewals - last.leaseRenewals + s.nodeStatusUpdates - last.nodeStatusUpdates) / secs;
    console.log(`sim: stats: ${rate.toFixed(1)} heartbeat writes/s, ${s.podStatusWrites} pod status writes, ${s.podDeletions} pod deletions, ${s.errors} errors, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
    last = { ...s, at: Date.now() };
  }, statsEvery) : undefined;

  console.log(`sim: running: pod informer synced; ${controlFile ? `SIGUSR1 re-reads ${controlFile}; ` : ''}SIGINT/SIGTERM stop`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`sim: ${signal}: stopping${values['delete-nodes-on-exit'] ? ' and deleting the nodes' : ''}`);
      clearInterval(statsTimer);
      process.off('SIGUSR1', onControl);
      cluster.stop({ deleteNodes: values['delete-nodes-on-exit'] ?? false })
        .catch((err: unknown) => console.error(`sim: stop: ${String(err)}`))
        .finally(() => { client.close(); console.log('sim: stopped'); resolve(); });
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
}

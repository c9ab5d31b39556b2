import { parseArgs } from 'node:util';
import { parseLabelFlags } from './agent.js';
import { BosunServer, defaultDataDir } from '../server/server.js';
import { pidFileOf } from '../server/data-dir.js';
import { claimPidFile } from '../util/pid-file.js';

export const SERVER_USAGE = `Server flags (k3s names):
  --data-dir DIR              default /var/lib/bosun as root, else ~/.bosun
  --https-listen-port PORT    default 6443
  --bind-address ADDR         default 127.0.0.1
  --tls-san NAME              extra SAN for the serving certificate (repeatable)
  --datastore-endpoint URLS   empty: SQLite in the data dir; http://h:2379,...: etcd
  --token TOKEN               the cluster's join token secret
  --disable-agent             run the control plane only (no kubelet, proxy, DNS on this machine)
  --disable-registry          no image registry on 127.0.0.1:5000
  --node-name NAME            the embedded agent's node name (host name)
  --node-ip ADDR              the embedded agent's node address (the bind address)
  --node-label k=v            repeatable    --node-taint k=v:Effect   repeatable
  --cluster-cidr CIDR         pod addresses, a /24 per node (10.42.0.0/16)
  --cluster-dns IP            the kube-dns Service address (10.43.0.10)
  --cluster-domain DOMAIN     (cluster.local)
  --disable-scheduler         do not run the scheduler in this server
  --disable-controller-manager  do not run the controllers in this server
  --scheduler-config FILE     a KubeSchedulerConfiguration (profiles, plugins, weights)
  --default-not-ready-toleration-seconds N    (300) added to pods without a not-ready NoExecute toleration
  --default-unreachable-toleration-seconds N  (300) added to pods without an unreachable NoExecute toleration
  --node-monitor-grace-period 40s  a node silent this long turns Ready=Unknown and is tainted
  --metric-resolution 15s     how often the built-in metrics-server scrapes kubelets' /stats/summary
  --kubelet-insecure-tls      do not verify kubelets' serving certificates when scraping
  --horizontal-pod-autoscaler-sync-period 15s, --horizontal-pod-autoscaler-downscale-stabilization 5m,
  --horizontal-pod-autoscaler-tolerance 0.1, --horizontal-pod-autoscaler-cpu-initialization-period 5m,
  --horizontal-pod-autoscaler-initial-readiness-delay 30s   the HPA controller (upstream's defaults)
  --service-cidr CIDR         Service cluster IPs (10.43.0.0/16)
  --service-node-port-range A-B  NodePorts (30000-32767)
  --leader-elect-lease-duration 15s, --leader-elect-renew-deadline 10s, --leader-elect-retry-period 2s
                              scheduler and controller-manager leader election (upstream's defaults)
HA with embedded etcd (k3s' flags):
  --cluster-init              start a new etcd cluster with this server's member (data in <data-dir>/server/db/etcd)
  --server URL                join the cluster of that server (needs --token, the full K10… token)
  --etcd-client-port PORT     (2379) and --etcd-peer-port PORT (2380), bound to --bind-address
  --cluster-reset             make this member a one-member cluster, keeping its data
  --cluster-reset-restore-path FILE  rebuild etcd from a snapshot (with --cluster-reset)
  --etcd-disable-snapshots    no periodic snapshots
  --etcd-snapshot-schedule-cron CRON  ("0 */12 * * *") when to snapshot
  --etcd-snapshot-interval DURATION   snapshot every DURATION instead (e.g. 30s, 10m)
  --etcd-snapshot-dir DIR     (<data-dir>/server/db/snapshots)
  --etcd-snapshot-retention N (5) periodic snapshots kept
`;

/** A duration flag: `15s`, `500ms`, `2m`, `1h`, or bare seconds. */
function durationMs(value: string | undefined, fallbackMs: number, flag: string): number {
  if (value === undefined) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new Error(`invalid ${flag}: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

/** `--horizontal-pod-autoscaler-tolerance`: a fraction, 0.1 by default. */
function tolerance(value: string | undefined): number {
  if (value === undefined) return 0.1;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`invalid --horizontal-pod-autoscaler-tolerance: ${value}`);
  return n;
}

function portFlag(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid ${flag}: ${value}`);
  return n;
}

/** A whole number of seconds from a flag (`300` or `300s`). */
function seconds(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/s$/, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid ${flag}: ${value}`);
  return n;
}

export async function server(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string', short: 'd' },
      'https-listen-port': { type: 'string' },
      'bind-address': { type: 'string' },
      'tls-san': { type: 'string', multiple: true },
      'datastore-endpoint': { type: 'string' },
      token: { type: 'string', short: 't' },
      'disable-agent': { type: 'boolean' },
      'disable-registry': { type: 'boolean' },
      'node-name': { type: 'string' },
      'node-ip': { type: 'string' },
      'node-label': { type: 'string', multiple: true },
      'node-taint': { type: 'string', multiple: true },
      'cluster-cidr': { type: 'string' },
      'cluster-dns': { type: 'string' },
      'cluster-domain': { type: 'string' },
      'disable-scheduler': { type: 'boolean' },
      'disable-controller-manager': { type: 'boolean' },
      'scheduler-config': { type: 'string' },
      'default-not-ready-toleration-seconds': { type: 'string' },
      'default-unreachable-toleration-seconds': { type: 'string' },
      'node-monitor-grace-period': { type: 'string' },
      'service-cidr': { type: 'string' },
      'metric-resolution': { type: 'string' },
      'kubelet-insecure-tls': { type: 'boolean' },
      'horizontal-pod-autoscaler-sync-period': { type: 'string' },
      'horizontal-pod-autoscaler-downscale-stabilization': { type: 'string' },
      'horizontal-pod-autoscaler-tolerance': { type: 'string' },
      'horizontal-pod-autoscaler-cpu-initialization-period': { type: 'string' },
      'horizontal-pod-autoscaler-initial-readiness-delay': { type: 'string' },
      'service-node-port-range': { type: 'string' },
      'leader-elect-lease-duration': { type: 'string' },
      'leader-elect-renew-deadline': { type: 'string' },
      'leader-elect-retry-period': { type: 'string' },
      'cluster-init': { type: 'boolean' },
      server: { type: 'string', short: 's' },
      'etcd-client-port': { type: 'string' },
      'etcd-peer-port': { type: 'string' },
      'cluster-reset': { type: 'boolean' },
      'cluster-reset-restore-path': { type: 'string' },
      'etcd-disable-snapshots': { type: 'boolean' },
      'etcd-snapshot-schedule-cron': { type: 'string' },
      'etcd-snapshot-interval': { type: 'string' },
      'etcd-snapshot-dir': { type: 'string' },
      'etcd-snapshot-retention': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values['https-listen-port'] ?? 6443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --https-listen-port: ${values['https-listen-port']}`);
  const leaderElection = {
    leaseDurationMs: durationMs(values['leader-elect-lease-duration'], 15_000, '--leader-elect-lease-duration'),
    renewDeadlineMs: durationMs(values['leader-elect-renew-deadline'], 10_000, '--leader-elect-renew-deadline'),
    retryPeriodMs: durationMs(values['leader-elect-retry-period'], 2_000, '--leader-elect-retry-period'),
  };
  if (!(leaderElection.leaseDurationMs > leaderElection.renewDeadlineMs && leaderElection.renewDeadlineMs > leaderElection.retryPeriodMs)) {
    throw new Error('leader election wants lease duration > renew deadline > retry period');
  }
  if (values['cluster-reset-restore-path'] && !values['cluster-reset']) throw new Error('--cluster-reset-restore-path needs --cluster-reset');
  const retention = values['etcd-snapshot-retention'] === undefined ? 5 : Number(values['etcd-snapshot-retention']);
  if (!Number.isInteger(retention) || retention < 1) throw new Error(`invalid --etcd-snapshot-retention: ${values['etcd-snapshot-retention']}`);
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const bosun = new BosunServer({
    leaderElection,
    clusterInit: values['cluster-init'] ?? false,
    server: values.server,
    etcdClientPort: portFlag(values['etcd-client-port'], 2379, '--etcd-client-port'),
    etcdPeerPort: portFlag(values['etcd-peer-port'], 2380, '--etcd-peer-port'),
    clusterReset: values['cluster-reset'] ?? false,
    clusterResetRestorePath: values['cluster-reset-restore-path'],
    etcdSnapshots: {
      disabled: values['etcd-disable-snapshots'] ?? false,
      cron: values['etcd-snapshot-schedule-cron'],
      intervalMs: values['etcd-snapshot-interval'] === undefined ? undefined : durationMs(values['etcd-snapshot-interval'], 0, '--etcd-snapshot-interval'),
      dir: values['etcd-snapshot-dir'],
      retention,
    },
    dataDir,
    bindAddress: values['bind-address'] ?? '127.0.0.1',
    httpsListenPort: port,
    tlsSans: values['tls-san'] ?? [],
    datastoreEndpoint: values['datastore-endpoint'] ?? '',
    token: values.token ?? process.env.BOSUN_TOKEN,
    disableAgent: values['disable-agent'] ?? false,
    disableRegistry: values['disable-registry'] ?? false,
    nodeName: values['node-name'],
    nodeIp: values['node-ip'],
    nodeLabels: parseLabelFlags(values['node-label']),
    nodeTaints: values['node-taint'],
    clusterCidr: values['cluster-cidr'],
    clusterDns: values['cluster-dns'],
    clusterDomain: values['cluster-domain'],
    disableScheduler: values['disable-scheduler'] ?? false,
    disableControllerManager: values['disable-controller-manager'] ?? false,
    schedulerConfigPath: values['scheduler-config'],
    serviceCidr: values['service-cidr'],
    serviceNodePortRange: values['service-node-port-range'],
    metricResolutionMs: durationMs(values['metric-resolution'], 15_000, '--metric-resolution'),
    kubeletInsecureTLS: values['kubelet-insecure-tls'] ?? false,
    horizontalPodAutoscaler: {
      syncPeriodMs: durationMs(values['horizontal-pod-autoscaler-sync-period'], 15_000, '--horizontal-pod-autoscaler-sync-period'),
      downscaleStabilizationMs: durationMs(values['horizontal-pod-autoscaler-downscale-stabilization'], 300_000, '--horizontal-pod-autoscaler-downscale-stabilization'),
      tolerance: tolerance(values['horizontal-pod-autoscaler-tolerance']),
      cpuInitializationPeriodMs: durationMs(values['horizontal-pod-autoscaler-cpu-initialization-period'], 300_000, '--horizontal-pod-autoscaler-cpu-initialization-period'),
      initialReadinessDelayMs: durationMs(values['horizontal-pod-autoscaler-initial-readiness-delay'], 30_000, '--horizontal-pod-autoscaler-initial-readiness-delay'),
    },
    nodeMonitorGracePeriodMs: values['node-monitor-grace-period'] === undefined ? undefined
      : seconds(values['node-monitor-grace-period'], 40, '--node-monitor-grace-period') * 1000,
    defaultTolerationSeconds: {
      notReadySeconds: seconds(values['default-not-ready-toleration-seconds'], 300, '--default-not-ready-toleration-seconds'),
      unreachableSeconds: seconds(values['default-unreachable-toleration-seconds'], 300, '--default-unreachable-toleration-seconds'),
    },
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`bosun: ${signal}: shutting down`);
    bosun.stop().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  claimPidFile(pidFileOf(dataDir, 'server'));
  await bosun.start();
}


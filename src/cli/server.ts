import { parseArgs } from 'node:util';
import { BosunServer, defaultDataDir } from '../server/server.js';

export const SERVER_USAGE = `Server flags (k3s names):
  --data-dir DIR              default /var/lib/bosun as root, else ~/.bosun
  --https-listen-port PORT    default 6443
  --bind-address ADDR         default 127.0.0.1
  --tls-san NAME              extra SAN for the serving certificate (repeatable)
  --datastore-endpoint URLS   empty: SQLite in the data dir; http://h:2379,...: etcd
  --token TOKEN               the cluster's join token secret
  --disable-agent             run the control plane only
  --disable-scheduler         do not run the scheduler in this server
  --disable-controller-manager  do not run the controllers in this server
  --scheduler-config FILE     a KubeSchedulerConfiguration (profiles, plugins, weights)
  --default-not-ready-toleration-seconds N    (300) added to pods without a not-ready NoExecute toleration
  --default-unreachable-toleration-seconds N  (300) added to pods without an unreachable NoExecute toleration
  --node-monitor-grace-period 40s  a node silent this long turns Ready=Unknown and is tainted
  --service-cidr CIDR         Service cluster IPs (10.43.0.0/16)
  --service-node-port-range A-B  NodePorts (30000-32767)
`;

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
      'disable-scheduler': { type: 'boolean' },
      'disable-controller-manager': { type: 'boolean' },
      'scheduler-config': { type: 'string' },
      'default-not-ready-toleration-seconds': { type: 'string' },
      'default-unreachable-toleration-seconds': { type: 'string' },
      'node-monitor-grace-period': { type: 'string' },
      'service-cidr': { type: 'string' },
      'service-node-port-range': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values['https-listen-port'] ?? 6443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --https-listen-port: ${values['https-listen-port']}`);
  const bosun = new BosunServer({
    dataDir: values['data-dir'] ?? defaultDataDir(),
    bindAddress: values['bind-address'] ?? '127.0.0.1',
    httpsListenPort: port,
    tlsSans: values['tls-san'] ?? [],
    datastoreEndpoint: values['datastore-endpoint'] ?? '',
    token: values.token ?? process.env.BOSUN_TOKEN,
    disableAgent: values['disable-agent'] ?? false,
    disableScheduler: values['disable-scheduler'] ?? false,
    disableControllerManager: values['disable-controller-manager'] ?? false,
    schedulerConfigPath: values['scheduler-config'],
    serviceCidr: values['service-cidr'],
    serviceNodePortRange: values['service-node-port-range'],
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
  await bosun.start();
}


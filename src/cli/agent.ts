import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { defaultDataDir, pidFileOf } from '../server/data-dir.js';
import { claimPidFile } from '../util/pid-file.js';

export const AGENT_USAGE = `Usage: bosun agent --server https://HOST:6443 --token TOKEN [flags]

  --server URL                      a server of the cluster (K3S_URL-style)
  --token TOKEN                     join token: <data-dir>/server/token of a server, or \`bosun token create\`
  --data-dir DIR                    default /var/lib/bosun as root, else ~/.bosun
  --node-name NAME                  default: the host name
  --node-ip ADDR                    the node's address (default 127.0.0.1)
  --node-label k=v                  repeatable
  --node-taint k=v:Effect           repeatable
  --container-runtime-endpoint URL  an existing CRI socket instead of the agent's own containerd
  --bridge NAME                     pod bridge (bosun0)
  --cluster-cidr CIDR               all pods (10.42.0.0/16)   --service-cidr CIDR   (10.43.0.0/16)
  --cluster-dns IP                  (10.43.0.10)              --cluster-domain D    (cluster.local)
  --kubelet-port PORT               kubelet API (10250)
  --disable-proxy / --disable-dns   do not run the Service proxy / the node-local cluster DNS
  --proxy-chain-prefix P            the proxy's iptables chain prefix (KUBE), for several agents on one machine
`;

/** `k=v` pairs into a label map. */
export function parseLabelFlags(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new Error(`invalid --node-label ${JSON.stringify(v)}: want key=value`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export async function agent(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      server: { type: 'string', short: 's' }, token: { type: 'string', short: 't' }, 'data-dir': { type: 'string', short: 'd' },
      'node-name': { type: 'string' }, 'node-ip': { type: 'string' }, 'node-label': { type: 'string', multiple: true },
      'node-taint': { type: 'string', multiple: true }, 'container-runtime-endpoint': { type: 'string' }, bridge: { type: 'string' },
      'cluster-cidr': { type: 'string' }, 'service-cidr': { type: 'string' }, 'cluster-dns': { type: 'string' },
      'cluster-domain': { type: 'string' }, 'kubelet-port': { type: 'string' },
      'disable-proxy': { type: 'boolean' }, 'disable-dns': { type: 'boolean' }, 'proxy-chain-prefix': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { process.stdout.write(AGENT_USAGE); return; }
  const server = values.server ?? process.env.BOSUN_URL;
  const token = values.token ?? process.env.BOSUN_TOKEN;
  if (!server || !token) throw new Error(`--server and --token are required\n\n${AGENT_USAGE}`);
  const { Agent } = await import('../agent/agent.js');
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const a = new Agent({
    server, token,
    dataDir,
    nodeName: (values['node-name'] ?? hostname()).toLowerCase(),
    nodeIP: values['node-ip'] ?? '127.0.0.1',
    nodeLabels: parseLabelFlags(values['node-label']),
    nodeTaints: values['node-taint'],
    containerRuntimeEndpoint: values['container-runtime-endpoint'],
    bridge: values.bridge,
    clusterCidr: values['cluster-cidr'], serviceCidr: values['service-cidr'],
    clusterDns: values['cluster-dns'], clusterDomain: values['cluster-domain'],
    kubeletPort: values['kubelet-port'] === undefined ? undefined : Number(values['kubelet-port']),
    disableProxy: values['disable-proxy'], disableDns: values['disable-dns'], proxyChainPrefix: values['proxy-chain-prefix'],
    log: (m) => console.log(`bosun-agent: ${m}`),
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`bosun-agent: ${signal}: stopping (pods keep running)`);
    a.stop().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  claimPidFile(pidFileOf(dataDir, 'agent'));
  await a.start();
}

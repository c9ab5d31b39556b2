import { parseArgs } from 'node:util';
import { defaultDataDir } from '../server/data-dir.js';

export const KILLALL_USAGE = `Usage:
  bosun killall [--data-dir DIR] [--bridge bosun0] [--cluster-cidr 10.42.0.0/16] [--service-cidr 10.43.0.0/16] [--proxy-chain-prefix KUBE]
                 stop every pod of this machine's agent and remove its network (images stay)
  bosun uninstall [--data-dir DIR]   killall, then delete the data dir (the cluster's state on this machine)
A \`bosun server\` or \`bosun agent\` running on the data dir is stopped first.
`;

/** `bosun killall` and `bosun uninstall`, as k3s-killall.sh and k3s-uninstall.sh. */
export async function killall(argv: string[], removeData: boolean): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      'data-dir': { type: 'string', short: 'd' }, bridge: { type: 'string' }, 'cluster-cidr': { type: 'string' }, 'service-cidr': { type: 'string' },
      'proxy-chain-prefix': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { process.stdout.write(KILLALL_USAGE); return; }
  if (process.getuid?.() !== 0) throw new Error('must run as root');
  const { killAll } = await import('../agent/uninstall.js');
  await killAll({
    dataDir: values['data-dir'] ?? defaultDataDir(), bridge: values.bridge, clusterCidr: values['cluster-cidr'], serviceCidr: values['service-cidr'],
    proxyChainPrefix: values['proxy-chain-prefix'], removeData, log: (m) => console.log(`bosun: ${m}`),
  });
}

import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { defaultDataDir } from '../server/data-dir.js';
import { SERVER_LIST_FILE } from '../server/server-list.js';

/** True when something accepts connections at the URL's host and port within `timeoutMs`. */
function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The server kubectl should talk to: the kubeconfig's, or — when it is down —
 * the first live one of the cluster's server list this machine's server keeps
 * (all servers share the CA, and each certificate names its own address).
 */
export async function liveServer(kubeconfigPath: string, dataDir: string): Promise<string | undefined> {
  let configured: string;
  try { configured = (await loadKubeconfig(kubeconfigPath)).server; } catch { return undefined; }
  if (await reachable(configured)) return undefined;
  const listPath = join(dataDir, 'server', SERVER_LIST_FILE);
  if (!existsSync(listPath)) return undefined;
  for (const server of readFileSync(listPath, 'utf8').split('\n').filter(Boolean)) {
    if (server !== configured && await reachable(server)) return server;
  }
  return undefined;
}

/** `bosun kubectl`: the machine's kubectl with this server's kubeconfig, unless one is given; another server if this one is down. */
export async function kubectl(argv: string[]): Promise<void> {
  const dataDir = process.env.BOSUN_DATA_DIR ?? defaultDataDir();
  const env = { ...process.env };
  let args = argv;
  if (!argv.some((a) => a === '--kubeconfig' || a.startsWith('--kubeconfig=') || a === '--server' || a.startsWith('--server=') || a === '-s')) {
    const kubeconfig = join(dataDir, 'kubeconfig.yaml');
    env.KUBECONFIG = kubeconfig;
    const other = await liveServer(kubeconfig, dataDir);
    if (other) {
      process.stderr.write(`bosun kubectl: ${other} (this machine's server does not answer)\n`);
      args = [`--server=${other}`, ...argv];
    }
  }
  const child = spawn(process.env.KUBECTL ?? 'kubectl', args, { stdio: 'inherit', env });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  child.on('error', (err) => { console.error(`bosun kubectl: ${err.message}`); process.exit(127); });
}

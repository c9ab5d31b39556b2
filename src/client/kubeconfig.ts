import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** How to reach and authenticate to one API server. */
export interface ConnectionConfig {
  /** `https://host:port`, optionally with a path prefix. */
  server: string;
  /** PEM of the CA that signed the serving certificate. */
  ca?: string;
  /** PEM client certificate and key (mutual TLS). */
  cert?: string;
  key?: string;
  /** Bearer token, sent when no client certificate is used (or besides it). */
  token?: string;
  insecureSkipTLSVerify?: boolean;
  /** Server name to verify the certificate against, when it differs from the URL's host. */
  tlsServerName?: string;
  /** The context's namespace, used when a call names none. */
  namespace?: string;
  /** More API servers of the same cluster (HA): tried in turn when `server` cannot be reached. */
  servers?: string[];
  /**
   * Keep the server list from the `kubernetes` Endpoints (every API server
   * writes its address there), refreshed every 30 s, and fail over to a live
   * one on connection errors. On for clients made from a kubeconfig.
   */
  discoverServers?: boolean;
}

export interface KubeconfigOptions {
  /** A context other than `current-context`. */
  context?: string;
}

/** `$KUBECONFIG`'s first entry, else `~/.kube/config`, as kubectl looks. */
export function defaultKubeconfigPath(): string {
  const fromEnv = process.env.KUBECONFIG?.split(':').find((p) => p.trim() !== '');
  return fromEnv ?? join(homedir(), '.kube', 'config');
}

/** Reads a kubeconfig file; paths inside it are relative to the file, as kubectl resolves them. */
export async function loadKubeconfig(path = defaultKubeconfigPath(), opts: KubeconfigOptions = {}): Promise<ConnectionConfig> {
  const text = await readFile(path, 'utf8');
  return parseKubeconfig(text, dirname(resolve(path)), opts);
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function named(doc: Rec, list: string, item: string, name: string): Rec {
  const entries = Array.isArray(doc[list]) ? doc[list] as unknown[] : [];
  const found = entries.find((e) => isRec(e) && e.name === name);
  if (!isRec(found)) throw new Error(`kubeconfig: no ${item} named "${name}"`);
  const body = found[item];
  return isRec(body) ? body : {};
}

/** Parses kubeconfig YAML: the chosen context's cluster and user. */
export function parseKubeconfig(text: string, baseDir = '.', opts: KubeconfigOptions = {}): ConnectionConfig {
  const doc: unknown = parseYaml(text);
  if (!isRec(doc)) throw new Error('kubeconfig: not a YAML mapping');
  const contextName = opts.context ?? str(doc['current-context']);
  if (!contextName) throw new Error('kubeconfig: no current-context and no context given');
  const context = named(doc, 'contexts', 'context', contextName);
  const clusterName = str(context.cluster);
  if (!clusterName) throw new Error(`kubeconfig: context "${contextName}" names no cluster`);
  const cluster = named(doc, 'clusters', 'cluster', clusterName);
  const userName = str(context.user);
  const user = userName ? named(doc, 'users', 'user', userName) : {};

  const server = str(cluster.server);
  if (!server) throw new Error(`kubeconfig: cluster "${clusterName}" has no server`);
  const file = (p: string) => readFileSync(isAbsolute(p) ? p : join(baseDir, p), 'utf8');
  const b64 = (v: string) => Buffer.from(v, 'base64').toString('utf8');
  const pem = (data: unknown, path: unknown): string | undefined => {
    const d = str(data);
    if (d) return b64(d);
    const p = str(path);
    return p ? file(p) : undefined;
  };
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new Error(`kubeconfig: user "${userName}" uses an exec or auth-provider plugin, which this client does not run`);
  }
  const tokenFile = str(user.tokenFile);

  return {
    server,
    ca: pem(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: pem(user['client-certificate-data'], user['client-certificate']),
    key: pem(user['client-key-data'], user['client-key']),
    token: str(user.token) ?? (tokenFile ? file(tokenFile).trim() : undefined),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster['tls-server-name']),
    namespace: str(context.namespace),
    discoverServers: process.env.BOSUN_DISCOVER_SERVERS !== '0',
  };
}

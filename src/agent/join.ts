import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type ConnectionConfig } from '../client/index.js';
import { connectionFromToken } from '../sim/connect.js';
import { NODE_CREDENTIALS_PATH, type NodeCredentials, type NodeCredentialsRequest } from '../server/node-credentials.js';
import { kubeconfigYaml } from '../server/kubeconfig.js';

export interface JoinOptions {
  server: string;
  token: string;
  nodeName: string;
  addresses: string[];
  /** Where the credentials are kept: `<data-dir>/agent`. */
  dir: string;
}

export interface JoinedNode {
  /** The node's own connection (CN=system:node:<name>). */
  connection: ConnectionConfig;
  credentials: NodeCredentials;
  kubeconfigPath: string;
}

const files = (dir: string) => ({
  ca: join(dir, 'server-ca.crt'),
  clientCert: join(dir, 'client-kubelet.crt'), clientKey: join(dir, 'client-kubelet.key'),
  servingCert: join(dir, 'serving-kubelet.crt'), servingKey: join(dir, 'serving-kubelet.key'),
  kubeconfig: join(dir, 'kubelet.kubeconfig'),
  request: join(dir, 'node-credentials.json'),
});

/**
 * The agent's join: check the server against the CA hash in the token
 * (connectionFromToken refuses a server whose CA does not match), then send
 * the token and get the node's certificates. Kept on disk, reused while the
 * node's name and addresses are unchanged, so a restart needs no token round trip.
 */
export async function joinCluster(opts: JoinOptions): Promise<JoinedNode> {
  const f = files(opts.dir);
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const wanted: NodeCredentialsRequest = { nodeName: opts.nodeName, addresses: [...opts.addresses].sort() };
  let credentials = await readStored(f, wanted);
  if (!credentials) {
    const bootstrap = await connectionFromToken(opts.server, opts.token);
    const client = new Client(bootstrap);
    try {
      credentials = await client.request({ method: 'POST', path: NODE_CREDENTIALS_PATH, json: wanted }) as NodeCredentials;
    } finally {
      client.close();
    }
    await writeFile(f.ca, credentials.caPem, { mode: 0o644 });
    await writeFile(f.clientCert, credentials.client.certPem, { mode: 0o644 });
    await writeFile(f.clientKey, credentials.client.keyPem, { mode: 0o600 });
    await writeFile(f.servingCert, credentials.serving.certPem, { mode: 0o644 });
    await writeFile(f.servingKey, credentials.serving.keyPem, { mode: 0o600 });
    await writeFile(f.request, JSON.stringify(wanted));
  }
  const server = new URL(opts.server).origin;
  await writeFile(f.kubeconfig, kubeconfigYaml({ server, caPem: credentials.caPem, clientCertPem: credentials.client.certPem, clientKeyPem: credentials.client.keyPem}), { mode: 0o600 });
  return {
    connection: { server, ca: credentials.caPem, cert: credentials.client.certPem, key: credentials.client.keyPem },
    credentials,
    kubeconfigPath: f.kubeconfig,
  };
}

async function readStored(f: ReturnType<typeof files>, wanted: NodeCredentialsRequest): Promise<NodeCredentials | undefined> {
  if (![f.ca, f.clientCert, f.clientKey, f.servingCert, f.servingKey, f.request].every(existsSync)) return undefined;
  if (await readFile(f.request, 'utf8') !== JSON.stringify(wanted)) return undefined;
  const [caPem, cc, ck, sc, sk] = await Promise.all([f.ca, f.clientCert, f.clientKey, f.servingCert, f.servingKey].map((p) => readFile(p, 'utf8')));
  return { caPem, client: { certPem: cc, keyPem: ck }, serving: { certPem: sc, keyPem: sk } };
}

import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '../server/pki.js';

/** Where an embedded etcd member's certificates live: `<data-dir>/server/tls/etcd/`. */
export interface EtcdTlsFiles {
  caFile: string;
  /** Serves the client port (and is also a client certificate, as etcd's gateway needs). */
  serverCertFile: string;
  serverKeyFile: string;
  /** Serves the peer port and authenticates this member to the others. */
  peerCertFile: string;
  peerKeyFile: string;
  /** The API server's (and `bosun etcd-snapshot`'s) client certificate. */
  clientCertFile: string;
  clientKeyFile: string;
}

export const etcdTlsDir = (dataDir: string): string => join(dataDir, 'server', 'tls', 'etcd');

export function etcdTlsFiles(dataDir: string): EtcdTlsFiles {
  const dir = etcdTlsDir(dataDir);
  return {
    caFile: join(dir, 'server-ca.crt'),
    serverCertFile: join(dir, 'server-client.crt'), serverKeyFile: join(dir, 'server-client.key'),
    peerCertFile: join(dir, 'peer-server-client.crt'), peerKeyFile: join(dir, 'peer-server-client.key'),
    clientCertFile: join(dir, 'client.crt'), clientKeyFile: join(dir, 'client.key'),
  };
}

/**
 * Issues this member's certificates from the cluster CA, as k3s does from its
 * etcd CA. Issued on every start: they carry the member's current address,
 * and every member trusts anything the shared CA signed.
 */
export async function issueEtcdCertificates(dataDir: string, caPem: string, authority: CertificateAuthority, address: string): Promise<EtcdTlsFiles> {
  const files = etcdTlsFiles(dataDir);
  await mkdir(etcdTlsDir(dataDir), { recursive: true, mode: 0o700 });
  const sans = [...new Set([address, '127.0.0.1', 'localhost', hostname()])].filter((s) => s !== '0.0.0.0' && s !== '::');
  const server = await authority.issueServing('etcd-server', sans, { clientAuth: true });
  const peer = await authority.issueServing('etcd-peer', sans, { clientAuth: true });
  const client = await authority.issueClient('etcd-client', ['system:masters']);
  const put = async (cert: string, key: string, pair: { certPem: string; keyPem: string }) => {
    await writeFile(cert, pair.certPem, { mode: 0o644 });
    await writeFile(key, pair.keyPem, { mode: 0o600 });
  };
  await writeFile(files.caFile, caPem, { mode: 0o644 });
  await put(files.serverCertFile, files.serverKeyFile, server);
  await put(files.peerCertFile, files.peerKeyFile, peer);
  await put(files.clientCertFile, files.clientKeyFile, client);
  return files;
}

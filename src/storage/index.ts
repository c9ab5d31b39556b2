import { join } from 'node:path';
import { openEtcdStore } from './etcd/etcd-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export * from './store.js';
export { EtcdStore, openEtcdStore, type EtcdStoreOptions } from './etcd/etcd-store.js';
export { SqliteStore, openSqliteStore, type SqliteStoreOptions, type SqliteCompactionOptions } from './sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  /** The server's data dir; SQLite lives at `<dataDir>/server/db/state.db`. */
  dataDir: string;
  /** `--datastore-endpoint`: empty for SQLite, or comma-separated etcd client
   *  URLs (`http://h1:2379,http://h2:2379`). */
  datastoreEndpoint?: string;
  /** Client TLS for https:// etcd endpoints (the embedded etcd's client certificate). */
  etcdCredentials?: { rootCertificate: Buffer; certChain?: Buffer; privateKey?: Buffer };
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const endpoint = options.datastoreEndpoint?.trim() ?? '';
  if (endpoint === '') {
    return openSqliteStore({ path: join(options.dataDir, 'server', 'db', 'state.db') });
  }
  const endpoints = endpoint
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const e of endpoints) {
    // k3s also accepts sqlite:// and mysql:// here; only etcd is supported.
    if (!/^https?:\/\//.test(e)) throw new Error(`unsupported datastore endpoint ${e}: expected http(s)://host:port`);
  }
  return openEtcdStore({ endpoints, credentials: options.etcdCredentials });
}

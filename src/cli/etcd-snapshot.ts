import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../server/data-dir.js';
import { etcdDataDir, readEtcdClientState } from '../server/embedded-etcd.js';
import { etcdAdminClient, listMembers, removeMember } from '../etcd/cluster.js';
import { peerUrl } from '../etcd/member.js';
import {
  defaultSnapshotDir, deleteSnapshots, listSnapshots, restoreEtcdSnapshot, restoreSqliteSnapshot,
  saveEtcdSnapshot, saveSqliteSnapshot, snapshotFileName,
} from '../etcd/snapshot.js';

export const ETCD_SNAPSHOT_USAGE = `Usage:
  bosun etcd-snapshot save [--name NAME] [--dir DIR]   snapshot the datastore now (etcd, or a copy of SQLite)
  bosun etcd-snapshot ls [--dir DIR]                    list snapshots
  bosun etcd-snapshot delete NAME...                    delete snapshots
  bosun etcd-snapshot restore FILE                      rebuild the datastore from FILE (server stopped);
                                                        then start the server again (etcd: a one-member cluster)
Common flags: --data-dir DIR (the server's), --bind-address, --etcd-peer-port (restore on a fresh machine)
Snapshots go to <data-dir>/server/db/snapshots unless --dir / --etcd-snapshot-dir says otherwise.
`;

const sqlitePath = (dataDir: string) => join(dataDir, 'server', 'db', 'state.db');

/** `bosun etcd-snapshot save|ls|delete|restore`, k3s' command, also for a SQLite server. */
export async function etcdSnapshot(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true,
    options: {
      'data-dir': { type: 'string', short: 'd' }, name: { type: 'string' }, dir: { type: 'string' },
      'etcd-snapshot-dir': { type: 'string' }, 'bind-address': { type: 'string' }, 'etcd-peer-port': { type: 'string' },
    },
  });
  const dataDir = values['data-dir'] ?? process.env.BOSUN_DATA_DIR ?? defaultDataDir();
  const state = await readEtcdClientState(dataDir);
  const dir = values.dir ?? values['etcd-snapshot-dir'] ?? state?.snapshotDir ?? defaultSnapshotDir(dataDir);
  switch (sub) {
    case 'save': {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, snapshotFileName(values.name ?? (state ? 'etcd-snapshot' : 'sqlite-snapshot'), state?.name ?? hostname()));
      if (state) {
        const client = etcdAdminClient(state.endpoints, state.tls);
        try { await saveEtcdSnapshot(client, file); } finally { client.close(); }
      } else {
        await saveSqliteSnapshot(sqlitePath(dataDir), file);
      }
      console.log(`Snapshot ${file.split('/').pop()} saved to ${file}`);
      return;
    }
    case 'ls': case 'list': {
      console.log(['Name', 'Location', 'Size', 'Created'].join('\t'));
      for (const s of await listSnapshots(dir)) console.log([s.name, `file://${s.path}`, s.size, s.created.toISOString()].join('\t'));
      return;
    }
    case 'delete': case 'rm': {
      if (!positionals.length) throw new Error('etcd-snapshot delete: name the snapshots to delete');
      await deleteSnapshots(dir, positionals);
      for (const n of positionals) console.log(`Removed snapshot ${n}`);
      return;
    }
    case 'restore': {
      const file = positionals[0];
      if (!file) throw new Error('etcd-snapshot restore: give the snapshot file');
      const path = file.includes('/') ? file : join(dir, file);
      if (state || values['bind-address']) {
        const address = values['bind-address'] ?? '127.0.0.1';
        const name = state?.name ?? `${hostname()}-${address}`;
        const peer = state?.peerURL ?? peerUrl(address, Number(values['etcd-peer-port'] ?? 2380));
        const moved = await restoreEtcdSnapshot(path, etcdDataDir(dataDir), name, peer);
        console.log(`Restored ${path} into ${etcdDataDir(dataDir)} as the one-member cluster ${name}=${peer}${moved ? `; old data moved to ${moved}` : ''}.`);
        console.log('Start the server again; other servers rejoin with a wiped data dir and --server.');
      } else {
        await restoreSqliteSnapshot(path, sqlitePath(dataDir));
        console.log(`Restored ${path} into ${sqlitePath(dataDir)}. Start the server again.`);
      }
      return;
    }
    default:
      process.stderr.write(ETCD_SNAPSHOT_USAGE);
      process.exit(sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2);
  }
}

/** `bosun server-remove [NAME]`: takes a server's etcd member out of the cluster; without NAME, lists members. */
export async function serverRemove(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'data-dir': { type: 'string', short: 'd' } } });
  const dataDir = values['data-dir'] ?? process.env.BOSUN_DATA_DIR ?? defaultDataDir();
  const state = await readEtcdClientState(dataDir);
  if (!state) throw new Error(`server-remove: ${dataDir} has no embedded etcd (run it on a server started with --cluster-init or --server)`);
  const client = etcdAdminClient(state.endpoints, state.tls);
  try {
    const name = positionals[0];
    if (!name) {
      for (const m of await listMembers(client)) console.log([m.name || '(unstarted)', m.id, m.peerURLs.join(','), m.clientURLs.join(',')].join('\t'));
      return;
    }
    if (name === state.name) throw new Error(`server-remove: ${name} is this server's own member; run it on another server`);
    if (!(await removeMember(client, name))) throw new Error(`server-remove: no etcd member named ${name}`);
    console.log(`Removed etcd member ${name}`);
  } finally { client.close(); }
}

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { ClusterPki } from './pki.js';
import { issueEtcdCertificates, type EtcdTlsFiles } from '../etcd/pki.js';
import { EtcdMember, hasMemberData, peerUrl, clientUrl } from '../etcd/member.js';
import { addMember, etcdAdminClient, etcdCredentials, listMembers, removeMember } from '../etcd/cluster.js';
import { defaultSnapshotDir, pruneSnapshots, restoreEtcdSnapshot, saveEtcdSnapshot, snapshotFileName } from '../etcd/snapshot.js';
import { cronSchedule, intervalSchedule, runSchedule } from '../etcd/schedule.js';

export interface EmbeddedEtcdConfig {
  dataDir: string;
  /** The server's `--bind-address`: etcd's client and peer listeners bind to it too. */
  bindAddress: string;
  clientPort: number;
  peerPort: number;
  /** Client URLs of a cluster to join (from the first server's bootstrap data). */
  join?: string[];
  /** `--cluster-reset`: start as a one-member cluster from this member's data (`--force-new-cluster`)… */
  clusterReset?: boolean;
  /** …or from a snapshot (`--cluster-reset-restore-path`). */
  clusterResetRestorePath?: string;
  snapshots: EtcdSnapshotConfig;
}

export interface EtcdSnapshotConfig {
  disabled?: boolean;
  /** `--etcd-snapshot-schedule-cron` (k3s' default `0 *\/12 * * *`). */
  cron?: string;
  /** `--etcd-snapshot-interval`: overrides the cron schedule. */
  intervalMs?: number;
  /** `--etcd-snapshot-dir`, default `<data-dir>/server/db/snapshots`. */
  dir?: string;
  /** `--etcd-snapshot-retention`: scheduled snapshots kept (5). */
  retention?: number;
}

/** What `bosun etcd-snapshot` and `bosun server-remove` read to reach this server's etcd. */
export interface EtcdClientState { name: string; endpoints: string[]; peerURL: string; tls: EtcdTlsFiles; snapshotDir: string }

export const etcdDataDir = (dataDir: string): string => join(dataDir, 'server', 'db', 'etcd');
const statePath = (dataDir: string) => join(dataDir, 'server', 'db', 'etcd-client.json');
const namePath = (dataDir: string) => join(dataDir, 'server', 'db', 'etcd-name');

/** Whether this data dir already runs an embedded etcd member (restarts need no `--cluster-init`). */
export const hasEmbeddedEtcd = (dataDir: string): boolean => hasMemberData(etcdDataDir(dataDir));

export async function readEtcdClientState(dataDir: string): Promise<EtcdClientState | undefined> {
  if (!existsSync(statePath(dataDir))) return undefined;
  return JSON.parse(await readFile(statePath(dataDir), 'utf8')) as EtcdClientState;
}

const hostAddress = (bind: string) => (bind === '0.0.0.0' || bind === '::' || bind === '' ? '127.0.0.1' : bind);

/**
 * The server's own etcd member, the k3s way: certificates from the cluster CA,
 * a new cluster (`--cluster-init`), a join (member add, then start with
 * `--initial-cluster-state existing`) or a restart on existing data; plus the
 * periodic snapshots.
 */
export class EmbeddedEtcd {
  private scheduler?: { stop(): void };
  private admin?: Etcd3;

  private constructor(readonly member: EtcdMember, readonly tls: EtcdTlsFiles, readonly snapshotDir: string, private readonly log: (m: string) => void) {}

  get name(): string { return this.member.config.name; }

  static async start(config: EmbeddedEtcdConfig, pki: ClusterPki, log: (m: string) => void): Promise<EmbeddedEtcd> {
    const address = hostAddress(config.bindAddress);
    const dir = etcdDataDir(config.dataDir);
    await mkdir(join(dir, '..'), { recursive: true, mode: 0o700 });
    const name = existsSync(namePath(config.dataDir))
      ? (await readFile(namePath(config.dataDir), 'utf8')).trim()
      : `${hostname()}-${address}`.replace(/[^A-Za-z0-9.-]/g, '-');
    await writeFile(namePath(config.dataDir), `${name}\n`);
    const tls = await issueEtcdCertificates(config.dataDir, pki.ca.certPem, pki.authority, address);
    const peer = peerUrl(address, config.peerPort);

    let initialCluster = `${name}=${peer}`;
    let state: 'new' | 'existing' = 'new';
    let forceNewCluster = false;
    if (config.clusterResetRestorePath) {
      const moved = await restoreEtcdSnapshot(config.clusterResetRestorePath, dir, name, peer);
      log(`etcd: restored ${config.clusterResetRestorePath} as a one-member cluster${moved ? ` (old data moved to ${moved})` : ''}`);
    } else if (config.clusterReset) {
      if (!hasMemberData(dir)) throw new Error('--cluster-reset: no etcd data to reset');
      forceNewCluster = true;
      log('etcd: resetting membership to this member alone (--force-new-cluster)');
    } else if (hasMemberData(dir)) {
      log(`etcd: restarting member ${name} on existing data`);
    } else if (config.join?.length) {
      initialCluster = await addMember(() => etcdAdminClient(config.join!, tls), name, peer);
      state = 'existing';
      log(`etcd: added member ${name} at ${peer}; joining ${initialCluster}`);
    } else {
      log(`etcd: initializing a new cluster with member ${name}`);
    }

    const member = new EtcdMember({
      name, dataDir: dir, address, clientPort: config.clientPort, peerPort: config.peerPort, tls,
      initialCluster, initialClusterState: state, extraArgs: forceNewCluster ? ['--force-new-cluster'] : [],
    }, log);
    await member.start();
    // `--force-new-cluster` is for one start only: a supervised restart must not repeat it.
    member.config.extraArgs = [];
    log(`etcd: member ${name} serving clients at ${member.clientURL}, peers at ${member.peerURL}`);

    const snapshotDir = config.snapshots.dir ?? defaultSnapshotDir(config.dataDir);
    const etcd = new EmbeddedEtcd(member, tls, snapshotDir, log);
    const clientState: EtcdClientState = { name, endpoints: [member.clientURL], peerURL: member.peerURL, tls, snapshotDir };
    await writeFile(statePath(config.dataDir), JSON.stringify(clientState, null, 2), { mode: 0o600 });
    if (!config.snapshots.disabled) etcd.scheduleSnapshots(config.snapshots);
    return etcd;
  }

  /** The store's endpoints: this member first, then the others, so the API server survives its own member's restart. */
  async storeEndpoints(): Promise<string[]> {
    const others = (await this.clientURLs()).filter((u) => u !== this.member.clientURL);
    return [this.member.clientURL, ...others];
  }

  get credentials(): { rootCertificate: Buffer; certChain: Buffer; privateKey: Buffer } { return etcdCredentials(this.tls); }

  private client(): Etcd3 {
    this.admin ??= etcdAdminClient([this.member.clientURL], this.tls);
    return this.admin;
  }

  /** Client URLs of the started members (for joiners' bootstrap data). */
  async clientURLs(): Promise<string[]> {
    const members = await this.withClient(listMembers);
    return members.flatMap((m) => m.clientURLs);
  }

  /** Removes another server's member by name; false when there is none. */
  async removeMember(name: string): Promise<boolean> {
    return this.withClient((c) => removeMember(c, name));
  }

  /** One call, retried once on a fresh client: the etcd3 client's circuit breaker stays open a while after its member restarted. */
  private async withClient<T>(fn: (c: Etcd3) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client());
    } catch {
      this.admin?.close();
      this.admin = undefined;
      return fn(this.client());
    }
  }

  /** Saves a snapshot named `<name>-<member>-<unix seconds>` in the snapshot dir; returns its path. */
  async saveSnapshot(name = 'etcd-snapshot'): Promise<string> {
    await mkdir(this.snapshotDir, { recursive: true, mode: 0o700 });
    const file = join(this.snapshotDir, snapshotFileName(name, this.name));
    await this.withClient((c) => saveEtcdSnapshot(c, file));
    return file;
  }

  private scheduleSnapshots(s: EtcdSnapshotConfig): void {
    const schedule = s.intervalMs ? intervalSchedule(s.intervalMs) : cronSchedule(s.cron ?? '0 */12 * * *');
    const retention = s.retention ?? 5;
    this.scheduler = runSchedule(schedule, async () => {
      const file = await this.saveSnapshot();
      const pruned = await pruneSnapshots(this.snapshotDir, `etcd-snapshot-${this.name}`, retention);
      this.log(`etcd: saved snapshot ${file}${pruned.length ? `; pruned ${pruned.join(', ')}` : ''}`);
    }, (m) => this.log(`etcd: ${m}`));
  }

  async stop(): Promise<void> {
    this.scheduler?.stop();
    this.admin?.close();
    await this.member.stop();
  }
}

export { clientUrl };

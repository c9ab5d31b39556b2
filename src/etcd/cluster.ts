import { readFileSync } from 'node:fs';
import { Etcd3, type IMember } from 'etcd3';
import type { EtcdTlsFiles } from './pki.js';

/** The PEM buffers the etcd3 (grpc) client needs for mutual TLS. */
export function etcdCredentials(tls: Pick<EtcdTlsFiles, 'caFile' | 'clientCertFile' | 'clientKeyFile'>): { rootCertificate: Buffer; certChain: Buffer; privateKey: Buffer } {
  return { rootCertificate: readFileSync(tls.caFile), certChain: readFileSync(tls.clientCertFile), privateKey: readFileSync(tls.clientKeyFile) };
}

/** An etcd client for membership and maintenance calls (the store has its own). */
export function etcdAdminClient(endpoints: string[], tls: Pick<EtcdTlsFiles, 'caFile' | 'clientCertFile' | 'clientKeyFile'>): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    credentials: etcdCredentials(tls),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 15_000 }),
  });
}

export interface MemberInfo { id: string; name: string; peerURLs: string[]; clientURLs: string[]; started: boolean }

const info = (m: IMember): MemberInfo => ({ id: m.ID, name: m.name, peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [], started: m.name !== '' });

export async function listMembers(client: Etcd3): Promise<MemberInfo[]> {
  const res = await client.cluster.memberList({});
  return res.members.map(info);
}

/**
 * Adds a member for `name` at `peerURL` and returns the `--initial-cluster`
 * it must start with. A member already registered at that peer URL (an
 * earlier join that died before its etcd started, or a server rejoining with
 * a wiped data dir) is removed first: etcd refuses a second one.
 *
 * etcd refuses a member add while a recently added member is not yet in
 * touch with the leader ("unhealthy cluster", its strict reconfiguration
 * check): servers joining one after another retry for a while, each time
 * with a new client (the etcd3 client's circuit breaker opens on failures).
 */
export async function addMember(connect: () => Etcd3, name: string, peerURL: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 500; ; delay = Math.min(delay * 2, 4000)) {
    const client = connect();
    try {
      for (const m of await listMembers(client)) {
        if (m.peerURLs.includes(peerURL) || m.name === name) await client.cluster.memberRemove({ ID: m.id });
      }
      const res = await client.cluster.memberAdd({ peerURLs: [peerURL] });
      const addedId = res.member.ID;
      return res.members
        .map((m) => `${m.ID === addedId ? name : m.name}=${m.peerURLs[0]}`)
        .join(',');
    } catch (err) {
      if (Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    } finally {
      client.close();
    }
  }
}

/** Removes the member named `name`; false when no member has that name. */
export async function removeMember(client: Etcd3, name: string): Promise<boolean> {
  const m = (await listMembers(client)).find((x) => x.name === name);
  if (!m) return false;
  await client.cluster.memberRemove({ ID: m.id });
  return true;
}


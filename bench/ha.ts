/**
 * Leader failover time of an HA cluster, one JSON line.
 *
 *   node --import tsx bench/run.ts ha [--rounds 5]
 *
 * Three servers on 127.0.0.1/.2/.3 with embedded etcd (test/ha/cluster.ts)
 * and two hollow nodes. Each round: kill -9 the server holding the scheduler
 * Lease, create a pod at once, and time until a new leader has bound it (the
 * new leader's first action); then restart the killed server. Leader
 * election at upstream's defaults (15 s lease, 10 s renew deadline, 2 s retry).
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1';
import { Client } from '../src/client/client.js';
import { ApiError } from '../src/client/errors.js';
import { leases, pods } from '../src/client/resources.js';
import { startHollowNodes } from '../src/sim/index.js';
import { startHaCluster } from '../test/ha/cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { rounds: { type: 'string', default: '5' } } });
  const rounds = Number(values.rounds);
  const c = await startHaCluster();
  const clients: Client[] = [];
  const clientOf = async (i: number) => { const cl = await Client.fromKubeconfig(c.servers[i]!.proc!.kubeconfig, { qps: 0 }); clients.push(cl); return cl; };
  const hollowClient = await clientOf(0);
  const hollow = await startHollowNodes({ client: hollowClient, count: 2, namePrefix: 'bench-ha-', leaseRenewIntervalMs: 2000, statusUpdateIntervalMs: 5000 });
  const takeover: number[] = [];
  const firstWrite: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const probe = await clientOf(0);
      let holder: string | undefined;
      for (let i = 0; i < 200 && !holder; i++) {
        holder = (await probe.get(leases, 'kube-system', 'bosun-scheduler').catch(() => undefined))?.spec?.holderIdentity || undefined;
        if (!holder) await sleep(100);
      }
      const leader = c.servers.find((s) => holder?.endsWith(`_${s.ip}:${c.port}`));
      if (!leader) throw new Error(`no scheduler leader (holder ${holder})`);
      const survivor = await clientOf(c.servers.findIndex((s) => s !== leader));
      const t0 = performance.now();
      await c.kill(leader);
      // During etcd's leader change a write may fail (500, "leader changed"): retry, as a client would.
      for (;;) {
        const ok = await survivor.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `failover-${r}`, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as Pod)
          .then(() => true, (err: unknown) => err instanceof ApiError && err.code === 409);
        if (ok) break;
        if (performance.now() - t0 > 30_000) throw new Error('no write accepted within 30 s');
        await sleep(100);
      }
      firstWrite.push(Math.round(performance.now() - t0));
      for (;;) {
        const p = await survivor.get(pods, 'default', `failover-${r}`).catch(() => undefined);
        if (p?.spec?.nodeName) break;
        if (performance.now() - t0 > 60_000) throw new Error('no new leader within 60 s');
        await sleep(50);
      }
      takeover.push(Math.round(performance.now() - t0));
      await c.start(leader);
      // Let the restarted member catch up and every server renew its endpoint lease.
      await sleep(3000);
    }
  } finally {
    await hollow.stop().catch(() => {});
    for (const cl of clients) cl.close();
    await c.stop();
  }
  console.log(JSON.stringify({
    bench: 'ha',
    conditions: { servers: 3, etcdMembers: 3, leaseDurationS: 15, renewDeadlineS: 10, retryPeriodS: 2, etcdElectionTimeoutMs: 2000, rounds, cpus: cpus().length, node: process.version },
    results: { killToNewLeaderActionMs: takeover, medianKillToNewLeaderActionMs: median(takeover), firstWriteAfterKillMs: firstWrite, medianFirstWriteAfterKillMs: median(firstWrite) },
  }));
}

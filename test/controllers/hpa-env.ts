import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { ControllerManager, type ControllerManagerOptions } from '../../src/controllers/index.js';
import { Scheduler } from '../../src/scheduler/index.js';
import { startHollowNodes, type HollowCluster } from '../../src/sim/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

export interface MetricsEnv { ts: TestServer; client: Client; hollow: HollowCluster; logs: string[]; stop(): Promise<void> }

/**
 * A server with the metrics pipeline at `metricResolutionMs`, a scheduler,
 * controllers and hollow nodes serving synthetic usage on their loopback
 * kubelet API — a small cluster that `kubectl top` and the HPA work on, no root.
 */
export async function startMetricsEnv(opts: {
  nodes?: number; metricResolutionMs?: number; manager?: Omit<ControllerManagerOptions, 'log'>;
} = {}): Promise<MetricsEnv> {
  const ts = await startTestServer({ config: { metricResolutionMs: opts.metricResolutionMs ?? 500 } });
  const client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
  const abort = new AbortController();
  const logs: string[] = [];
  const log = (m: string) => logs.push(`${new Date().toISOString()} ${m}`);
  let running: Promise<unknown> = Promise.resolve();
  let hollow: HollowCluster | undefined;
  try {
    const manager = new ControllerManager(client, { controllers: ['replicaset', 'deployment', 'garbagecollector'], ...opts.manager, log });
    running = Promise.all([manager.run(abort.signal), new Scheduler({ client, log }).run(abort.signal)]);
    const ca = await readFile(join(ts.dataDir, 'server', 'tls', 'server-ca.crt'), 'utf8');
    hollow = await startHollowNodes({
      client, count: opts.nodes ?? 2, zones: 1, leaseRenewIntervalMs: 1000, statusUpdateIntervalMs: 2000,
      maxDeletionGraceMs: 200, podStartDelayMs: 50, kubeletApiClientCA: ca, log,
    });
  } catch (err) {
    abort.abort();
    await running.catch(() => {});
    client.close();
    await ts.stop();
    throw err;
  }
  const cluster = hollow;
  return {
    ts, client, hollow: cluster, logs,
    async stop() {
      abort.abort();
      await running.catch(() => {});
      await cluster.stop();
      client.close();
      await ts.stop();
      if (process.env.BOSUN_TEST_LOGS) for (const l of logs) console.error(l);
    },
  };
}

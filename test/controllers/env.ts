import { Client, type KubeObject, type ResourceDescriptor } from '../../src/client/index.js';
import { ControllerManager, type ControllerManagerOptions, type ControllerName } from '../../src/controllers/index.js';
import { Scheduler } from '../../src/scheduler/index.js';
import { startHollowNodes, type HollowCluster } from '../../src/sim/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { FakeKubelet, type FakeKubeletOptions } from '../helpers/fake-kubelet.js';

/** A test server, an unthrottled client, a ControllerManager and the fake kubelet — all stopped by `stop`. */
export interface ControllerEnv {
  ts: TestServer;
  client: Client;
  kubelet?: FakeKubelet;
  stop(): Promise<void>;
}

export async function startControllerEnv(opts: { manager?: ControllerManagerOptions | false; kubelet?: FakeKubeletOptions | false } = {}): Promise<ControllerEnv> {
  const ts = await startTestServer();
  const client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
  const abort = new AbortController();
  const logs: string[] = [];
  let running: Promise<void> | undefined;
  if (opts.manager !== false) {
    const manager = new ControllerManager(client, {
      podGC: { periodMs: 500, quarantineMs: 1000 }, namespaceRecheckMs: 200, log: (m) => logs.push(m), ...(opts.manager ?? {}),
    });
    running = manager.run(abort.signal);
  }
  let kubelet: FakeKubelet | undefined;
  if (opts.kubelet !== false) {
    kubelet = new FakeKubelet(client, opts.kubelet ?? {});
    await kubelet.start();
  }
  return {
    ts, client, kubelet,
    async stop() {
      abort.abort();
      await running;
      await kubelet?.stop();
      client.close();
      await ts.stop();
      if (process.env.BOSUN_TEST_LOGS) for (const l of logs) console.error(l);
    },
  };
}

/** Polls `fn` until it returns a truthy value, or fails with the last value seen. */
export async function eventually<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 20_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (err) { lastErr = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)}${lastErr ? `, error: ${String(lastErr)}` : ''})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function count<T extends KubeObject>(client: Client, res: ResourceDescriptor<T>, namespace: string, selector?: string, filter: (o: T) => boolean = () => true): Promise<number> {
  const list = await client.list(res, { namespace, labelSelector: selector });
  return list.items.filter(filter).length;
}

export interface HollowEnv { ts: TestServer; client: Client; hollow: HollowCluster; stop(): Promise<void> }

/** Server, controller-manager, scheduler and hollow nodes, all in this process: a small cluster without root. */
export async function startHollowEnv(opts: { controllers: readonly ControllerName[]; nodes: number; zones: number }): Promise<HollowEnv> {
  const ts = await startTestServer();
  const client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
  const abort = new AbortController();
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  const running = new ControllerManager(client, { controllers: opts.controllers, log }).run(abort.signal);
  const scheduling = new Scheduler({ client, log }).run(abort.signal);
  const hollow = await startHollowNodes({ client, count: opts.nodes, zones: opts.zones, leaseRenewIntervalMs: 500, statusUpdateIntervalMs: 1000, maxDeletionGraceMs: 200, log });
  return {
    ts, client, hollow,
    async stop() {
      abort.abort();
      await Promise.all([running, scheduling]);
      await hollow.stop();
      client.close();
      await ts.stop();
      if (process.env.BOSUN_TEST_LOGS) for (const l of logs) console.error(l);
    },
  };
}

/**
 * A node for kubelet e2e tests (root): a real containerd with the built-in
 * images and a CNI bridge of its own (test/helpers/containerd.ts), an
 * in-process API server, and a Kubelet that can be stopped and started
 * again. Everything goes in t.after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { Client, pods } from '../../src/client/index.js';
import { CriClient } from '../../src/kubelet/cri/client.js';
import { Kubelet, type KubeletOptions } from '../../src/kubelet/kubelet.js';
import { unmountAll } from '../../src/kubelet/volumes/mount.js';
import type { ControlLoop } from '../../src/server/control-plane.js';
import { startTestContainerd, type TestContainerd } from '../helpers/containerd.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

export { BUSYBOX_IMAGE } from '../../src/agent/images/index.js';

export interface KubeletEnv {
  ts: TestServer;
  client: Client;
  rt: TestContainerd;
  cri: CriClient;
  nodeName: string;
  dir: string;
  kubelet: Kubelet;
  /** Stops the running Kubelet (containers keep running) and starts a new instance. */
  restartKubelet(): Promise<void>;
  stopKubelet(): Promise<void>;
  logs: string[];
}

export async function startKubeletEnv(
  t: { after(fn: () => unknown): void },
  opts: { controlLoops?: ControlLoop[]; kubelet?: Partial<KubeletOptions> } = {},
): Promise<KubeletEnv> {
  // Undone last-made-first: the kubelet stops before the server and containerd go.
  const cleanups: Array<() => unknown> = [];
  t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
  const later = { after: (fn: () => unknown) => { cleanups.push(fn); } };
  const rt = await startTestContainerd(later);
  const ts = await startTestServer({ controlLoops: opts.controlLoops ?? [] });
  cleanups.push(() => ts.stop());
  const client = await Client.fromKubeconfig(ts.kubeconfig, { qps: 0 });
  cleanups.push(() => client.close());
  const cri = new CriClient({ endpoint: rt.endpoint });
  cleanups.push(() => cri.close());
  const dir = await mkdtemp(join(tmpdir(), 'bosun-kubelet-'));
  const nodeName = `kubelet-e2e-${process.pid}`;
  const logs: string[] = [];
  let abort: AbortController | undefined;
  let running: Promise<void> | undefined;
  const env: KubeletEnv = {
    ts, client, rt, cri, nodeName, dir, logs, kubelet: undefined as unknown as Kubelet,
    async stopKubelet() {
      abort?.abort();
      await running?.catch(() => {});
      abort = undefined; running = undefined;
    },
    async restartKubelet() {
      await env.stopKubelet();
      start();
    },
  };
  const start = () => {
    abort = new AbortController();
    env.kubelet = new Kubelet({
      client, nodeName, nodeIP: rt.gateway, runtime: cri,
      rootDir: join(dir, 'kubelet'), podLogsDir: join(dir, 'pod-logs'),
      clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', kubeletPort: 10250,
      log: (m) => { logs.push(m); if (process.env.KUBELET_TEST_LOG) console.error(`kubelet: ${m}`); },
      ...opts.kubelet,
    });
    running = env.kubelet.run(abort.signal);
    running.catch((err: unknown) => logs.push(`run failed: ${String(err)}`));
  };
  cleanups.push(async () => {
    await env.stopKubelet();
    // Pods left running keep their tmpfs emptyDirs mounted under the kubelet's dir.
    await unmountAll(dir).catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  });
  start();
  return env;
}

export function podSpec(name: string, nodeName: string, spec: Partial<Pod['spec']> & { containers: NonNullable<Pod['spec']>['containers'] }, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', ...meta },
    spec: { nodeName, terminationGracePeriodSeconds: 2, ...spec },
  };
}

export async function waitForPod(client: Client, name: string, what: string, fn: (p: Pod) => boolean, timeoutMs = 30_000): Promise<Pod> {
  const deadline = Date.now() + timeoutMs;
  let last: Pod | undefined;
  for (;;) {
    last = await client.get(pods, 'default', name).catch(() => undefined);
    if (last && fn(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for pod ${name} to be ${what}; status: ${JSON.stringify(last?.status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

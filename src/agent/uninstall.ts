import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { destroyContainerd, removeAllContainers, startContainerd } from './containerd.js';
import { PAUSE_IMAGE } from './images/index.js';
import { removeClusterRoutes } from './routes.js';
import { removeNodeRoutes } from './node-routes.js';
import { removePodMasquerade } from './pod-masquerade.js';
import { cleanupProxyRules } from '../proxy/index.js';
import { agentPaths } from './agent.js';
import { unmountAll } from '../kubelet/volumes/mount.js';
import { pidFileOf } from '../server/data-dir.js';
import { livePidFrom, stopPid } from '../util/pid-file.js';

export interface KillAllOptions {
  dataDir: string;
  bridge?: string;
  clusterCidr?: string;
  serviceCidr?: string;
  proxyChainPrefix?: string;
  log?: (m: string) => void;
}

/**
 * `bosun killall` (k3s-killall.sh): every pod's containers and sandboxes
 * gone with their network, containerd stopped, the proxy's chains, the
 * routes and the bridge removed. Images stay unless `removeData`.
 * A `bosun server` or `bosun agent` still running on the data dir is stopped
 * first, or its kubelet would start the pods again.
 */
export async function killAll(opts: KillAllOptions & { removeData?: boolean }): Promise<void> {
  const log = opts.log ?? (() => {});
  for (const role of ['agent', 'server'] as const) {
    const pid = livePidFrom(pidFileOf(opts.dataDir, role), (argv) => argv.some((a) => /bosun|cli\/main\.[jt]s$/.test(a)));
    if (pid === undefined) continue;
    log(`stopping bosun ${role} (pid ${pid})`);
    await stopPid(pid, 30_000);
  }
  const paths = agentPaths(opts.dataDir);
  if (existsSync(paths.containerd)) {
    // Our own containerd is the one that knows the containers: (re)start it to take them down through it.
    const run = await startContainerd({ stateDir: paths.containerd, cniConfDir: paths.cniConfDir, sandboxImage: PAUSE_IMAGE, log });
    if (opts.removeData) await destroyContainerd(run);
    else { await removeAllContainers(run); await run.stop(); }
    log('containers removed, containerd stopped');
  }
  await cleanupProxyRules(opts.proxyChainPrefix).catch((err: unknown) => log(`iptables: ${String(err)}`));
  await removeNodeRoutes(opts.clusterCidr);
  await removePodMasquerade(opts.bridge);
  await removeClusterRoutes({ bridge: opts.bridge, clusterCidr: opts.clusterCidr, serviceCidr: opts.serviceCidr, deleteBridge: true });
  // host-local IPAM keeps a directory per network (named after the bridge) with the last address it gave.
  await rm(join('/var/lib/cni/networks', opts.bridge ?? 'bosun0'), { recursive: true, force: true });
  log('proxy rules, routes and bridge removed');
  // Pod volumes (tmpfs emptyDirs, secrets) are mounts under the kubelet's root.
  await unmountAll(paths.kubelet).catch((err: unknown) => log(`unmount: ${String(err)}`));
  if (opts.removeData) {
    await rm(opts.dataDir, { recursive: true, force: true });
    log(`removed ${opts.dataDir}`);
  }
}

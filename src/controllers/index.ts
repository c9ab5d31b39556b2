import { setMaxListeners } from 'node:events';
import { InformerFactory, type Client } from '../client/index.js';
import type { ControlLoop } from '../server/control-plane.js';
import { DeploymentController } from './deployment/controller.js';
import { DisruptionController } from './disruption/controller.js';
import { EndpointsController } from './endpoints/controller.js';
import { EndpointSliceController, type EndpointSliceControllerOptions } from './endpointslice/controller.js';
import { GarbageCollector } from './garbage-collector/controller.js';
import { HorizontalPodAutoscalerController, type HorizontalPodAutoscalerControllerOptions } from './horizontalpodautoscaler/controller.js';
import { NamespaceController } from './namespace/controller.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from './node-lifecycle/controller.js';
import { NodeIpamController, type NodeIpamOptions } from './nodeipam/controller.js';
import { PodGC, type PodGCOptions } from './podgc/controller.js';
import { ReplicaSetController } from './replicaset/controller.js';
import { replicaSetKind, replicationControllerKind } from './replicaset/kinds.js';

export type ControllerName = 'replicaset' | 'replicationcontroller' | 'deployment' | 'garbagecollector' | 'namespace' | 'podgc' | 'nodelifecycle' | 'disruption' | 'endpoint' | 'endpointslice' | 'nodeipam' | 'horizontalpodautoscaling';
export const ALL_CONTROLLERS: readonly ControllerName[] = ['replicaset', 'replicationcontroller', 'deployment', 'garbagecollector', 'namespace', 'podgc', 'nodelifecycle', 'disruption', 'endpoint', 'endpointslice', 'nodeipam', 'horizontalpodautoscaling'];

export interface ControllerManagerOptions {
  /** Which controllers run (upstream's --controllers); all by default. */
  controllers?: readonly ControllerName[];
  /** Workers per controller (upstream's --concurrent-*-syncs, default 5). */
  workers?: number;
  /** --terminated-pod-gc-threshold and the pod GC's timings. */
  podGC?: PodGCOptions;
  /** How often the namespace controller looks again at content still terminating. */
  namespaceRecheckMs?: number;
  /** The node lifecycle controller's flags (--node-monitor-grace-period, --node-eviction-rate…). */
  nodeLifecycle?: NodeLifecycleOptions;
  /** --max-endpoints-per-slice. */
  endpointSlice?: Pick<EndpointSliceControllerOptions, 'maxEndpointsPerSlice'>;
  /** The HPA controller's flags (--horizontal-pod-autoscaler-sync-period, -downscale-stabilization, -tolerance…). */
  horizontalPodAutoscaler?: Omit<HorizontalPodAutoscalerControllerOptions, 'log' | 'workers'>;
  /** --cluster-cidr and --node-cidr-mask-size. */
  nodeIpam?: Omit<NodeIpamOptions, 'log'>;
  log?: (m: string) => void;
}

/**
 * bosun's kube-controller-manager: one shared set of informers and every
 * controller on it. `run` returns when `signal` aborts (leadership lost or
 * shutdown) and every worker has finished its current item.
 */
export class ControllerManager {
  constructor(private readonly client: Client, private readonly opts: ControllerManagerOptions = {}) {}

  async run(signal: AbortSignal): Promise<void> {
    // Every informer, queue and worker listens on this one signal.
    setMaxListeners(0, signal);
    const log = this.opts.log ?? ((m: string) => console.error(m));
    const enabled = new Set(this.opts.controllers ?? ALL_CONTROLLERS);
    const workers = this.opts.workers;
    const informers = new InformerFactory(this.client, { log: (m) => log(`informer: ${m}`) });
    const runs: Array<(s: AbortSignal) => Promise<void>> = [];
    if (enabled.has('replicaset')) { const c = new ReplicaSetController(this.client, informers, replicaSetKind, { workers, log }); runs.push((s) => c.run(s)); }
    if (enabled.has('replicationcontroller')) { const c = new ReplicaSetController(this.client, informers, replicationControllerKind, { workers, log }); runs.push((s) => c.run(s)); }
    if (enabled.has('deployment')) { const c = new DeploymentController(this.client, informers, { workers, log }); runs.push((s) => c.run(s)); }
    if (enabled.has('garbagecollector')) { const c = new GarbageCollector(this.client, informers, { workers, log }); runs.push((s) => c.run(s)); }
    if (enabled.has('namespace')) { const c = new NamespaceController(this.client, informers, { workers, log, recheckMs: this.opts.namespaceRecheckMs }); runs.push((s) => c.run(s)); }
    if (enabled.has('podgc')) { const c = new PodGC(this.client, informers, { log, ...this.opts.podGC }); runs.push((s) => c.run(s)); }
    if (enabled.has('nodelifecycle')) { const c = new NodeLifecycleController(this.client, informers, { log, ...this.opts.nodeLifecycle }); runs.push((s) => c.run(s)); }
    if (enabled.has('disruption')) { const c = new DisruptionController(this.client, informers, { workers, log }); runs.push((s) => c.run(s)); }
    if (enabled.has('endpoint')) { const c = new EndpointsController(this.client, informers, { workers, log }); runs.push((s) => c.run(s)); }
    if (enabled.has('endpointslice')) { const c = new EndpointSliceController(this.client, informers, { workers, log, ...this.opts.endpointSlice }); runs.push((s) => c.run(s)); }
    if (enabled.has('horizontalpodautoscaling')) { const c = new HorizontalPodAutoscalerController(this.client, informers, { workers, log, ...this.opts.horizontalPodAutoscaler }); runs.push((s) => c.run(s)); }
    if (enabled.has('nodeipam')) { const c = new NodeIpamController(this.client, informers, { log, ...this.opts.nodeIpam }); runs.push((s) => c.run(s)); }
    informers.start(signal);
    try {
      await informers.waitForSync(signal);
    } catch {
      return; // aborted before the caches filled: nothing was done
    }
    await Promise.all(runs.map((r) => r(signal)));
  }
}

/**
 * The controller-manager as the server runs it, under leader election on
 * `kube-system/bosun-controller-manager`. The context's client should not be
 * throttled at client-go's default 5 QPS: a 100-replica ReplicaSet alone
 * needs 100 creates.
 */
export function controllerManagerLoopWith(opts: Omit<ControllerManagerOptions, 'log'> = {}): ControlLoop {
  return {
    name: 'controller-manager',
    leaseName: 'bosun-controller-manager',
    run: (ctx) => new ControllerManager(ctx.client, { ...opts, log: ctx.log }).run(ctx.signal),
  };
}

/** With upstream's defaults. */
export const controllerManagerLoop: ControlLoop = controllerManagerLoopWith();

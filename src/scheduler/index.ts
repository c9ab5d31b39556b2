/**
 * bosun's kube-scheduler. As a leader-elected control loop of the server:
 *
 * ```ts
 * runControlLoops([schedulerLoop], client, { signal, metrics, log });
 * // with --scheduler-config: schedulerLoopWith(await loadSchedulerConfiguration(path))
 * ```
 *
 * or directly: `await new Scheduler({ client }).run(signal)`.
 */
import type { ControlLoop } from '../server/control-plane.js';
import type { KubeSchedulerConfiguration } from './config.js';
import { Scheduler } from './scheduler.js';

export { Scheduler, numFeasibleNodesToFind, type SchedulerOptions } from './scheduler.js';
export { loadSchedulerConfiguration, parseSchedulerConfiguration, resolveProfiles, DEFAULT_SCHEDULER_NAME, type KubeSchedulerConfiguration } from './config.js';
export { schedulerMetrics } from './metrics.js';
export * from './framework.js';

/** The scheduler as a control loop with a given configuration (the server's `--scheduler-config`). */
export function schedulerLoopWith(config?: KubeSchedulerConfiguration): ControlLoop {
  return {
    name: 'scheduler',
    leaseName: 'bosun-scheduler',
    async run(ctx) {
      const scheduler = new Scheduler({ client: ctx.client, config, metrics: ctx.metrics, identity: ctx.identity, log: ctx.log });
      await scheduler.run(ctx.signal);
    },
  };
}

/** The default-profile scheduler, leader-elected on kube-system/bosun-scheduler. */
export const schedulerLoop: ControlLoop = schedulerLoopWith();

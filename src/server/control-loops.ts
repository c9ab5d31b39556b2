import type { ControlLoop } from './control-plane.js';
import { schedulerLoopWith, type KubeSchedulerConfiguration } from '../scheduler/index.js';
import { controllerManagerLoopWith, type ControllerManagerOptions } from '../controllers/index.js';

export interface ControlLoopOptions {
  disableScheduler: boolean;
  disableControllerManager: boolean;
  /** From `--scheduler-config`. */
  schedulerConfig?: KubeSchedulerConfiguration;
  /** From the controller-manager flags (`--node-monitor-grace-period`…). */
  controllerManager?: Omit<ControllerManagerOptions, 'log'>;
}

/** The leader-elected components every `bosun server` runs, as k3s runs kube-scheduler and kube-controller-manager. */
export function defaultControlLoops(opts: ControlLoopOptions): ControlLoop[] {
  const loops: ControlLoop[] = [];
  if (!opts.disableScheduler) loops.push(schedulerLoopWith(opts.schedulerConfig));
  if (!opts.disableControllerManager) loops.push(controllerManagerLoopWith(opts.controllerManager));
  return loops;
}

import type { ControlLoop } from './control-plane.js';

/** The leader-elected components every `bosun server` runs, as k3s runs kube-scheduler and kube-controller-manager. */
export function defaultControlLoops(opts: { disableScheduler: boolean; disableControllerManager: boolean }): ControlLoop[] {
  const loops: ControlLoop[] = [];
  void opts;
  return loops;
}

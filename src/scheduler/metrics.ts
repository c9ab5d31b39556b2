/** The scheduler's Prometheus metrics, upstream's names; registering twice in one registry reuses the first set. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface SchedulerMetrics {
  scheduleAttempts: Counter<'result' | 'profile'>;
  schedulingAttemptDuration: Histogram<'result' | 'profile'>;
  podSchedulingSLIDuration: Histogram<'attempts'>;
  pendingPods: Gauge<'queue'>;
  preemptionAttempts: Counter<string>;
  preemptionVictims: Histogram<string>;
  bindingDuration: Histogram<string>;
}

const byRegistry = new WeakMap<Registry, SchedulerMetrics>();

function getOr<T>(registry: Registry, name: string, make: () => T): T {
  const existing = registry.getSingleMetric(name);
  return existing ? existing as unknown as T : make();
}

export function schedulerMetrics(registry: Registry): SchedulerMetrics {
  const cached = byRegistry.get(registry);
  if (cached) return cached;
  const registers = [registry];
  const buckets = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384];
  const m: SchedulerMetrics = {
    scheduleAttempts: getOr(registry, 'scheduler_schedule_attempts_total', () => new Counter({
      name: 'scheduler_schedule_attempts_total', help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.', labelNames: ['result', 'profile'], registers,
    })),
    schedulingAttemptDuration: getOr(registry, 'scheduler_scheduling_attempt_duration_seconds', () => new Histogram({
      name: 'scheduler_scheduling_attempt_duration_seconds', help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)', labelNames: ['result', 'profile'], buckets, registers,
    })),
    podSchedulingSLIDuration: getOr(registry, 'scheduler_pod_scheduling_sli_duration_seconds', () => new Histogram({
      name: 'scheduler_pod_scheduling_sli_duration_seconds', help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.', labelNames: ['attempts'], buckets, registers,
    })),
    pendingPods: getOr(registry, 'scheduler_pending_pods', () => new Gauge({
      name: 'scheduler_pending_pods', help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods.", labelNames: ['queue'], registers,
    })),
    preemptionAttempts: getOr(registry, 'scheduler_preemption_attempts_total', () => new Counter({
      name: 'scheduler_preemption_attempts_total', help: 'Total preemption attempts in the cluster till now', registers,
    })),
    preemptionVictims: getOr(registry, 'scheduler_preemption_victims', () => new Histogram({
      name: 'scheduler_preemption_victims', help: 'Number of selected preemption victims', buckets: [1, 2, 4, 8, 16, 32, 64], registers,
    })),
    bindingDuration: getOr(registry, 'scheduler_binding_duration_seconds', () => new Histogram({
      name: 'scheduler_binding_duration_seconds', help: 'Binding latency in seconds', buckets, registers,
    })),
  };
  byRegistry.set(registry, m);
  return m;
}

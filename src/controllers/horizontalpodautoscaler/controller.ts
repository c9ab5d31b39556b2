import type { Pod } from 'kubernetes-types/core/v1';
import type { Scale } from 'kubernetes-types/autoscaling/v1';
import type {
  HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, MetricSpec, MetricStatus,
} from 'kubernetes-types/autoscaling/v2';
import { parseLabelSelector, type Selector } from '../../api/labels.js';
import { nowTimestamp } from '../../api/meta.js';
import { formatQuantity, quantityToMilli } from '../../api/validation/quantity.js';
import {
  EventRecorder, WorkQueue, deployments, horizontalpodautoscalers, keyOf, pods, replicasets, replicationcontrollers,
  type Client, type InformerFactory, type KubeObject, type Lister, type ResourceDescriptor,
} from '../../client/index.js';
import { stableStringify } from '../util/stable-json.js';
import { syncErrorLogger } from '../util/errors.js';
import { ScalingHistory } from './behavior.js';
import { getResourceMetric } from './metrics-client.js';
import { CalculationError, DEFAULT_CALCULATOR_OPTIONS, resourceReplicas, type CalculatorOptions } from './replica-calculator.js';

export interface HorizontalPodAutoscalerControllerOptions {
  workers?: number;
  /** `--horizontal-pod-autoscaler-sync-period`: each HPA is looked at this often (15 s). */
  syncPeriodMs?: number;
  /** `--horizontal-pod-autoscaler-downscale-stabilization` (5 min): the scale-down window unless `behavior` sets one. */
  downscaleStabilizationMs?: number;
  /** `--horizontal-pod-autoscaler-tolerance` (0.1). */
  tolerance?: number;
  /** `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min). */
  cpuInitializationPeriodMs?: number;
  /** `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s). */
  initialReadinessDelayMs?: number;
  log?: (m: string) => void;
}

export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000;
export const DEFAULT_DOWNSCALE_STABILIZATION_MS = 5 * 60_000;

const COMPONENT = 'horizontal-pod-autoscaler';
type ConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';

/** The kinds whose `scale` subresource the controller drives. */
const SCALABLE: Record<string, ResourceDescriptor<KubeObject>> = {
  'apps/Deployment': deployments,
  'apps/ReplicaSet': replicasets,
  '/ReplicationController': replicationcontrollers,
};

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** An error that already set the HPA's conditions: the sync ends with it after writing the status. */
class MetricsError extends Error {
  constructor(msg: string, readonly condition: { reason: string; message: string }) { super(msg); }
}

/**
 * Upstream's setCondition for HPAs: reason and message always follow; the
 * transition time moves only when the status flips.
 */
function setCondition(hpa: HorizontalPodAutoscaler, type: ConditionType, status: 'True' | 'False', reason: string, msg: string): void {
  const list = [...(hpa.status?.conditions ?? [])];
  const i = list.findIndex((c) => c.type === type);
  const old = i >= 0 ? list[i] : undefined;
  const next: HorizontalPodAutoscalerCondition = {
    type, status, reason, message: msg,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : nowTimestamp(),
  };
  if (i >= 0) list[i] = next; else list.push(next);
  hpa.status = { ...(hpa.status ?? { desiredReplicas: 0 }), conditions: list };
}

const milliQuantity = (milli: number): string => formatQuantity({ unscaled: BigInt(Math.round(milli)), scale: -3, format: 'DecimalSI' });

/**
 * The HorizontalPodAutoscaler controller (pkg/controller/podautoscaler):
 * every sync period, for each HPA, reads the target's `scale`, the pods its
 * selector picks and their metrics from metrics.k8s.io, computes the
 * replica count that brings usage back to the target, stabilizes and
 * rate-limits it per `behavior`, writes `scale` and the HPA's status.
 */
export class HorizontalPodAutoscalerController {
  private readonly queue: WorkQueue<string>;
  private readonly hpas: Lister<HorizontalPodAutoscaler>;
  private readonly pods: Lister<Pod>;
  private readonly recorder: EventRecorder;
  private readonly history: ScalingHistory;
  private readonly calc: CalculatorOptions;
  private readonly syncPeriodMs: number;
  private readonly workers: number;
  private readonly log: (m: string) => void;

  constructor(private readonly client: Client, informers: InformerFactory, opts: HorizontalPodAutoscalerControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
    this.syncPeriodMs = opts.syncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS;
    this.log = opts.log ?? ((m: string) => console.error(m));
    this.history = new ScalingHistory(opts.downscaleStabilizationMs ?? DEFAULT_DOWNSCALE_STABILIZATION_MS);
    this.calc = {
      tolerance: opts.tolerance ?? DEFAULT_CALCULATOR_OPTIONS.tolerance,
      cpuInitializationPeriodMs: opts.cpuInitializationPeriodMs ?? DEFAULT_CALCULATOR_OPTIONS.cpuInitializationPeriodMs,
      delayOfInitialReadinessStatusMs: opts.initialReadinessDelayMs ?? DEFAULT_CALCULATOR_OPTIONS.delayOfInitialReadinessStatusMs,
    };
    this.queue = new WorkQueue<string>({ name: 'horizontalpodautoscaler', onError: syncErrorLogger('horizontal-pod-autoscaler', this.log) });
    this.recorder = new EventRecorder(client, COMPONENT);
    const hpaInformer = informers.for(horizontalpodautoscalers);
    this.hpas = hpaInformer.lister();
    this.pods = informers.for(pods).lister();
    hpaInformer.onAdd((hpa) => this.queue.add(keyOf(hpa)));
    // Our own status writes change no generation: only a spec change is looked at before the next period.
    hpaInformer.onUpdate((old, hpa) => { if (old.metadata?.generation !== hpa.metadata?.generation) this.queue.add(keyOf(hpa)); });
    hpaInformer.onDelete((hpa) => this.history.forget(keyOf(hpa)));
  }

  run(signal: AbortSignal): Promise<void> {
    return this.queue.process(this.workers, (key) => this.sync(key), signal);
  }

  async sync(key: string): Promise<void> {
    const cached = this.hpas.get(key);
    if (!cached) { this.history.forget(key); return; }
    // Level-triggered on a clock: every HPA again after one period, whatever happens now.
    this.queue.addAfter(key, this.syncPeriodMs);
    if (cached.metadata?.deletionTimestamp) return;
    const hpa = structuredClone(cached);
    hpa.apiVersion = 'autoscaling/v2';
    hpa.kind = 'HorizontalPodAutoscaler';
    await this.reconcile(key, cached, hpa);
  }

  private async reconcile(key: string, original: HorizontalPodAutoscaler, hpa: HorizontalPodAutoscaler): Promise<void> {
    const spec = hpa.spec!;
    const ref = spec.scaleTargetRef;
    const namespace = hpa.metadata?.namespace ?? 'default';
    const reference = `${ref.kind}/${ref.name}`;
    const group = (ref.apiVersion ?? '').includes('/') ? ref.apiVersion!.split('/')[0] : '';
    const res = SCALABLE[`${group}/${ref.kind}`];

    let scale: Scale;
    try {
      if (!res) throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
      scale = await this.client.getScale(res, namespace, ref.name);
    } catch (err) {
      this.recorder.event(hpa, 'Warning', 'FailedGetScale', message(err));
      setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${message(err)}`);
      await this.updateStatusIfNeeded(original, hpa);
      throw new Error(`failed to query scale subresource for ${reference}: ${message(err)}`);
    }
    setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");

    const currentReplicas = scale.spec?.replicas ?? 0;
    const minReplicas = spec.minReplicas ?? 1;
    const maxReplicas = spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let metricStatuses: MetricStatus[] = hpa.status?.currentMetrics ?? [];
    let rescale = true;

    if (currentReplicas === 0 && minReplicas !== 0) {
      // Scaled to zero by hand: autoscaling is off until someone scales it up.
      rescale = false;
      setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, namespace);
      metricStatuses = computed.statuses;
      if (computed.replicas === -1) {
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa);
        this.recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${computed.invalid} invalid out of ${spec.metrics?.length ?? 0}), first error is: ${computed.error}`);
        throw new Error(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${computed.error}`);
      }
      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) { desiredReplicas = computed.replicas; rescaleMetric = computed.metric; }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const normalized = this.history.normalize({
        key, current: currentReplicas, desired: desiredReplicas, min: minReplicas, max: maxReplicas, behavior: spec.behavior,
      });
      setCondition(hpa, 'AbleToScale', 'True', normalized.ableToScale.reason, normalized.ableToScale.message);
      setCondition(hpa, 'ScalingLimited', normalized.limited.status ? 'True' : 'False', normalized.limited.reason, normalized.limited.message);
      desiredReplicas = normalized.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.client.updateScale(res!, namespace, ref.name, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } });
      } catch (err) {
        this.recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${message(err)}`);
        setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${message(err)}`);
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa).catch(() => {});
        throw new Error(`failed to rescale ${reference}: ${message(err)}`);
      }
      setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.history.recordScale(key, spec.behavior, currentReplicas, desiredReplicas);
      this.log(`horizontal-pod-autoscaler: ${key}: ${reference} scaled from ${currentReplicas} to ${desiredReplicas} (${rescaleReason})`);
    }
    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
    await this.updateStatusIfNeeded(original, hpa);
  }

  /** computeReplicasForMetrics: the largest proposal over all metrics; -1 when none (or a scale-down with some) failed. */
  private async computeReplicasForMetrics(hpa: HorizontalPodAutoscaler, scale: Scale, namespace: string): Promise<{
    replicas: number; metric: string; statuses: MetricStatus[]; invalid: number; error?: string;
  }> {
    const specs = hpa.spec?.metrics ?? [];
    const selectorText = scale.status?.selector ?? '';
    let selector: Selector;
    if (!selectorText) {
      this.recorder.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: -1, metric: '', statuses: [], invalid: specs.length, error: 'selector is required' };
    }
    try {
      selector = parseLabelSelector(selectorText);
    } catch (err) {
      this.recorder.event(hpa, 'Warning', 'InvalidSelector', `couldn't convert selector into a corresponding internal selector object: ${message(err)}`);
      setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', `the HPA target's scale has an invalid selector: ${message(err)}`);
      return { replicas: -1, metric: '', statuses: [], invalid: specs.length, error: message(err) };
    }
    const specReplicas = scale.spec?.replicas ?? 0;
    const podList = this.pods.list(namespace, selector);
    const statuses: MetricStatus[] = specs.map((s) => ({ type: s.type }));
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let first: MetricsError | undefined;
    for (let i = 0; i < specs.length; i++) {
      try {
        const p = await this.computeReplicasForMetric(specs[i], specReplicas, podList, namespace, selectorText, statuses, i);
        if (replicas === 0 || p.replicas > replicas) { replicas = p.replicas; metric = p.metric; }
      } catch (err) {
        const e = err instanceof MetricsError ? err : new MetricsError(message(err), { reason: 'FailedGetResourceMetric', message: message(err) });
        if (!first) first = e;
        invalid++;
      }
    }
    if (invalid >= specs.length || (invalid > 0 && replicas < specReplicas)) {
      setCondition(hpa, 'ScalingActive', 'False', first!.condition.reason, first!.condition.message);
      this.recorder.event(hpa, 'Warning', first!.condition.reason, first!.message);
      return { replicas: -1, metric: '', statuses, invalid, error: first!.message };
    }
    setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses, invalid };
  }

  private async computeReplicasForMetric(
    spec: MetricSpec, currentReplicas: number, podList: Pod[], namespace: string, selector: string, statuses: MetricStatus[], i: number,
  ): Promise<{ replicas: number; metric: string }> {
    const source = spec.type === 'Resource' ? spec.resource : spec.type === 'ContainerResource' ? spec.containerResource : undefined;
    if (!source) {
      const reason = spec.type === 'Pods' ? 'FailedGetPodsMetric' : spec.type === 'Object' ? 'FailedGetObjectMetric' : spec.type === 'External' ? 'FailedGetExternalMetric' : 'InvalidMetricSourceType';
      const err = `unable to get metric of type ${spec.type}: no custom or external metrics API is served (only Resource and ContainerResource metrics)`;
      throw new MetricsError(err, { reason, message: `the HPA was unable to compute the replica count: ${err}` });
    }
    const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
    const name = source.name;
    const target = source.target;
    const failed = (reason: string, err: string, what: string) =>
      new MetricsError(`failed to get ${name} ${what}: ${err}`, { reason, message: `the HPA was unable to compute the replica count: ${err}` });
    const reason = spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
    const what = target.averageValue !== undefined ? 'usage' : 'utilization';
    if (target.averageValue === undefined && target.averageUtilization === undefined) {
      throw failed(reason, 'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set', what);
    }
    let metrics;
    try {
      metrics = await getResourceMetric(this.client, name, namespace, selector, container);
    } catch (err) {
      throw failed(reason, `unable to get metrics for resource ${name}: ${message(err)}`, what);
    }
    let proposal;
    try {
      proposal = resourceReplicas({
        currentReplicas, pods: podList, metrics, resource: name, container, opts: this.calc,
        ...(target.averageValue !== undefined
          ? { targetAverageMilli: quantityToMilli(String(target.averageValue)) }
          : { targetUtilization: target.averageUtilization }),
      });
    } catch (err) {
      if (!(err instanceof CalculationError)) throw err;
      throw failed(reason, message(err), what);
    }
    const current = {
      averageValue: milliQuantity(proposal.rawAverage),
      ...(proposal.utilization !== undefined ? { averageUtilization: proposal.utilization } : {}),
    };
    statuses[i] = spec.type === 'Resource'
      ? { type: 'Resource', resource: { name, current } }
      : { type: 'ContainerResource', containerResource: { name, container: container!, current } };
    const metric = target.averageValue !== undefined
      ? `${name} resource`
      : `${name} resource utilization (percentage of request)`;
    return { replicas: proposal.replicas, metric: spec.type === 'ContainerResource' ? metric.replace(' resource', ' container resource') : metric };
  }

  private setStatus(hpa: HorizontalPodAutoscaler, currentReplicas: number, desiredReplicas: number, metrics: MetricStatus[], rescale: boolean): void {
    hpa.status = {
      ...(hpa.status ?? { desiredReplicas: 0 }),
      observedGeneration: hpa.metadata?.generation,
      currentReplicas,
      desiredReplicas,
      currentMetrics: metrics.length ? metrics : undefined,
      ...(rescale ? { lastScaleTime: nowTimestamp() } : {}),
    };
  }

  private async updateStatusIfNeeded(original: HorizontalPodAutoscaler, hpa: HorizontalPodAutoscaler): Promise<void> {
    if (stableStringify(original.status) === stableStringify(hpa.status)) return;
    await this.client.updateStatus(horizontalpodautoscalers, hpa);
  }
}

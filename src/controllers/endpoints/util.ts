import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1';
import { isAlreadyExists, isConflict, type Informer, type Lister, type WorkQueue } from '../../client/index.js';
import { selectorFromSet } from '../../api/labels.js';
import { isPodReady } from '../util/pods.js';
import { stableStringify } from '../util/stable-json.js';

/** Upstream's `v1.IsHeadlessService` label, copied onto Endpoints and EndpointSlices. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** The Services in `pod`'s namespace whose selector matches its labels (selector-less ones never do). */
export function servicesSelecting(services: Lister<Service>, pod: Pod): string[] {
  const ns = pod.metadata?.namespace;
  const out: string[] = [];
  for (const svc of services.list(ns)) {
    const sel = svc.spec?.selector;
    if (!sel || Object.keys(sel).length === 0) continue;
    if (selectorFromSet(sel).matches(pod.metadata?.labels)) out.push(`${ns}/${svc.metadata?.name}`);
  }
  return out;
}

/**
 * Keys to enqueue for a pod change: every Service that selects the old or
 * the new labels, so a pod that stops matching leaves its old Service too.
 */
export function servicesForPodChange(services: Lister<Service>, old: Pod | undefined, pod: Pod): Set<string> {
  const keys = new Set(servicesSelecting(services, pod));
  if (old && stableStringify(old.metadata?.labels) !== stableStringify(pod.metadata?.labels)) {
    for (const k of servicesSelecting(services, old)) keys.add(k);
  }
  return keys;
}

/** Both endpoint controllers: a pod added, changed where it counts, or deleted enqueues the Services it touches. */
export function enqueueServicesOfPods(pods: Informer<Pod>, services: Lister<Service>, queue: WorkQueue<string>): void {
  const enqueue = (old: Pod | undefined, pod: Pod) => { for (const k of servicesForPodChange(services, old, pod)) queue.add(k); };
  pods.onAdd((pod) => enqueue(undefined, pod));
  pods.onUpdate((old, pod) => { if (podEndpointFingerprint(old) !== podEndpointFingerprint(pod)) enqueue(old, pod); });
  pods.onDelete((pod) => enqueue(undefined, pod));
}

/** What endpoints are computed from: a pod change elsewhere (a status heartbeat) enqueues nothing. */
export function podEndpointFingerprint(pod: Pod): string {
  return stableStringify({
    labels: pod.metadata?.labels, deletion: pod.metadata?.deletionTimestamp, ip: pod.status?.podIP, ips: pod.status?.podIPs,
    ready: isPodReady(pod), phase: pod.status?.phase, node: pod.spec?.nodeName, hostname: pod.spec?.hostname,
    subdomain: pod.spec?.subdomain, ports: pod.spec?.containers?.map((c) => c.ports),
  });
}

/** A Service the endpoint controllers manage: has a selector and is not ExternalName. */
export function hasSelector(svc: Service): svc is Service & { spec: { selector: Record<string, string> } } {
  return !!svc.spec?.selector && Object.keys(svc.spec.selector).length > 0 && svc.spec.type !== 'ExternalName';
}

/**
 * Upstream's `podutil.FindPort`: a numeric targetPort as is, a named one
 * from the container port of that name and protocol; undefined if none.
 */
export function findPort(pod: Pod, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = svcPort.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/**
 * Upstream's `endpointsliceutil.ShouldPodBeInEndpoints`: a pod with an IP
 * that can still serve; terminating ones only when asked for.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Never') return phase !== 'Failed' && phase !== 'Succeeded';
  if (policy === 'OnFailure') return phase !== 'Succeeded';
  // Always restarts, but a Failed or Succeeded pod (evicted, for one) never runs again.
  return phase !== 'Failed' && phase !== 'Succeeded';
}

/** Errors retried by the queue without a log line: a cache one event behind. */
export function syncErrorLogger(component: string, log: (m: string) => void): (key: string, err: unknown) => void {
  return (key, err) => {
    if (isConflict(err) || isAlreadyExists(err) || err instanceof StaleCacheError) return;
    log(`${component}: sync ${key}: ${err instanceof Error ? err.message : String(err)}`);
  };
}

/** The informer has not yet seen this controller's own last writes: acting now would duplicate them. */
export class StaleCacheError extends Error {}

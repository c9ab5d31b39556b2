import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1';
import {
  WorkQueue, endpoints, isAlreadyExists, isNotFound, keyOf, pods, services, splitKey,
  type Client, type InformerFactory, type Lister,
} from '../../client/index.js';
import { selectorFromSet } from '../../api/labels.js';
import { isPodReady } from '../util/pods.js';
import { stableStringify } from '../util/stable-json.js';
import {
  HEADLESS_LABEL, findPort, hasSelector, enqueueServicesOfPods, shouldPodBeInEndpoints, syncErrorLogger,
} from './util.js';

/** Upstream's `maxCapacity`: an Endpoints object holds at most this many addresses. */
export const MAX_CAPACITY = 1000;
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** Endpoints that carry it are a leader-election lock, not a Service's endpoints. */
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

export interface EndpointsControllerOptions {
  /** upstream's --concurrent-endpoint-syncs. */
  workers?: number;
  log?: (m: string) => void;
}

/**
 * Upstream's endpoint controller (`pkg/controller/endpoint`): for every
 * Service with a selector, an Endpoints object of the same name listing the
 * selected pods' addresses, ready and not, grouped by their resolved ports.
 */
export class EndpointsController {
  private readonly queue: WorkQueue<string>;
  private readonly services: Lister<Service>;
  private readonly pods: Lister<Pod>;
  private readonly endpoints: Lister<Endpoints>;
  private readonly workers: number;

  constructor(private readonly client: Client, informers: InformerFactory, opts: EndpointsControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
    const log = opts.log ?? ((m: string) => console.error(m));
    this.queue = new WorkQueue<string>({ name: 'endpoint', onError: syncErrorLogger('endpoint-controller', log) });
    const serviceInformer = informers.for(services);
    const podInformer = informers.for(pods);
    const endpointsInformer = informers.for(endpoints);
    this.services = serviceInformer.lister();
    this.pods = podInformer.lister();
    this.endpoints = endpointsInformer.lister();

    serviceInformer.onChange((svc) => this.queue.add(keyOf(svc)));
    enqueueServicesOfPods(podInformer, this.services, this.queue);
    // Someone deleted ours: put it back.
    endpointsInformer.onDelete((ep) => this.queue.add(keyOf(ep)));
  }

  /** Call once the informers have synced. */
  run(signal: AbortSignal): Promise<void> {
    // Upstream's checkLeftoverEndpoints: a Service deleted while no controller ran leaves its Endpoints behind.
    for (const ep of this.endpoints.list()) {
      if (!this.services.get(keyOf(ep)) && !ep.metadata?.annotations?.[LEADER_ANNOTATION]) this.queue.add(keyOf(ep));
    }
    return this.queue.process(this.workers, (key) => this.sync(key), signal);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(key);
    if (!svc) {
      const ep = this.endpoints.get(key);
      if (ep?.metadata?.annotations?.[LEADER_ANNOTATION]) return;
      try {
        await this.client.delete(endpoints, namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    // Selector-less: the user's Endpoints are the truth.
    if (!hasSelector(svc)) return;

    const { subsets, truncated } = computeSubsets(svc, this.pods.list(namespace, selectorFromSet(svc.spec.selector)));
    const current = this.endpoints.get(key);
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (svc.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
    else delete labels[HEADLESS_LABEL];
    const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
    if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    else delete annotations[OVER_CAPACITY_ANNOTATION];

    if (current
      && stableStringify(current.subsets ?? []) === stableStringify(subsets)
      && stableStringify(current.metadata?.labels ?? {}) === stableStringify(labels)
      && stableStringify(current.metadata?.annotations ?? {}) === stableStringify(annotations)) return;

    const desired: Endpoints = {
      apiVersion: 'v1', kind: 'Endpoints',
      metadata: {
        ...(current?.metadata ?? {}), name, namespace, labels,
        ...(Object.keys(annotations).length ? { annotations } : { annotations: undefined }),
      },
      subsets,
    };
    if (!current) {
      try {
        await this.client.create(endpoints, desired);
      } catch (err) {
        // Made by someone else (or us, not yet in the cache): the next sync updates it.
        if (isAlreadyExists(err)) { this.queue.addAfter(key, 100); return; }
        throw err;
      }
      return;
    }
    // A conflict means the cache is behind: thrown, and the queue retries.
    await this.client.update(endpoints, desired);
  }
}

interface AddressEntry { address: EndpointAddress; ready: boolean; ports: EndpointPort[] }

/**
 * Upstream's syncService loop plus `endpoints.RepackSubsets`: one address
 * per pod, addresses grouped by the exact set of ports they resolve to.
 */
export function computeSubsets(svc: Service, candidates: Pod[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const entries: AddressEntry[] = [];
  for (const pod of candidates) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const address: EndpointAddress = {
      ip: pod.status!.podIP!,
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
    };
    if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace) address.hostname = pod.spec.hostname;
    const ready = tolerateUnready || isPodReady(pod);
    const svcPorts = svc.spec?.ports ?? [];
    const ports: EndpointPort[] = [];
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      // Upstream logs and leaves the port out for this pod only.
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    // A Service with ports none of which this pod resolves: nothing to reach it on.
    if (svcPorts.length > 0 && ports.length === 0) continue;
    entries.push({ address, ready, ports: ports.sort(comparePorts) });
  }

  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const e of entries) {
    const k = stableStringify(e.ports);
    let g = groups.get(k);
    if (!g) { g = { ports: e.ports, ready: [], notReady: [] }; groups.set(k, g); }
    (e.ready ? g.ready : g.notReady).push(e.address);
  }
  const ordered = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
  for (const g of ordered) { g.ready.sort(compareAddresses); g.notReady.sort(compareAddresses); }
  const truncated = truncate(ordered);
  const subsets: EndpointSubset[] = ordered
    .filter((g) => g.ready.length + g.notReady.length > 0)
    .map((g) => ({
      ...(g.ready.length ? { addresses: g.ready } : {}),
      ...(g.notReady.length ? { notReadyAddresses: g.notReady } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }));
  return { subsets, truncated };
}

/**
 * Upstream's `truncateEndpoints`: ready addresses are kept first; each
 * subset gives up its share of the excess in proportion to its size.
 */
function truncate(groups: Array<{ ready: EndpointAddress[]; notReady: EndpointAddress[] }>): boolean {
  const totalReady = groups.reduce((n, g) => n + g.ready.length, 0);
  const totalNotReady = groups.reduce((n, g) => n + g.notReady.length, 0);
  if (totalReady + totalNotReady <= MAX_CAPACITY) return false;
  const pick = (lists: EndpointAddress[][], budget: number): void => {
    const total = lists.reduce((n, l) => n + l.length, 0);
    let left = budget;
    lists.forEach((l, i) => {
      const keep = i === lists.length - 1 ? Math.min(l.length, left) : Math.min(l.length, Math.floor((l.length * budget) / total), left);
      l.length = keep;
      left -= keep;
    });
  };
  if (totalReady >= MAX_CAPACITY) {
    pick(groups.map((g) => g.ready), MAX_CAPACITY);
    for (const g of groups) g.notReady.length = 0;
  } else {
    pick(groups.map((g) => g.notReady), MAX_CAPACITY - totalReady);
  }
  return true;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  const an = a.name ?? '';
  const bn = b.name ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  return a.port - b.port;
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  const ak = `${a.ip}/${a.targetRef?.uid ?? ''}`;
  const bk = `${b.ip}/${b.targetRef?.uid ?? ''}`;
  return ak < bk ? -1 : ak > bk ? 1 : 0;
}

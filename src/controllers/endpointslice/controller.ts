import type { Node, Pod, Service } from 'kubernetes-types/core/v1';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { OwnerReference } from 'kubernetes-types/meta/v1';
import {
  WorkQueue, endpointslices, isNotFound, keyOf, nodes, pods, services, splitKey,
  type Client, type InformerFactory, type Lister,
} from '../../client/index.js';
import { selectorFromSet } from '../../api/labels.js';
import { isPodReady } from '../util/pods.js';
import { stableStringify } from '../util/stable-json.js';
import {
  HEADLESS_LABEL, StaleCacheError, findPort, hasSelector, enqueueServicesOfPods, servicesForPodChange, shouldPodBeInEndpoints, syncErrorLogger,
} from '../endpoints/util.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** Upstream's --max-endpoints-per-slice default. */
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;
const SERVICE_INDEX = 'bosun.controllers/endpointslice-service';

export interface EndpointSliceControllerOptions {
  /** upstream's --max-endpoints-per-slice (1–1000). */
  maxEndpointsPerSlice?: number;
  /** upstream's --concurrent-service-endpoint-syncs. */
  workers?: number;
  log?: (m: string) => void;
}

/**
 * Upstream's EndpointSlice controller (`pkg/controller/endpointslice`): for
 * every Service with a selector, IPv4 EndpointSlices of at most
 * maxEndpointsPerSlice endpoints, one set of slices per distinct set of
 * resolved ports, changed minimally on each sync.
 */
export class EndpointSliceController {
  private readonly queue: WorkQueue<string>;
  private readonly services: Lister<Service>;
  private readonly pods: Lister<Pod>;
  private readonly nodes: Lister<Node>;
  private readonly slices: Lister<EndpointSlice>;
  private readonly maxPerSlice: number;
  private readonly workers: number;
  /**
   * Upstream's endpointSliceTracker: what this controller last wrote per
   * slice (a resourceVersion, or 'deleted'), per Service. Until the cache
   * shows it, a sync would work from a past that would duplicate slices.
   */
  private readonly written = new Map<string, Map<string, string>>();

  constructor(private readonly client: Client, informers: InformerFactory, opts: EndpointSliceControllerOptions = {}) {
    this.maxPerSlice = opts.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
    this.workers = opts.workers ?? 5;
    const log = opts.log ?? ((m: string) => console.error(m));
    this.queue = new WorkQueue<string>({ name: 'endpointslice', onError: syncErrorLogger('endpointslice-controller', log) });
    const serviceInformer = informers.for(services);
    const podInformer = informers.for(pods);
    const nodeInformer = informers.for(nodes);
    const sliceInformer = informers.for(endpointslices);
    sliceInformer.addIndex(SERVICE_INDEX, (s) => {
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      return svc && s.metadata?.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME ? [`${s.metadata?.namespace}/${svc}`] : [];
    });
    this.services = serviceInformer.lister();
    this.pods = podInformer.lister();
    this.nodes = nodeInformer.lister();
    this.slices = sliceInformer.lister();

    serviceInformer.onChange((svc) => this.queue.add(keyOf(svc)));
    enqueueServicesOfPods(podInformer, this.services, this.queue);
    nodeInformer.onUpdate((old, node) => {
      // A zone is copied into every endpoint on the node.
      if (old.metadata?.labels?.[ZONE_LABEL] === node.metadata?.labels?.[ZONE_LABEL]) return;
      const keys = new Set<string>();
      for (const pod of this.pods.list()) if (pod.spec?.nodeName === node.metadata?.name) for (const k of servicesForPodChange(this.services, undefined, pod)) keys.add(k);
      for (const k of keys) this.queue.add(k);
    });
    // Any change to a slice of ours by someone else is undone by a sync.
    sliceInformer.onChange((s, type) => {
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (!svc || s.metadata?.labels?.[LABEL_MANAGED_BY] !== CONTROLLER_NAME) return;
      const key = `${s.metadata?.namespace}/${svc}`;
      // Deleted by someone else after our write: the cache will never show that write.
      if (type === 'delete') this.written.get(key)?.delete(s.metadata!.name!);
      this.queue.add(key);
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.queue.process(this.workers, (key) => this.sync(key), signal);
  }

  async sync(key: string): Promise<void> {
    this.checkTracker(key);
    const { namespace } = splitKey(key);
    const existing = this.slices.byIndex(SERVICE_INDEX, key);
    const svc = this.services.get(key);
    if (!svc) {
      // Upstream deletes them itself rather than wait for the garbage collector.
      await Promise.all(existing.map((s) => this.deleteSlice(key, s)));
      this.written.delete(key);
      return;
    }
    if (!hasSelector(svc)) return;

    const desired = this.desiredEndpoints(svc, this.pods.list(namespace, selectorFromSet(svc.spec.selector)));
    await this.reconcile(key, svc, desired, existing);
  }

  /** Throws (to be retried) while the cache lacks this controller's own last writes for `key`. */
  private checkTracker(key: string): void {
    const w = this.written.get(key);
    if (!w) return;
    for (const [name, rv] of w) {
      const cached = this.slices.get(`${splitKey(key).namespace}/${name}`);
      if (rv === 'deleted' ? cached : !cached || olderThan(cached.metadata?.resourceVersion, rv)) {
        throw new StaleCacheError(`endpoint slice ${name} not yet seen as written`);
      }
      w.delete(name);
    }
    if (w.size === 0) this.written.delete(key);
  }

  private track(key: string, name: string, rv: string): void {
    let w = this.written.get(key);
    if (!w) { w = new Map(); this.written.set(key, w); }
    w.set(name, rv);
  }

  /** Endpoints grouped by their resolved ports (stable JSON of the sorted ports). */
  private desiredEndpoints(svc: Service, candidates: Pod[]): Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }> {
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    const out = new Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
    for (const pod of candidates) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ips = (pod.status?.podIPs?.map((p) => p.ip ?? '') ?? [pod.status!.podIP!]).filter((ip) => ip.includes('.'));
      if (ips.length === 0) continue;
      const svcPorts = svc.spec?.ports ?? [];
      const ports: EndpointPort[] = [];
      for (const sp of svcPorts) {
        const port = findPort(pod, sp);
        if (port === undefined) continue;
        ports.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
      }
      ports.sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : (a.port ?? 0) - (b.port ?? 0)));
      const serving = publishNotReady || isPodReady(pod);
      const terminating = !!pod.metadata?.deletionTimestamp;
      const nodeName = pod.spec?.nodeName;
      const zone = nodeName ? this.nodes.get(nodeName)?.metadata?.labels?.[ZONE_LABEL] : undefined;
      const ep: Endpoint = {
        addresses: [ips[0]!],
        conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
        ...(pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name ? { hostname: pod.spec.hostname } : {}),
        ...(nodeName ? { nodeName } : {}),
        ...(zone ? { zone } : {}),
        targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
      };
      const k = stableStringify(ports);
      let g = out.get(k);
      if (!g) { g = { ports, endpoints: new Map() }; out.set(k, g); }
      g.endpoints.set(endpointKey(ep), ep);
    }
    return out;
  }

  /**
   * Upstream's reconciler, simplified: per port set, keep each slice's
   * endpoints that are still wanted (updated in place), fill the slices
   * already being written, then new slices; delete slices left empty and
   * slices of port sets no longer wanted. With no endpoints at all one
   * empty placeholder slice stays, as upstream.
   */
  private async reconcile(key: string, svc: Service, desired: Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>, existing: EndpointSlice[]): Promise<void> {
    const toCreate: EndpointSlice[] = [];
    const toUpdate: EndpointSlice[] = [];
    const toDelete: EndpointSlice[] = [];
    const labels = this.sliceLabels(svc);
    const owner = ownerRef(svc);

    const byPorts = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      if ((s.addressType ?? 'IPv4') !== 'IPv4') { toDelete.push(s); continue; }
      const k = stableStringify(sortPorts(s.ports ?? []));
      byPorts.set(k, [...(byPorts.get(k) ?? []), s]);
    }

    if (desired.size === 0) {
      const placeholder = existing.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0 && (s.addressType ?? 'IPv4') === 'IPv4');
      for (const s of existing) if (s !== placeholder && !toDelete.includes(s)) toDelete.push(s);
      if (placeholder) {
        if (this.metaChanged(placeholder, labels, owner)) toUpdate.push({ ...placeholder, metadata: { ...placeholder.metadata, labels, ownerReferences: [owner] } });
      } else {
        toCreate.push(this.newSlice(svc, labels, owner, [], []));
      }
    } else {
      for (const [k, slices] of byPorts) if (!desired.has(k)) toDelete.push(...slices);
      for (const [k, { ports, endpoints: wanted }] of desired) {
        const remaining = new Map(wanted);
        const updating: EndpointSlice[] = [];
        const unchanged: EndpointSlice[] = [];
        for (const s of byPorts.get(k) ?? []) {
          const kept: Endpoint[] = [];
          let changed = false;
          for (const ep of s.endpoints ?? []) {
            const ek = endpointKey(ep);
            const want = remaining.get(ek);
            // Not wanted, or already placed in an earlier slice (a duplicate).
            if (!want) { changed = true; continue; }
            remaining.delete(ek);
            if (stableStringify(want) !== stableStringify(ep)) changed = true;
            kept.push(want);
          }
          if (kept.length > this.maxPerSlice) { for (const ep of kept.splice(this.maxPerSlice)) remaining.set(endpointKey(ep), ep); changed = true; }
          if (kept.length === 0) { toDelete.push(s); continue; }
          if (changed || this.metaChanged(s, labels, owner)) updating.push({ ...s, metadata: { ...s.metadata, labels, ownerReferences: [owner] }, endpoints: kept });
          else unchanged.push(s);
        }
        // New endpoints go first into slices written anyway, fullest first.
        const left = [...remaining.values()];
        updating.sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
        for (const s of updating) {
          const room = this.maxPerSlice - (s.endpoints?.length ?? 0);
          if (room > 0 && left.length) s.endpoints = [...(s.endpoints ?? []), ...left.splice(0, room)];
        }
        // Whole new slices, then a last partial one into the fullest unchanged slice it fits in.
        while (left.length >= this.maxPerSlice) toCreate.push(this.newSlice(svc, labels, owner, ports, left.splice(0, this.maxPerSlice)));
        if (left.length) {
          const fit = unchanged
            .filter((s) => (s.endpoints?.length ?? 0) + left.length <= this.maxPerSlice)
            .sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0))[0];
          if (fit) updating.push({ ...fit, endpoints: [...(fit.endpoints ?? []), ...left.splice(0)] });
          else toCreate.push(this.newSlice(svc, labels, owner, ports, left.splice(0)));
        }
        toUpdate.push(...updating);
      }
    }

    // Creates before deletes, so a watcher never sees the Service without endpoints in between.
    for (const s of toCreate) {
      const created = await this.client.create(endpointslices, s);
      this.track(key, created.metadata!.name!, created.metadata!.resourceVersion!);
    }
    for (const s of toUpdate) {
      const updated = await this.client.update(endpointslices, s);
      this.track(key, updated.metadata!.name!, updated.metadata!.resourceVersion!);
    }
    for (const s of toDelete) await this.deleteSlice(key, s);
  }

  private async deleteSlice(key: string, s: EndpointSlice): Promise<void> {
    try {
      await this.client.delete(endpointslices, s.metadata?.namespace, s.metadata!.name!, { preconditions: { uid: s.metadata?.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.track(key, s.metadata!.name!, 'deleted');
  }

  private sliceLabels(svc: Service): Record<string, string> {
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
    else delete labels[HEADLESS_LABEL];
    labels[LABEL_SERVICE_NAME] = svc.metadata!.name!;
    labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
    return labels;
  }

  private metaChanged(s: EndpointSlice, labels: Record<string, string>, owner: OwnerReference): boolean {
    return stableStringify(s.metadata?.labels ?? {}) !== stableStringify(labels)
      || stableStringify(s.metadata?.ownerReferences ?? []) !== stableStringify([owner]);
  }

  private newSlice(svc: Service, labels: Record<string, string>, owner: OwnerReference, ports: EndpointPort[], eps: Endpoint[]): EndpointSlice {
    return {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { generateName: `${svc.metadata!.name}-`, namespace: svc.metadata?.namespace, labels, ownerReferences: [owner] },
      addressType: 'IPv4',
      endpoints: eps,
      ports,
    };
  }
}

function ownerRef(svc: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata!.name!, uid: svc.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** One endpoint per pod (upstream keys by addresses and targetRef). */
function endpointKey(ep: Endpoint): string {
  return `${ep.targetRef?.uid ?? ''}/${ep.addresses.join(',')}`;
}

function sortPorts(ports: EndpointPort[]): EndpointPort[] {
  return ports
    .map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.port ?? 0) - (b.port ?? 0)));
}

/** resourceVersions are the store's revision numbers here; anything else is treated as current. */
function olderThan(cached: string | undefined, written: string): boolean {
  if (!cached || !/^\d+$/.test(cached) || !/^\d+$/.test(written)) return false;
  return BigInt(cached) < BigInt(written);
}

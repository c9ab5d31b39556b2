import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { methodNotAllowed, notFound, pathNotFound } from '../api/status.js';
import { parseLabelSelector } from '../api/labels.js';
import { parseFieldSelector } from '../api/fields.js';
import { formatQuantity, quantityToNumber } from '../api/validation/quantity.js';
import type { ResourceDefinition } from '../apiserver/resources.js';
import type { RequestInfo } from '../apiserver/request-info.js';
import { negotiate, writeJson } from '../apiserver/http.js';
import type { MetricsStore, NodePoint, PodPoint, Usage } from './store.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** What metrics-server registers behind its APIService: read-only NodeMetrics and PodMetrics. */
export const METRICS_RESOURCES: ResourceDefinition[] = [
  { group: METRICS_GROUP, version: METRICS_VERSION, resource: 'nodes', singular: '', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] },
  { group: METRICS_GROUP, version: METRICS_VERSION, resource: 'pods', singular: '', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] },
];

/** The objects the metrics are joined with, read from the API server's own caches. */
export interface MetricsSources {
  store: MetricsStore;
  listNodes(): Node[];
  /** Every namespace when `namespace` is undefined. */
  listPods(namespace?: string): Pod[];
}

/** RFC 3339 at whole seconds, as metav1.Time serialises. */
const time = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A Go `time.Duration` string: 15s, 1.5s, 500ms, 1m0s. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Number((s - m * 60).toFixed(3))}s`;
}

/** cpu as metrics-server writes it: nanocores in their canonical form (`250m`, `1234567n`); memory in bytes, binary (`64Mi`, `1234Ki`). */
export function usageList(u: Usage): { cpu: string; memory: string } {
  return {
    cpu: formatQuantity({ unscaled: BigInt(Math.round(u.cpuNanoCores)), scale: -9, format: 'DecimalSI' }),
    memory: formatQuantity({ unscaled: BigInt(Math.round(u.memoryBytes)), scale: 0, format: 'BinarySI' }),
  };
}

export function nodeMetrics(node: Node, p: NodePoint, now = Date.now()) {
  return {
    kind: 'NodeMetrics', apiVersion: API_VERSION,
    metadata: { name: p.name, creationTimestamp: time(now), ...(node.metadata?.labels ? { labels: node.metadata.labels } : {}) },
    timestamp: time(p.timestamp), window: goDuration(p.windowMs),
    usage: usageList(p),
  };
}

export function podMetrics(pod: Pod, p: PodPoint, now = Date.now()) {
  return {
    kind: 'PodMetrics', apiVersion: API_VERSION,
    metadata: {
      name: p.name, namespace: p.namespace, creationTimestamp: time(now),
      ...(pod.metadata?.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: time(p.timestamp), window: goDuration(p.windowMs),
    containers: p.containers.map((c) => ({ name: c.name, usage: usageList(c) })),
  };
}

type MetricsObject = ReturnType<typeof nodeMetrics> | ReturnType<typeof podMetrics>;
interface MetricsList { kind: string; apiVersion: string; metadata: object; items: MetricsObject[] }

/** `kubectl get podmetrics`: metrics-server's Table (Name, CPU, Memory, Window), a pod's containers summed. */
function asTable(body: MetricsObject | MetricsList) {
  const items = 'items' in body ? body.items : [body];
  const column = (name: string, description: string, format = '') => ({ name, type: 'string', format, description, priority: 0 });
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {},
    columnDefinitions: [
      column('Name', 'Name of the resource', 'name'), column('CPU', 'CPU usage'),
      column('Memory', 'Memory usage'), column('Window', 'Interval the usage was averaged over'),
    ],
    rows: items.map((m) => {
      const usage = 'usage' in m ? m.usage : usageList((m.containers ?? []).reduce(
        (sum, c) => ({ cpuNanoCores: sum.cpuNanoCores + quantityToNumber(c.usage.cpu) * 1e9, memoryBytes: sum.memoryBytes + quantityToNumber(c.usage.memory) }),
        { cpuNanoCores: 0, memoryBytes: 0 }));
      return {
        cells: [m.metadata.name, usage.cpu, usage.memory, m.window],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: m.metadata },
      };
    }),
  };
}

const nodesResource = { group: METRICS_GROUP, resource: 'nodes' };
const podsResource = { group: METRICS_GROUP, resource: 'pods' };

/**
 * `/apis/metrics.k8s.io/v1beta1/...`, as metrics-server answers it: the
 * scraper's latest points joined with the Node and Pod objects they belong
 * to (labels, selectors). An object with no point is 404 on GET and absent
 * from lists, as with metrics-server.
 */
export class MetricsApi {
  constructor(private readonly sources: MetricsSources) {}

  /** Throws StatusError for anything it does not serve. */
  serve(req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL): void {
    if (info.version !== METRICS_VERSION) throw pathNotFound();
    if (info.subresource) throw pathNotFound();
    if (info.verb !== 'get' && info.verb !== 'list') throw methodNotAllowed();
    const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '');
    const { store } = this.sources;
    const now = Date.now();
    const send = (code: number, body: MetricsObject | MetricsList) => writeJson(res, code, negotiate(req.headers.accept).table ? asTable(body) : body);

    if (info.resource === 'nodes' && !info.namespace) {
      if (info.name) {
        const node = this.sources.listNodes().find((n) => n.metadata?.name === info.name);
        const p = store.node(info.name);
        if (!node || !p) throw notFound(nodesResource, info.name);
        return send(200, nodeMetrics(node, p, now));
      }
      const items = this.sources.listNodes()
        .filter((n) => labels.matches(n.metadata?.labels) && fields.matches({ 'metadata.name': n.metadata?.name ?? '' }))
        .flatMap((n) => { const p = store.node(n.metadata?.name ?? ''); return p ? [nodeMetrics(n, p, now)] : []; });
      return send(200, { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items });
    }
    if (info.resource === 'pods') {
      if (info.name) {
        const ns = info.namespace ?? 'default';
        const pod = this.sources.listPods(ns).find((p) => p.metadata?.name === info.name);
        const p = store.pod(ns, info.name);
        if (!pod || !p || (pod.metadata?.uid && p.uid && pod.metadata.uid !== p.uid)) throw notFound(podsResource, info.name);
        return send(200, podMetrics(pod, p, now));
      }
      const items = this.sources.listPods(info.namespace)
        .filter((pod) => labels.matches(pod.metadata?.labels)
          && fields.matches({ 'metadata.name': pod.metadata?.name ?? '', 'metadata.namespace': pod.metadata?.namespace ?? '' }))
        .flatMap((pod) => {
          const p = store.pod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
          // A point from an earlier pod of the same name is not this pod's.
          return p && (!p.uid || p.uid === pod.metadata?.uid) ? [podMetrics(pod, p, now)] : [];
        });
      return send(200, { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items });
    }
    throw pathNotFound();
  }
}

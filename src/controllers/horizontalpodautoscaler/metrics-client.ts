import type { Client } from '../../client/index.js';
import { quantityToMilli, tryParseQuantity } from '../../api/validation/quantity.js';
import type { PodMetricsInfo } from './replica-calculator.js';

/** The PodMetrics fields the controller reads (metrics.k8s.io/v1beta1). */
interface PodMetricsList {
  items?: Array<{
    metadata?: { name?: string };
    timestamp?: string;
    window?: string;
    containers?: Array<{ name: string; usage?: Record<string, string> }>;
  }>;
}

/** A Go duration as metrics-server writes the window (`15s`, `1.5s`, `500ms`, `1m0s`) → ms. */
export function parseGoDuration(text: string | undefined): number {
  let total = 0;
  for (const m of (text ?? '').matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    const v = Number(m[1]);
    total += m[2] === 'h' ? v * 3_600_000 : m[2] === 'm' ? v * 60_000 : m[2] === 's' ? v * 1000 : m[2] === 'ms' ? v : 0;
  }
  return total;
}

/**
 * Upstream's resource metrics client: lists PodMetrics of the pods the
 * selector picks, through the API (metrics.k8s.io), and sums each pod's
 * containers' usage of `resource` in milli-units. A pod with a container
 * lacking the resource is left out, as upstream does.
 */
export async function getResourceMetric(client: Client, resource: string, namespace: string, selector: string, container?: string, signal?: AbortSignal): Promise<PodMetricsInfo> {
  const list = await client.request({
    method: 'GET',
    path: `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`,
    query: new URLSearchParams(selector ? { labelSelector: selector } : {}),
    signal,
  }) as PodMetricsList;
  const items = list?.items ?? [];
  if (items.length === 0) throw new Error('no metrics returned from resource metrics API');
  const out: PodMetricsInfo = new Map();
  for (const m of items) {
    let sum = 0;
    let missing = false;
    let found = false;
    for (const c of m.containers ?? []) {
      if (container && c.name !== container) continue;
      const q = c.usage?.[resource] !== undefined ? tryParseQuantity(c.usage[resource]) : undefined;
      if (!q) { missing = true; break; }
      sum += quantityToMilli(q);
      found = true;
    }
    if (missing || !found || !m.metadata?.name) continue;
    const ts = m.timestamp ? Date.parse(m.timestamp) : NaN;
    out.set(m.metadata.name, { value: sum, timestamp: Number.isFinite(ts) ? ts : Date.now(), windowMs: parseGoDuration(m.window) });
  }
  return out;
}

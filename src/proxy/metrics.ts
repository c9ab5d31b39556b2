/** The proxy's Prometheus metrics, upstream kube-proxy's names; registering twice in one registry reuses the first set. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ProxyMetrics {
  syncDuration: Histogram<string>;
  syncFullDuration: Histogram<string>;
  syncPartialDuration: Histogram<string>;
  lastSyncTimestamp: Gauge<string>;
  restoreFailures: Counter<string>;
  rulesTotal: Gauge<'table'>;
}

const byRegistry = new WeakMap<Registry, ProxyMetrics>();

function getOr<T>(registry: Registry, name: string, make: () => T): T {
  const existing = registry.getSingleMetric(name);
  return existing ? existing as unknown as T : make();
}

export function proxyMetrics(registry: Registry): ProxyMetrics {
  const cached = byRegistry.get(registry);
  if (cached) return cached;
  const registers = [registry];
  // Upstream's buckets: 1 ms doubling to about 16 s.
  const buckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
  const histogram = (name: string, help: string) => getOr(registry, name, () => new Histogram({ name, help, buckets, registers }));
  const m: ProxyMetrics = {
    syncDuration: histogram('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds'),
    syncFullDuration: histogram('kubeproxy_sync_full_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for full resyncs'),
    syncPartialDuration: histogram('kubeproxy_sync_partial_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for partial resyncs'),
    lastSyncTimestamp: getOr(registry, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', () => new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', registers,
    })),
    restoreFailures: getOr(registry, 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', () => new Counter({
      name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', help: 'Cumulative proxy iptables restore failures', registers,
    })),
    rulesTotal: getOr(registry, 'kubeproxy_sync_proxy_rules_iptables_total', () => new Gauge({
      name: 'kubeproxy_sync_proxy_rules_iptables_total', help: 'Total number of iptables rules owned by kube-proxy', labelNames: ['table'], registers,
    })),
  };
  byRegistry.set(registry, m);
  return m;
}

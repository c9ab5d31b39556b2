import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';

/** The API server's Prometheus metrics, with upstream's metric names where one exists. */
export class ApiServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'apiserver_request_total', help: 'Counter of apiserver requests broken out by verb, group, resource and HTTP response code.',
    labelNames: ['verb', 'group', 'resource', 'subresource', 'code'] as const, registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds', help: 'Response latency distribution in seconds for each verb, group and resource.',
    labelNames: ['verb', 'group', 'resource', 'subresource'] as const, registers: [this.registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 5, 10, 30, 60],
  });
  readonly watchers = new Gauge({
    name: 'apiserver_longrunning_requests', help: 'Gauge of all active long-running apiserver requests (watches).',
    labelNames: ['verb', 'group', 'resource'] as const, registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

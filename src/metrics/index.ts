/**
 * Resource metrics, as metrics-server provides them: a scraper of the
 * kubelets' Summary API and the read-only `metrics.k8s.io/v1beta1` API
 * that `kubectl top` and the HorizontalPodAutoscaler read.
 */
export * from './summary.js';
export * from './store.js';
export * from './kubelet-address.js';
export * from './scraper.js';
export * from './api.js';

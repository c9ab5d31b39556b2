/**
 * Hollow nodes: fake nodes and a fake kubelet (as KWOK) so the scheduler and
 * controllers can be tested and benchmarked at thousands of nodes without
 * root. Nothing here runs a container or sends a packet to a pod IP.
 */
export * from './hollow-cluster.js';
export * from './connect.js';
export * from './node-spec.js';
export * from './pod-status.js';
export * from './kubelet-api.js';

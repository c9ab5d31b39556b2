/**
 * Cluster DNS: the `cluster.local` zone from Services and EndpointSlices,
 * served by every node agent on its pod-bridge gateway, and the `kube-dns`
 * Service (10.43.0.10) whose per-node endpoints point at those servers.
 */
export * from './server.js';
export * from './kube-dns-service.js';
export * from './records.js';
export * from './zone.js';
export { Forwarder, parseUpstream, upstreamsFromResolvConf, type Upstream } from './forwarder.js';

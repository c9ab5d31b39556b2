import type { Node, Service, ServicePort } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { endpointslices, isNotFound, nodes, services, ApiError, type Client } from '../client/index.js';

export const KUBE_DNS_NAMESPACE = 'kube-system';
export const KUBE_DNS_NAME = 'kube-dns';
/** The service CIDR's tenth address, as k3s and kubeadm put it. */
export const DEFAULT_CLUSTER_DNS_IP = '10.43.0.10';
/** Who writes the per-node EndpointSlices of kube-dns. */
export const DNS_ENDPOINT_MANAGER = 'bosun-agent';
const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

export const KUBE_DNS_PORTS: ServicePort[] = [
  { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
  { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
  { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
];

const isConflict = (err: unknown) => err instanceof ApiError && err.code === 409;

const samePorts = (a: ServicePort[] | undefined, b: ServicePort[]) =>
  (a ?? []).length === b.length && b.every((p) => (a ?? []).some((q) => q.name === p.name && q.port === p.port && (q.protocol ?? 'TCP') === p.protocol));

/**
 * The `kube-dns` Service in `kube-system`, as the upstream DNS add-on
 * installs it, at `clusterIP` — but with no selector: no pod serves it.
 * Every node's agent answers DNS itself and adds its own address through
 * an EndpointSlice (`registerDnsEndpoint`).
 *
 * Idempotent and safe for several servers at once: an existing Service is
 * kept (its ports are put right), a create that loses a race reads the
 * winner's. A Service already at another address is left alone, with a
 * warning, since a cluster IP cannot change.
 */
export async function ensureKubeDnsService(
  client: Client, opts: { clusterIP?: string; log?: (m: string) => void } = {},
): Promise<Service> {
  const clusterIP = opts.clusterIP ?? DEFAULT_CLUSTER_DNS_IP;
  const log = opts.log ?? (() => {});
  const wanted: Service = {
    apiVersion: 'v1', kind: 'Service',
    metadata: {
      name: KUBE_DNS_NAME, namespace: KUBE_DNS_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'bosun-dns' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ipFamilies: ['IPv4'], sessionAffinity: 'None', ports: KUBE_DNS_PORTS,
      // Every node answers DNS itself: a pod's queries stay on its node, and a dead node's endpoint cannot swallow them.
      internalTrafficPolicy: 'Local',
    },
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    let current: Service | undefined;
    try {
      current = await client.get(services, KUBE_DNS_NAMESPACE, KUBE_DNS_NAME);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!current) {
      try {
        const created = await client.create(services, wanted);
        log(`created service ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_NAME} at ${clusterIP}`);
        return created;
      } catch (err) {
        if (isConflict(err)) continue; // someone else created it: read theirs
        throw err;
      }
    }
    if (current.spec?.clusterIP !== clusterIP) {
      log(`service ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_NAME} exists at ${current.spec?.clusterIP}, not ${clusterIP}; keeping it`);
    }
    if (samePorts(current.spec?.ports, KUBE_DNS_PORTS)) return current;
    try {
      return await client.update(services, { ...current, spec: { ...current.spec, ports: KUBE_DNS_PORTS } });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  throw new Error(`dns: could not settle service ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_NAME} after 5 attempts`);
}

/** The name of a node's kube-dns EndpointSlice. */
export const dnsEndpointSliceName = (nodeName: string) => `${KUBE_DNS_NAME}-${nodeName}`;

export interface DnsEndpointPorts { dns?: number; metrics?: number }

/**
 * Adds (or puts right) this node's endpoint of kube-dns: an EndpointSlice
 * `kube-dns-<node>` with one ready endpoint at `address`, owned by the Node
 * so that it goes when the Node does.
 */
export async function registerDnsEndpoint(client: Client, nodeName: string, address: string, ports: DnsEndpointPorts = {}): Promise<EndpointSlice> {
  const dns = ports.dns ?? 53;
  const metrics = ports.metrics ?? 9153;
  const node = await client.get(nodes, undefined, nodeName).catch((err: unknown): Node | undefined => { if (isNotFound(err)) return undefined; throw err; });
  const wanted: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: dnsEndpointSliceName(nodeName), namespace: KUBE_DNS_NAMESPACE,
      labels: { [LABEL_SERVICE_NAME]: KUBE_DNS_NAME, [LABEL_MANAGED_BY]: DNS_ENDPOINT_MANAGER },
      ownerReferences: node?.metadata?.uid ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid }] : undefined,
    },
    addressType: address.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, nodeName }],
    ports: [
      { name: 'dns', port: dns, protocol: 'UDP' },
      { name: 'dns-tcp', port: dns, protocol: 'TCP' },
      { name: 'metrics', port: metrics, protocol: 'TCP' },
    ],
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await client.get(endpointslices, KUBE_DNS_NAMESPACE, wanted.metadata!.name!)
      .catch((err: unknown): EndpointSlice | undefined => { if (isNotFound(err)) return undefined; throw err; });
    try {
      if (!current) return await client.create(endpointslices, wanted);
      return await client.update(endpointslices, { ...wanted, metadata: { ...current.metadata, ...wanted.metadata, resourceVersion: current.metadata?.resourceVersion } });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  throw new Error(`dns: could not write EndpointSlice ${KUBE_DNS_NAMESPACE}/${dnsEndpointSliceName(nodeName)} after 5 attempts`);
}

/** Removes this node's endpoint of kube-dns (gone already is fine). */
export async function unregisterDnsEndpoint(client: Client, nodeName: string): Promise<void> {
  await client.delete(endpointslices, KUBE_DNS_NAMESPACE, dnsEndpointSliceName(nodeName)).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
}

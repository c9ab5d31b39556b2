import { isIP } from 'node:net';
import type { Node } from 'kubernetes-types/core/v1';

/**
 * Where a node's kubelet API is reached when it is not at the node's
 * InternalIP: the hollow nodes of one `bosun sim` share one endpoint on the
 * simulator's loopback, so their Nodes carry its address here (and its port
 * in `status.daemonEndpoints.kubeletEndpoint.Port`). Only loopback addresses
 * are honoured: anyone allowed to edit a Node could otherwise point the API
 * server's kubelet client certificate at any host.
 */
export const KUBELET_ADDRESS_ANNOTATION = 'bosun.io/kubelet-address';
/**
 * The sha256 fingerprint (hex, colons optional) of the kubelet's serving
 * certificate. Set, the scraper trusts exactly that certificate (a hollow
 * node's endpoint has a self-signed one); unset, the kubelet's certificate
 * must chain to the cluster CA.
 */
export const KUBELET_CERT_SHA256_ANNOTATION = 'bosun.io/kubelet-serving-cert-sha256';
/** Hollow nodes say so; one without a kubelet address is never contacted (its InternalIP is made up). */
const HOLLOW_LABEL = 'node.bosun.io/hollow';

export const DEFAULT_KUBELET_PORT = 10250;

export interface KubeletTarget {
  node: string;
  host: string;
  port: number;
  /** TLS SNI: the node name, which both a kubelet's certificate and the hollow endpoint's demultiplexing use. */
  servername: string;
  pinnedSha256?: string;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

/** The kubelet endpoint of a node, or why there is none to scrape. */
export function kubeletTarget(node: Node): KubeletTarget | { skip: string; quiet?: boolean } {
  const name = node.metadata?.name ?? '';
  const annotations = node.metadata?.annotations ?? {};
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT;
  const pinned = annotations[KUBELET_CERT_SHA256_ANNOTATION]?.replace(/:/g, '').toLowerCase() || undefined;
  const override = annotations[KUBELET_ADDRESS_ANNOTATION]?.trim();
  if (override) {
    if (!isLoopback(override)) return { skip: `${KUBELET_ADDRESS_ANNOTATION}=${override} is not a loopback address` };
    return { node: name, host: override.replace(/^\[|\]$/g, ''), port, servername: name, pinnedSha256: pinned };
  }
  if (node.metadata?.labels?.[HOLLOW_LABEL] === 'true') return { skip: 'hollow node without a kubelet API', quiet: true };
  // A Node no kubelet has reported on (a bare object someone created) has no kubelet API to ask; its addresses may be anything.
  if (!node.status?.nodeInfo?.kubeletVersion) return { skip: 'no kubelet has reported for this node', quiet: true };
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!ip) return { skip: 'no InternalIP' };
  return { node: name, host: ip, port, servername: name, pinnedSha256: pinned };
}

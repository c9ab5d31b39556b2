/** `kubectl get services`, as upstream's printService. */
import type { Service, ServicePort } from 'kubernetes-types/core/v1';
import { formatLabels } from '../../api/labels.js';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [
  nameColumn,
  column('Type', 'string', fieldDoc['ServiceSpec.type']),
  column('Cluster-IP', 'string', fieldDoc['ServiceSpec.clusterIP']),
  column('External-IP', 'string', fieldDoc['ServiceSpec.externalIPs']),
  column('Port(s)', 'string', fieldDoc['ServiceSpec.ports']),
  ageColumn,
  column('Selector', 'string', fieldDoc['ServiceSpec.selector'], 1),
];

/** Load-balancer ingress addresses (IP, else hostname), deduplicated and sorted. */
function loadBalancerAddresses(svc: Service): string[] {
  const addresses = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((a) => a !== '');
  return [...new Set(addresses)].sort();
}

/** Upstream's getServiceExternalIP, in its wide form (the server always prints wide). */
function externalIP(svc: Service, type: string): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const all = [...loadBalancerAddresses(svc), ...externalIPs];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

// Defaults the API server would have applied: protocol TCP.
const portString = (ports: ServicePort[]): string =>
  ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');

export const servicesTable = definePrinter<Service>(columns, (svc, now) => {
  const type = svc.spec?.type ?? 'ClusterIP';
  // Decoding fills clusterIPs from clusterIP, so either reflects the primary address.
  const clusterIP = svc.spec?.clusterIPs?.[0] ?? svc.spec?.clusterIP ?? '<none>';
  const ports = portString(svc.spec?.ports ?? []);
  return [nameOf(svc), type, clusterIP || '<none>', externalIP(svc, type), ports || '<none>', age(svc, now), formatLabels(svc.spec?.selector)];
});

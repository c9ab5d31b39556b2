import { isIPv6 } from 'node:net';
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1';
import { externallyAccessible, needsClusterIP, needsHealthCheck, needsNodePort, validateService, validateServiceUpdate } from '../../api/validation/service.js';
import type { Strategy } from '../strategy.js';
import { keepSpec, keepStatus, validateMetaUpdate, type Obj } from './common.js';

type ServiceObj = Obj<Service>;

/** ClientIP affinity lasts three hours unless said otherwise. */
const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;
/** bosun's service CIDR (10.43.0.0/16) is IPv4 only. */
const DEFAULT_IP_FAMILY = 'IPv4';

/** SetDefaults_Service. */
function defaultService(svc: ServiceObj): void {
  const spec = (svc.spec ??= {});
  spec.sessionAffinity ||= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  spec.type ||= 'ClusterIP';
  for (const p of spec.ports ?? []) {
    p.protocol ||= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy === undefined && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') {
    spec.allocateLoadBalancerNodePorts ??= true;
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
}

/** On create, a lone clusterIP also fills clusterIPs (normalizeClusterIPs). */
function normalizeClusterIPsOnCreate(spec: ServiceSpec): void {
  if (spec.type === 'ExternalName') return;
  if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
}

/**
 * The create-time family defaults of the allocator (initIPFamilyFields):
 * families follow given IPs; headless services without a selector ask for
 * both families; everything else is SingleStack in the cluster's family.
 * Allocating the addresses themselves is the service-IP controller's job.
 */
function defaultIPFamilies(spec: ServiceSpec): void {
  if (spec.type === 'ExternalName') return;
  const families = [...(spec.ipFamilies ?? [])];
  (spec.clusterIPs ?? []).forEach((ip, i) => {
    if (ip === 'None' || i < families.length) return;
    families.push(isIPv6(ip) ? 'IPv6' : 'IPv4');
  });
  if (spec.ipFamilyPolicy === undefined && families.length === 2) spec.ipFamilyPolicy = 'RequireDualStack';
  if (spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0) {
    spec.ipFamilyPolicy ??= 'RequireDualStack';
    if (families.length === 0) families.push(DEFAULT_IP_FAMILY);
    if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  } else {
    spec.ipFamilyPolicy ??= 'SingleStack';
    if (families.length === 0) families.push(DEFAULT_IP_FAMILY);
  }
  spec.ipFamilies = families;
}

/**
 * patchAllocatedValues + normalizeClusterIPs on update: a client that omits
 * what was allocated (clusterIP, node ports) means "keep it", so that
 * `kubectl replace` of a manifest without them works.
 */
function carryAllocatedValues(spec: ServiceSpec, old: ServiceSpec): void {
  if (needsClusterIP(old) && needsClusterIP(spec)) {
    if (!spec.clusterIP && old.clusterIP) spec.clusterIP = old.clusterIP;
    if (!spec.clusterIPs?.length && old.clusterIPs?.length) spec.clusterIPs = [...old.clusterIPs];
    if (spec.ipFamilyPolicy === undefined && old.ipFamilyPolicy !== undefined) spec.ipFamilyPolicy = old.ipFamilyPolicy;
    if (!spec.ipFamilies?.length && old.ipFamilies?.length) spec.ipFamilies = [...old.ipFamilies];
  }
  if (needsNodePort(old) && needsNodePort(spec)) {
    const byName = new Map((old.ports ?? []).map((p) => [p.name ?? '', p.nodePort]));
    for (const p of spec.ports ?? []) if (!p.nodePort && byName.get(p.name ?? '')) p.nodePort = byName.get(p.name ?? '');
  }
  if (needsHealthCheck(old) && needsHealthCheck(spec) && !spec.healthCheckNodePort) spec.healthCheckNodePort = old.healthCheckNodePort;
  const sameIPs = JSON.stringify(spec.clusterIPs ?? []) === JSON.stringify(old.clusterIPs ?? []);
  if (spec.type !== 'ExternalName' && spec.clusterIP !== old.clusterIP && sameIPs) {
    if (!spec.clusterIP) delete spec.clusterIPs;
    else spec.clusterIPs = [spec.clusterIP, ...(spec.clusterIPs ?? []).slice(1)];
  }
}

/**
 * dropTypeDependentFields: on a type change, fields the old type had
 * (perhaps allocated for it) and the new one cannot have go, unless the
 * client changed them itself, so that e.g. NodePort → ClusterIP is one patch.
 */
function dropTypeDependentFields(spec: ServiceSpec, old: ServiceSpec): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (needsClusterIP(old) && !needsClusterIP(spec)) {
    if (same(spec.clusterIPs, old.clusterIPs) && spec.clusterIP === old.clusterIP) { delete spec.clusterIP; delete spec.clusterIPs; }
    if (same(spec.ipFamilies, old.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === old.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  const nodePorts = (x: ServiceSpec) => (x.ports ?? []).map((p) => p.nodePort ?? 0);
  if (needsNodePort(old) && !needsNodePort(spec) && same(nodePorts(spec), nodePorts(old).slice(0, spec.ports?.length ?? 0))) {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(spec) && spec.healthCheckNodePort === old.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (!externallyAccessible(spec) && spec.externalTrafficPolicy === old.externalTrafficPolicy) delete spec.externalTrafficPolicy;
  if (spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === old.loadBalancerClass) delete spec.loadBalancerClass;
  }
}

/** pkg/registry/core/service/strategy.go (plus the allocator's non-allocating defaults). */
export const serviceStrategy: Strategy<ServiceObj> = {
  defaults: defaultService,
  prepareForCreate(svc) {
    svc.status = { loadBalancer: {} };
    const spec = (svc.spec ??= {});
    normalizeClusterIPsOnCreate(spec);
    defaultIPFamilies(spec);
  },
  prepareForUpdate(svc, old) {
    keepStatus(svc, old);
    dropTypeDependentFields((svc.spec ??= {}), old.spec ?? {});
    carryAllocatedValues(svc.spec, old.spec ?? {});
  },
  prepareForStatusUpdate: keepSpec,
  validate: validateService,
  validateUpdate(svc, old) {
    return [...validateMetaUpdate(svc, old), ...validateServiceUpdate(svc, old)];
  },
};

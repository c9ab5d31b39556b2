import { isIPv6 } from 'node:net';
import type { Service, ServicePort, ServiceSpec } from 'kubernetes-types/core/v1';
import type { FieldError } from '../status.js';
import { duplicate, forbidden, invalid, invalidEach, notSupported, required, FIELD_IMMUTABLE_ERROR } from './errors.js';
import { validatePortNumOrName } from './int-or-string.js';
import { validateCIDR, validateIP, validateNonSpecialIP } from './ip.js';
import { validateLabels } from './labels.js';
import { validateObjectMeta } from './metadata.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, nameIsDNS1035Label } from './names.js';
import { child, index, key } from './path.js';
import { isValidPortNum, validateProtocol } from './ports.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;
const LB_SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

type Spec = Partial<ServiceSpec>;

export const isHeadless = (spec: Spec | undefined): boolean => spec?.clusterIPs?.length === 1 && spec.clusterIPs[0] === 'None';
export const needsClusterIP = (spec: Spec | undefined): boolean => spec?.type !== 'ExternalName';
export const needsNodePort = (spec: Spec | undefined): boolean =>
  spec?.type === 'NodePort' || (spec?.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
export const needsHealthCheck = (spec: Spec | undefined): boolean => spec?.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
/** Reachable from outside the cluster: node ports, load balancers, external IPs. */
export const externallyAccessible = (spec: Spec | undefined): boolean =>
  spec?.type === 'LoadBalancer' || spec?.type === 'NodePort' || (spec?.type === 'ClusterIP' && (spec.externalIPs?.length ?? 0) > 0);

/** ValidateService. */
export function validateService(svc: Service): FieldError[] {
  const spec: Spec = svc.spec ?? {};
  const errs = validateObjectMeta(svc.metadata, { namespaced: true, nameFn: nameIsDNS1035Label });
  const specPath = 'spec';
  const headless = isHeadless(spec);
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required(child(specPath, 'ports')));

  switch (spec.type) {
    case 'LoadBalancer':
    case 'NodePort':
      if (headless) errs.push(invalid(child(specPath, 'clusterIPs[0]'), 'None', `may not be set to 'None' for ${spec.type} services`));
      break;
    case 'ExternalName': {
      if (spec.clusterIPs?.length) errs.push(forbidden(child(specPath, 'clusterIPs'), 'may not be set for ExternalName services'));
      if (spec.ipFamilies?.length) errs.push(forbidden(child(specPath, 'ipFamilies'), 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined) errs.push(forbidden(child(specPath, 'ipFamilyPolicy'), 'may not be set for ExternalName services'));
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname) errs.push(...invalidEach(child(specPath, 'externalName'), cname, isDNS1123Subdomain(cname)));
      else errs.push(required(child(specPath, 'externalName')));
      break;
    }
    default:
      break;
  }

  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, index(child(specPath, 'ports'), i))));
  if (spec.selector) errs.push(...validateLabels(spec.selector, child(specPath, 'selector')));

  if (!spec.sessionAffinity) errs.push(required(child(specPath, 'sessionAffinity')));
  else if (!SESSION_AFFINITIES.includes(spec.sessionAffinity)) errs.push(notSupported(child(specPath, 'sessionAffinity'), spec.sessionAffinity, SESSION_AFFINITIES));
  const cfgPath = child(specPath, 'sessionAffinityConfig');
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (!spec.sessionAffinityConfig) errs.push(required(cfgPath, 'when session affinity type is ClientIP'));
    else if (!spec.sessionAffinityConfig.clientIP) errs.push(required(child(cfgPath, 'clientIP'), 'when session affinity type is ClientIP'));
    else if (timeout === undefined) errs.push(required(child(cfgPath, 'clientIP', 'timeoutSeconds'), 'when session affinity type is ClientIP'));
    else if (timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS) {
      errs.push(invalid(child(cfgPath, 'clientIP', 'timeoutSeconds'), timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(forbidden(cfgPath, 'must not be set when session affinity is None'));
  }

  errs.push(...validateClusterIPsRelatedFields(spec));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = index(child(specPath, 'externalIPs'), i);
    const ipErrs = validateIP(ip, p);
    errs.push(...(ipErrs.length ? ipErrs : validateNonSpecialIP(ip, p)));
  });

  if (!spec.type) errs.push(required(child(specPath, 'type')));
  else if (!SERVICE_TYPES.includes(spec.type)) errs.push(notSupported(child(specPath, 'type'), spec.type, SERVICE_TYPES));
  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => { if (p.nodePort) errs.push(forbidden(child(index(child(specPath, 'ports'), i), 'nodePort'), "may not be used when `type` is 'ClusterIP'")); });
  }
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const portPath = index(child(specPath, 'ports'), i);
    if (p.nodePort) {
      const id = `${p.protocol ?? ''}/${p.nodePort}`;
      if (nodePorts.has(id)) errs.push(duplicate(child(portPath, 'nodePort'), p.nodePort));
      nodePorts.add(id);
    }
    const id = `${p.protocol ?? ''}/${p.port}`;
    if (portKeys.has(id)) errs.push(duplicate(portPath, { port: p.port, protocol: p.protocol }));
    portKeys.add(id);
  });

  const ranges = spec.loadBalancerSourceRanges ?? [];
  const lbAnnotation = svc.metadata?.annotations?.[LB_SOURCE_RANGES_ANNOTATION];
  if (ranges.length) {
    const p = child(specPath, 'LoadBalancerSourceRanges');
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...validateCIDR(r.trim(), index(p, i))));
  } else if (lbAnnotation !== undefined) {
    const p = key('metadata.annotations', LB_SOURCE_RANGES_ANNOTATION);
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    if (lbAnnotation.trim()) for (const r of lbAnnotation.trim().split(',')) errs.push(...validateCIDR(r.trim(), p));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.type !== 'LoadBalancer') {
    errs.push(forbidden(child(specPath, 'allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
  }
  // upstream's path here lacks the `spec.` prefix
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) errs.push(required('allocateLoadBalancerNodePorts'));
  if (spec.loadBalancerClass !== undefined) {
    if (spec.type === 'LoadBalancer') errs.push(...invalidEach(child(specPath, 'loadBalancerClass'), spec.loadBalancerClass, isQualifiedName(spec.loadBalancerClass)));
    else errs.push(forbidden(child(specPath, 'loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"));
  }
  errs.push(...validateTrafficPolicies(spec));
  return errs;
}

function validateServicePort(p: ServicePort, requireName: boolean, names: Set<string>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !p.name) errs.push(required(child(field, 'name')));
  else if (p.name) {
    errs.push(...invalidEach(child(field, 'name'), p.name, isDNS1123Label(p.name)));
    if (names.has(p.name)) errs.push(duplicate(child(field, 'name'), p.name));
    else names.add(p.name);
  }
  errs.push(...invalidEach(child(field, 'port'), p.port ?? 0, isValidPortNum(p.port ?? 0)));
  errs.push(...validateProtocol(p.protocol, child(field, 'protocol')));
  errs.push(...validatePortNumOrName(p.targetPort, child(field, 'targetPort')));
  if (p.appProtocol !== undefined) errs.push(...invalidEach(child(field, 'appProtocol'), p.appProtocol, isQualifiedName(p.appProtocol)));
  return errs;
}

function validateTrafficPolicies(spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy) errs.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (!needsHealthCheck(spec)) {
    if (spec.healthCheckNodePort) errs.push(invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (!spec.healthCheckNodePort) {
    errs.push(required('spec.healthCheckNodePort'));
  } else {
    errs.push(...invalidEach('spec.healthCheckNodePort', spec.healthCheckNodePort, isValidPortNum(spec.healthCheckNodePort)));
  }
  if (spec.internalTrafficPolicy === undefined) {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') errs.push(required('spec.internalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

/** ValidateServiceClusterIPsRelatedFields: clusterIP/clusterIPs in sync, families and policy sane. */
function validateClusterIPsRelatedFields(spec: Spec): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ipsPath = 'spec.clusterIPs';
  const ips = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(required(ipsPath));
    else if (ips[0] !== spec.clusterIP) errs.push(invalid(ipsPath, ips, 'first value must match `clusterIP`'));
  } else if (ips.length) {
    errs.push(invalid(ipsPath, ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!IP_FAMILIES.includes(f)) errs.push(notSupported(index('spec.ipFamilies', i), f, IP_FAMILIES));
    if (seen.has(f)) errs.push(duplicate(index('spec.ipFamilies', i), f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) { badIPs = true; errs.push(invalid(ipsPath, ips, "'None' must be the first and only value")); }
      return;
    }
    const e = validateIP(ip, index(ipsPath, i));
    if (e.length) { badIPs = true; errs.push(...e); }
  });
  if (ips.length > 2) errs.push(invalid(ipsPath, ips, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (ips.length > 1 && isIPv6(ips[0]!) === isIPv6(ips[1]!)) errs.push(invalid(ipsPath, ips, 'may specify no more than one IP for each IP family'));
  if (!isHeadless(spec)) {
    ips.forEach((ip, i) => {
      const family = spec.ipFamilies?.[i];
      if (family === 'IPv4' && isIPv6(ip)) errs.push(invalid(index(ipsPath, i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (family === 'IPv6' && !isIPv6(ip)) errs.push(invalid(index(ipsPath, i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

/**
 * ValidateServiceUpdate's own checks: a primary cluster IP and family stay
 * for the service's life (a secondary may come and go), so do the load
 * balancer class and the health check node port.
 */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const spec: Spec = svc.spec ?? {};
  const before: Spec = old.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.type !== 'ExternalName' && before.type !== 'ExternalName' && !(isHeadless(spec) && isHeadless(before))) {
    const now = spec.clusterIPs ?? [];
    const was = before.clusterIPs ?? [];
    if (now.length === was.length) {
      was.forEach((ip, i) => { if (ip !== now[i]) errs.push(invalid(`spec.clusterIPs[${i}]`, now, 'may not change once set')); });
    } else if (was.length > now.length) {
      if (now.length === 0) errs.push(invalid('spec.clusterIPs[0]', now, 'primary clusterIP can not be unset'));
      if (was.length && now.length && now[0] !== was[0]) errs.push(invalid('spec.clusterIPs[0]', now, 'may not change once set'));
      if (now.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
      }
    } else if (was.length && now[0] !== was[0]) {
      errs.push(invalid('spec.clusterIPs[0]', now, 'may not change once set'));
    }
  }
  if (spec.type !== 'ExternalName' && before.type !== 'ExternalName' && isHeadless(spec) === isHeadless(before) && !isHeadless(spec)) {
    const now = spec.ipFamilies ?? [];
    const was = before.ipFamilies ?? [];
    if (now.length === was.length) {
      if (was.some((f, i) => f !== now[i])) errs.push(invalid('spec.ipFamilies[0]', now, 'may not change once set'));
    } else if (was.length > now.length) {
      if ((spec.clusterIPs ?? []).length === 0) errs.push(invalid('spec.ipFamilies[0]', now, 'primary ipFamily can not be unset'));
      if (now.length && now[0] !== was[0]) errs.push(invalid('spec.ipFamilies[0]', spec.clusterIPs ?? [], 'may not change once set'));
      if (now.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
      }
    } else if (was.length && now.length && now[0] !== was[0]) {
      errs.push(invalid('spec.ipFamilies[0]', spec.clusterIPs ?? [], 'may not change once set'));
    }
  }
  if (spec.type === 'LoadBalancer' && before.type === 'LoadBalancer' && spec.loadBalancerClass !== before.loadBalancerClass) {
    errs.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass ?? null, 'may not change once set'));
  }
  if (needsHealthCheck(before) && needsHealthCheck(spec) && spec.healthCheckNodePort !== before.healthCheckNodePort) {
    errs.push(forbidden('spec.healthCheckNodePort', FIELD_IMMUTABLE_ERROR));
  }
  return errs;
}

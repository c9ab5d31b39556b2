import type {
  Container, EnvVar, LifecycleHandler, Pod, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, Volume, VolumeProjection,
} from 'kubernetes-types/core/v1';
import { formatQuantity, roundUpToMilli, tryParseQuantity } from '../../api/validation/quantity.js';
import { defaultImagePullPolicy } from './image-pull-policy.js';

/** 0644: what secret, configMap, downwardAPI and projected files get. */
const DEFAULT_FILE_MODE = 420;
const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;

/**
 * SetDefaults_PodSpec and the defaults of everything inside it, for any pod
 * spec (a Pod's or a template's). `serviceAccount` is the deprecated
 * spelling of `serviceAccountName`; upstream's conversion keeps both equal.
 */
export function defaultPodSpec(spec: PodSpec): void {
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ||= 'default-scheduler';
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c as Container);
  for (const v of spec.volumes ?? []) defaultVolume(v);
  if (spec.overhead) defaultResourceList(spec.overhead);
}

/** A controller's template: the spec defaults, nothing Pod-only. */
export function defaultPodTemplate(template: PodTemplateSpec | undefined): void {
  if (template?.spec) defaultPodSpec(template.spec);
}

/**
 * SetDefaults_Pod on top of the spec defaults: requests default to limits
 * (for Pods only, so templates stay as written), service links on, and with
 * host networking every container port is also a host port.
 */
export function defaultPod(pod: Pod): void {
  const spec = (pod.spec ??= { containers: [] });
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const limits = c.resources?.limits;
    if (!limits) continue;
    const requests = (c.resources!.requests ??= {});
    for (const [k, v] of Object.entries(limits)) if (!(k in requests)) requests[k] = v;
  }
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const p of c.ports ?? []) if (!p.hostPort) p.hostPort = p.containerPort;
    }
  }
  defaultPodSpec(spec);
}

function defaultContainer(c: Container): void {
  c.imagePullPolicy ||= defaultImagePullPolicy(c.image);
  c.terminationMessagePath ||= '/dev/termination-log';
  c.terminationMessagePolicy ||= 'File';
  for (const p of c.ports ?? []) p.protocol ||= 'TCP';
  // ResourceRequirements is a struct, not a pointer, upstream: it always prints.
  c.resources ??= {};
  defaultResources(c.resources);
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) if (probe) defaultProbe(probe);
  for (const h of [c.lifecycle?.postStart, c.lifecycle?.preStop]) if (h) defaultHandler(h);
  for (const e of c.env ?? []) defaultEnvVar(e);
}

function defaultProbe(probe: Probe): void {
  probe.timeoutSeconds ||= 1;
  probe.periodSeconds ||= 10;
  probe.successThreshold ||= 1;
  probe.failureThreshold ||= 3;
  defaultHandler(probe);
}

function defaultHandler(h: Probe | LifecycleHandler): void {
  if (h.httpGet) {
    h.httpGet.path ||= '/';
    h.httpGet.scheme ||= 'HTTP';
  }
}

function defaultEnvVar(e: EnvVar): void {
  if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ||= 'v1';
  // A Quantity is a struct upstream: an unset divisor still prints as "0".
  if (e.valueFrom?.resourceFieldRef) e.valueFrom.resourceFieldRef.divisor ??= '0';
}

function defaultResources(r: ResourceRequirements): void {
  if (r.limits) defaultResourceList(r.limits);
  if (r.requests) defaultResourceList(r.requests);
}

/**
 * SetDefaults_ResourceList: nothing finer than a milli-unit, in canonical
 * form (`0.5` → `500m`). Text that is no quantity is left for validation.
 */
export function defaultResourceList(list: Record<string, string>): void {
  for (const [k, v] of Object.entries(list)) {
    const q = tryParseQuantity(String(v));
    if (q) list[k] = formatQuantity(roundUpToMilli(q));
  }
}

function defaultVolume(v: Volume): void {
  const sources = Object.keys(v).filter((k) => k !== 'name');
  if (sources.length === 0) v.emptyDir = {};
  if (v.secret) v.secret.defaultMode ??= DEFAULT_FILE_MODE;
  if (v.configMap) v.configMap.defaultMode ??= DEFAULT_FILE_MODE;
  if (v.downwardAPI) {
    v.downwardAPI.defaultMode ??= DEFAULT_FILE_MODE;
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ||= 'v1';
  }
  if (v.projected) {
    v.projected.defaultMode ??= DEFAULT_FILE_MODE;
    for (const s of v.projected.sources ?? []) defaultProjection(s);
  }
  if (v.hostPath) v.hostPath.type ??= '';
}

function defaultProjection(s: VolumeProjection): void {
  if (s.serviceAccountToken) s.serviceAccountToken.expirationSeconds ??= DEFAULT_TOKEN_EXPIRATION_SECONDS;
  for (const item of s.downwardAPI?.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ||= 'v1';
}

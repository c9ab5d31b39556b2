import type {
  Container, ContainerPort, EnvFromSource, EnvVar, LifecycleHandler, Probe, SecurityContext, Volume, VolumeMount,
} from 'kubernetes-types/core/v1';
import type { FieldError } from '../status.js';
import { ENV_DOWNWARD_API_FIELDS, validateObjectFieldSelector, validateResourceFieldSelector } from './downward-api.js';
import { duplicate, forbidden, inclusiveRangeError, invalid, invalidEach, notFound, notSupported, required, validateNonnegative } from './errors.js';
import { validatePortNumOrName } from './int-or-string.js';
import { isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isEnvVarName } from './names.js';
import { child, index } from './path.js';
import { validateLocalDescendingPath } from './paths.js';
import { isValidPortName, isValidPortNum, validateProtocol } from './ports.js';
import { validateResourceRequirements } from './resources.js';

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const MOUNT_PROPAGATIONS = ['Bidirectional', 'HostToContainer', 'None'];
const HTTP_SCHEMES = ['HTTP', 'HTTPS'];
const MAX_ID = 4294967295;

type Volumes = Map<string, Volume>;

/** validateContainers: at least one, unique names, each valid, no host port clash. */
export function validateContainers(containers: Container[] | undefined, volumes: Volumes, gracePeriod: number | undefined, field: string): FieldError[] {
  if (!containers?.length) return [required(field)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((ctr, i) => {
    const path = index(field, i);
    errs.push(...validateContainerCommon(ctr, volumes, path));
    if (names.has(ctr.name)) errs.push(duplicate(child(path, 'name'), ctr.name));
    else names.add(ctr.name);
    if (ctr.lifecycle) errs.push(...validateLifecycle(ctr.lifecycle, gracePeriod, child(path, 'lifecycle')));
    errs.push(...validateProbe(ctr.livenessProbe, gracePeriod, child(path, 'livenessProbe'), 'liveness'));
    errs.push(...validateProbe(ctr.readinessProbe, gracePeriod, child(path, 'readinessProbe'), 'readiness'));
    errs.push(...validateProbe(ctr.startupProbe, gracePeriod, child(path, 'startupProbe'), 'startup'));
    if (ctr.restartPolicy !== undefined) errs.push(forbidden(child(path, 'restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(containers, field));
  return errs;
}

/** validateInitContainers: names unique across init and regular containers; sidecars (restartPolicy Always) may probe. */
export function validateInitContainers(
  containers: Container[] | undefined, regular: Container[] | undefined, volumes: Volumes, gracePeriod: number | undefined, field: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set((regular ?? []).map((c) => c.name));
  (containers ?? []).forEach((ctr, i) => {
    const path = index(field, i);
    errs.push(...validateContainerCommon(ctr, volumes, path));
    let sidecar = false;
    if (ctr.restartPolicy !== undefined) {
      if (ctr.restartPolicy !== 'Always') errs.push(notSupported(child(path, 'restartPolicy'), ctr.restartPolicy, ['Always']));
      sidecar = ctr.restartPolicy === 'Always';
    }
    if (names.has(ctr.name)) errs.push(duplicate(child(path, 'name'), ctr.name));
    else if (ctr.name) names.add(ctr.name);
    errs.push(...checkHostPortConflicts([ctr], field));
    if (sidecar) {
      if (ctr.lifecycle) errs.push(...validateLifecycle(ctr.lifecycle, gracePeriod, child(path, 'lifecycle')));
      errs.push(...validateProbe(ctr.livenessProbe, gracePeriod, child(path, 'livenessProbe'), 'liveness'));
      errs.push(...validateProbe(ctr.readinessProbe, gracePeriod, child(path, 'readinessProbe'), 'readiness'));
      errs.push(...validateProbe(ctr.startupProbe, gracePeriod, child(path, 'startupProbe'), 'startup'));
    } else {
      for (const k of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (ctr[k]) errs.push(forbidden(child(path, k), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

/** validateContainerCommon: what every kind of container must satisfy. */
function validateContainerCommon(ctr: Container, volumes: Volumes, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const namePath = child(path, 'name');
  if (!ctr.name) errs.push(required(namePath));
  else errs.push(...invalidEach(namePath, ctr.name, isDNS1123Label(ctr.name)));
  if (!ctr.image) errs.push(required(child(path, 'image')));
  const tmp = ctr.terminationMessagePolicy;
  if (!tmp) errs.push(required(child(path, 'terminationMessagePolicy')));
  else if (!TERMINATION_MESSAGE_POLICIES.includes(tmp)) errs.push(notSupported(child(path, 'terminationMessagePolicy'), tmp, TERMINATION_MESSAGE_POLICIES));
  errs.push(...validateContainerPorts(ctr.ports, child(path, 'ports')));
  errs.push(...validateEnv(ctr.env, child(path, 'env')));
  errs.push(...validateEnvFrom(ctr.envFrom, child(path, 'envFrom')));
  errs.push(...validateVolumeMounts(ctr.volumeMounts, volumes, child(path, 'volumeMounts')));
  if (!ctr.imagePullPolicy) errs.push(required(child(path, 'imagePullPolicy')));
  else if (!PULL_POLICIES.includes(ctr.imagePullPolicy)) errs.push(notSupported(child(path, 'imagePullPolicy'), ctr.imagePullPolicy, PULL_POLICIES));
  errs.push(...validateResourceRequirements(ctr.resources, child(path, 'resources')));
  errs.push(...validateSecurityContext(ctr.securityContext, child(path, 'securityContext')));
  return errs;
}

export function validateContainerPorts(ports: ContainerPort[] | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (ports ?? []).forEach((port, i) => {
    const idxPath = index(field, i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) errs.push(...invalidEach(child(idxPath, 'name'), port.name, msgs));
      else if (names.has(port.name)) errs.push(duplicate(child(idxPath, 'name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(child(idxPath, 'containerPort')));
    else errs.push(...invalidEach(child(idxPath, 'containerPort'), port.containerPort, isValidPortNum(port.containerPort)));
    if (port.hostPort) errs.push(...invalidEach(child(idxPath, 'hostPort'), port.hostPort, isValidPortNum(port.hostPort)));
    errs.push(...validateProtocol(port.protocol, child(idxPath, 'protocol')));
  });
  return errs;
}

/** AccumulateUniqueHostPorts: `protocol/hostIP/port` may be claimed once. */
function checkHostPortConflicts(containers: Container[], field: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((ctr, ci) => (ctr.ports ?? []).forEach((p, pi) => {
    if (!p.hostPort) return;
    const id = `${p.protocol ?? ''}/${p.hostIP ?? ''}/${p.hostPort}`;
    if (seen.has(id)) errs.push(duplicate(child(index(child(index(field, ci), 'ports'), pi), 'hostPort'), id));
    else seen.add(id);
  }));
  return errs;
}

function validateEnv(vars: EnvVar[] | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  (vars ?? []).forEach((ev, i) => {
    const idxPath = index(field, i);
    if (!ev.name) errs.push(required(child(idxPath, 'name')));
    else errs.push(...invalidEach(child(idxPath, 'name'), ev.name, isEnvVarName(ev.name)));
    errs.push(...validateEnvVarValueFrom(ev, child(idxPath, 'valueFrom')));
  });
  return errs;
}

function validateEnvVarValueFrom(ev: EnvVar, field: string): FieldError[] {
  const from = ev.valueFrom;
  if (!from) return [];
  const errs: FieldError[] = [];
  let sources = 0;
  if (from.fieldRef) { sources++; errs.push(...validateObjectFieldSelector(from.fieldRef, ENV_DOWNWARD_API_FIELDS, child(field, 'fieldRef'))); }
  if (from.resourceFieldRef) { sources++; errs.push(...validateResourceFieldSelector(from.resourceFieldRef, child(field, 'resourceFieldRef'), false)); }
  for (const k of ['configMapKeyRef', 'secretKeyRef'] as const) {
    const ref = from[k];
    if (!ref) continue;
    sources++;
    errs.push(...invalidEach(child(field, k, 'name'), ref.name ?? '', isDNS1123Subdomain(ref.name ?? '')));
    if (!ref.key) errs.push(required(child(field, k, 'key')));
    else errs.push(...invalidEach(child(field, k, 'key'), ref.key, isConfigMapKey(ref.key)));
  }
  if (sources === 0) errs.push(invalid(field, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (ev.value) errs.push(invalid(field, '', 'may not be specified when `value` is not empty'));
  else if (sources > 1) errs.push(invalid(field, '', 'may not have more than one field specified at a time'));
  return errs;
}

function validateEnvFrom(sources: EnvFromSource[] | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  (sources ?? []).forEach((ev, i) => {
    const idxPath = index(field, i);
    if (ev.prefix) errs.push(...invalidEach(child(idxPath, 'prefix'), ev.prefix, isEnvVarName(ev.prefix)));
    let count = 0;
    for (const k of ['configMapRef', 'secretRef'] as const) {
      const ref = ev[k];
      if (!ref) continue;
      count++;
      if (!ref.name) errs.push(required(child(idxPath, k, 'name')));
      else errs.push(...invalidEach(child(idxPath, k, 'name'), ref.name, isDNS1123Subdomain(ref.name)));
    }
    if (count === 0) errs.push(invalid(field, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (count > 1) errs.push(invalid(field, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: VolumeMount[] | undefined, volumes: Volumes, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  (mounts ?? []).forEach((mnt, i) => {
    const idxPath = index(field, i);
    if (!mnt.name) errs.push(required(child(idxPath, 'name')));
    if (!volumes.has(mnt.name)) errs.push(notFound(child(idxPath, 'name'), mnt.name));
    if (!mnt.mountPath) errs.push(required(child(idxPath, 'mountPath')));
    if (mountPoints.has(mnt.mountPath)) errs.push(invalid(child(idxPath, 'mountPath'), mnt.mountPath, 'must be unique'));
    mountPoints.add(mnt.mountPath);
    // upstream validates sub-paths at the list's path, unindexed
    if (mnt.subPath) errs.push(...validateLocalDescendingPath(mnt.subPath, child(field, 'subPath')));
    if (mnt.subPathExpr) {
      if (mnt.subPath) errs.push(invalid(child(idxPath, 'subPathExpr'), mnt.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(mnt.subPathExpr, child(field, 'subPathExpr')));
    }
    if (mnt.mountPropagation !== undefined && !MOUNT_PROPAGATIONS.includes(mnt.mountPropagation)) {
      errs.push(notSupported(child(field, 'mountPropagation'), mnt.mountPropagation, MOUNT_PROPAGATIONS));
    }
  });
  return errs;
}

type ProbeKind = 'liveness' | 'readiness' | 'startup';

function validateProbe(probe: Probe | undefined, gracePeriod: number | undefined, field: string, kind: ProbeKind): FieldError[] {
  if (!probe) return [];
  const errs = validateHandler(probe, gracePeriod, field, false);
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...validateNonnegative(probe[k], child(field, k)));
  }
  if (probe.terminationGracePeriodSeconds !== undefined && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(invalid(child(field, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind !== 'readiness' && probe.successThreshold !== 1) errs.push(invalid(child(field, 'successThreshold'), probe.successThreshold ?? 0, 'must be 1'));
  if (kind === 'readiness' && probe.terminationGracePeriodSeconds !== undefined) {
    errs.push(invalid(child(field, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  }
  return errs;
}

function validateLifecycle(lifecycle: NonNullable<Container['lifecycle']>, gracePeriod: number | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (lifecycle.postStart) errs.push(...validateHandler(lifecycle.postStart, gracePeriod, child(field, 'postStart'), true));
  if (lifecycle.preStop) errs.push(...validateHandler(lifecycle.preStop, gracePeriod, child(field, 'preStop'), true));
  return errs;
}

/** One handler exactly: exec, httpGet, tcpSocket, grpc (probes) or sleep (lifecycle). */
function validateHandler(h: Probe | LifecycleHandler, gracePeriod: number | undefined, field: string, lifecycle: boolean): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  const one = (name: string, check: () => FieldError[]) => {
    if (count > 0) { errs.push(forbidden(child(field, name), 'may not specify more than 1 handler type')); return; }
    count++;
    errs.push(...check());
  };
  if (h.exec) one('exec', () => (h.exec!.command?.length ? [] : [required(child(field, 'exec', 'command'))]));
  if (h.httpGet) {
    const g = h.httpGet;
    one('httpGet', () => [
      ...(g.path ? [] : [required(child(field, 'httpGet', 'path'))]),
      ...validatePortNumOrName(g.port, child(field, 'httpGet', 'port')),
      ...(HTTP_SCHEMES.includes(g.scheme ?? '') ? [] : [notSupported(child(field, 'httpGet', 'scheme'), g.scheme ?? '', HTTP_SCHEMES)]),
      ...(g.httpHeaders ?? []).flatMap((hd) => (/^[-A-Za-z0-9]+$/.test(hd.name) ? [] : [invalid(child(field, 'httpGet', 'httpHeaders'), hd.name,
        "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')")])),
    ]);
  }
  if (h.tcpSocket) one('tcpSocket', () => validatePortNumOrName(h.tcpSocket!.port, child(field, 'tcpSocket', 'port')));
  if (!lifecycle && 'grpc' in h && h.grpc) {
    const port = h.grpc.port;
    one('grpc', () => validatePortNumOrName(port, child(field, 'grpc', 'port')));
  }
  if (lifecycle && 'sleep' in h && h.sleep) {
    const seconds = h.sleep.seconds;
    one('sleep', () => (gracePeriod !== undefined && (seconds <= 0 || seconds > gracePeriod)
      ? [invalid(child(field, 'sleep'), seconds, `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`)]
      : []));
  }
  if (count === 0) errs.push(required(field, 'must specify a handler type'));
  return errs;
}

/** Container securityContext: user and group IDs in range; consistent privilege escalation. */
function validateSecurityContext(sc: SecurityContext | undefined, field: string): FieldError[] {
  if (!sc) return [];
  const errs: FieldError[] = [];
  for (const k of ['runAsUser', 'runAsGroup'] as const) {
    const v = sc[k];
    if (v !== undefined && (v < 0 || v > MAX_ID)) errs.push(invalid(child(field, k), v, inclusiveRangeError(0, MAX_ID)));
  }
  if (sc.procMount !== undefined && !['Default', 'Unmasked'].includes(sc.procMount)) {
    errs.push(notSupported(child(field, 'procMount'), sc.procMount, ['Default', 'Unmasked']));
  }
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged) errs.push(invalid(field, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    if (sc.capabilities?.add?.includes('CAP_SYS_ADMIN')) errs.push(invalid(field, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
  }
  return errs;
}

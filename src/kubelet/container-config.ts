import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1';
import { parseQuantity, quantityToMilli, quantityValue } from '../api/validation/quantity.js';
import type { ContainerConfig, KeyValue, LinuxContainerResources, Mount } from './cri/types.js';
import { envMap, expand } from './container-env.js';
import { CONTAINER_HASH_ANNOTATION, CONTAINER_KIND_ANNOTATION, CONTAINER_NAME_LABEL, RESTART_COUNT_ANNOTATION } from './labels.js';
import { podLabels } from './sandbox-config.js';
import { ContainerConfigError } from './container-env.js';

export type ContainerKind = 'init' | 'sidecar' | 'regular';

/**
 * What the running instance was made from (upstream's container hash): a
 * change means it must be replaced. Only the image can change on a live
 * pod, but hashing the whole spec keeps that true if more becomes mutable.
 */
export function containerHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 16);
}

/** `<container>/<restartCount>.log`, relative to the sandbox's log directory (the layout kubelet-api reads). */
export const containerLogPath = (name: string, restartCount: number): string => join(name, `${restartCount}.log`);

const CPU_PERIOD = 100_000;

/** requests.cpu → shares (min 2), limits.cpu → CFS quota, limits.memory → bytes: upstream's linux resource mapping. */
export function linuxResources(c: Container): LinuxContainerResources {
  const out: LinuxContainerResources = {};
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const cpuReq = req.cpu ?? lim.cpu;
  const milliReq = cpuReq !== undefined ? quantityToMilli(parseQuantity(String(cpuReq))) : 0;
  out.cpuShares = milliReq ? Math.max(2, Math.floor((milliReq * 1024) / 1000)) : 2;
  if (lim.cpu !== undefined) {
    const milli = quantityToMilli(parseQuantity(String(lim.cpu)));
    out.cpuPeriod = CPU_PERIOD;
    out.cpuQuota = Math.max(1000, Math.floor((milli * CPU_PERIOD) / 1000));
  }
  if (lim.memory !== undefined) out.memoryLimitInBytes = quantityValue(parseQuantity(String(lim.memory)));
  return out;
}

/**
 * The CRI container config for one container instance: image (the resolved
 * reference), command/args with `$(VAR)` expanded, env, mounts from the
 * pod's volumes, resources, security context, labels and annotations that let
 * a restarted kubelet recognise it.
 */
export function containerConfig(
  pod: Pod, c: Container, kind: ContainerKind, restartCount: number, image: string, env: KeyValue[], volumePaths: Map<string, string>,
  extraMounts: Mount[] = [],
): ContainerConfig {
  const vars = envMap(env);
  const mounts: Mount[] = [...extraMounts];
  for (const vm of c.volumeMounts ?? []) {
    const host = volumePaths.get(vm.name);
    if (!host) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${c.name}"`);
    const sub = vm.subPathExpr ? expand(vm.subPathExpr, vars) : vm.subPath;
    if (sub && (sub.startsWith('/') || sub.split('/').includes('..'))) throw new ContainerConfigError(`invalid subPath "${sub}"`);
    mounts.push({
      containerPath: vm.mountPath, hostPath: sub ? join(host, sub) : host, readonly: !!vm.readOnly,
      propagation: vm.mountPropagation === 'Bidirectional' ? 'PROPAGATION_BIDIRECTIONAL'
        : vm.mountPropagation === 'HostToContainer' ? 'PROPAGATION_HOST_TO_CONTAINER' : 'PROPAGATION_PRIVATE',
    });
  }
  const psc = pod.spec?.securityContext;
  const sc = c.securityContext;
  const runAsUser = sc?.runAsUser ?? psc?.runAsUser;
  const runAsGroup = sc?.runAsGroup ?? psc?.runAsGroup;
  const privileged = !!sc?.privileged;
  return {
    metadata: { name: c.name, attempt: restartCount },
    image: { image, userSpecifiedImage: c.image ?? '' },
    command: (c.command ?? []).map((s) => expand(s, vars)),
    args: (c.args ?? []).map((s) => expand(s, vars)),
    workingDir: c.workingDir ?? '',
    envs: env,
    mounts,
    labels: { ...podLabels(pod), [CONTAINER_NAME_LABEL]: c.name },
    annotations: {
      [RESTART_COUNT_ANNOTATION]: String(restartCount),
      [CONTAINER_KIND_ANNOTATION]: kind,
      [CONTAINER_HASH_ANNOTATION]: containerHash(c),
      'io.kubernetes.container.terminationMessagePath': c.terminationMessagePath ?? '/dev/termination-log',
    },
    logPath: containerLogPath(c.name, restartCount),
    stdin: !!c.stdin,
    stdinOnce: !!c.stdinOnce,
    tty: !!c.tty,
    linux: {
      resources: linuxResources(c),
      securityContext: {
        privileged,
        capabilities: { addCapabilities: sc?.capabilities?.add ?? [], dropCapabilities: sc?.capabilities?.drop ?? [] },
        runAsUser: runAsUser !== undefined ? { value: runAsUser } : undefined,
        runAsGroup: runAsGroup !== undefined && runAsUser !== undefined ? { value: runAsGroup } : undefined,
        readonlyRootfs: !!sc?.readOnlyRootFilesystem,
        supplementalGroups: [...(psc?.supplementalGroups ?? []), ...(psc?.fsGroup !== undefined ? [psc.fsGroup] : [])],
        noNewPrivs: sc?.allowPrivilegeEscalation === false,
        namespaceOptions: {
          network: pod.spec?.hostNetwork ? 'NODE' : 'POD',
          pid: pod.spec?.hostPID ? 'NODE' : pod.spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
          ipc: pod.spec?.hostIPC ? 'NODE' : 'POD',
        },
        ...(privileged ? {} : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
      },
    },
  };
}

// containerd fills these in for a nil list only when the kubelet sends them; upstream's defaults.
const MASKED_PATHS = ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import type { PodSandboxConfig, PortMapping } from './cri/types.js';
import { podDNSConfig, type ClusterDNS } from './dns.js';
import { MANAGED_BY_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL, TERMINATION_GRACE_ANNOTATION } from './labels.js';

export interface SandboxEnv { podLogsDir: string; dns: ClusterDNS; nodeName: string }

/** `<podLogsDir>/<ns>_<name>_<uid>`: where the runtime writes the pod's container logs (kubelet-api reads them there). */
export const podLogDirectory = (podLogsDir: string, pod: Pod): string =>
  join(podLogsDir, `${pod.metadata?.namespace ?? 'default'}_${pod.metadata?.name ?? ''}_${pod.metadata?.uid ?? ''}`);

/** The labels every sandbox and container of a pod carry: how ListPodSandbox/ListContainers find them again. */
export const podLabels = (pod: Pod): Record<string, string> => ({
  [POD_NAME_LABEL]: pod.metadata?.name ?? '',
  [POD_NAMESPACE_LABEL]: pod.metadata?.namespace ?? 'default',
  [POD_UID_LABEL]: pod.metadata?.uid ?? '',
  [MANAGED_BY_LABEL]: 'true',
});

/**
 * The CRI sandbox for a pod (upstream's generatePodSandboxConfig): metadata,
 * hostname (the pod's, or `spec.hostname`; none for host-network pods: the node's),
 * log directory, resolv.conf, hostPort mappings (portmap), namespaces, and the
 * pod-level security bits.
 */
export function sandboxConfig(pod: Pod, attempt: number, env: SandboxEnv): PodSandboxConfig {
  const spec = pod.spec ?? { containers: [] };
  const hostNetwork = !!spec.hostNetwork;
  const portMappings: PortMapping[] = [];
  for (const c of spec.containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      portMappings.push({ protocol: (p.protocol ?? 'TCP') as PortMapping['protocol'], containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' });
    }
  }
  // A host-network pod keeps the node's hostname: runc cannot set one without its own UTS namespace.
  const hostname = hostNetwork ? '' : spec.hostname ?? pod.metadata?.name ?? '';
  const sc = spec.securityContext;
  return {
    metadata: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', uid: pod.metadata?.uid ?? '', attempt },
    hostname: hostname.slice(0, 63),
    logDirectory: podLogDirectory(env.podLogsDir, pod),
    dnsConfig: podDNSConfig(pod, env.dns),
    portMappings,
    labels: { ...podLabels(pod) },
    annotations: {
      ...(pod.metadata?.annotations ?? {}),
      [TERMINATION_GRACE_ANNOTATION]: String(spec.terminationGracePeriodSeconds ?? 30),
    },
    linux: {
      cgroupParent: '',
      securityContext: {
        namespaceOptions: {
          network: hostNetwork ? 'NODE' : 'POD',
          pid: spec.hostPID ? 'NODE' : 'CONTAINER',
          ipc: spec.hostIPC ? 'NODE' : 'POD',
        },
        runAsUser: sc?.runAsUser !== undefined ? { value: sc.runAsUser } : undefined,
        runAsGroup: sc?.runAsGroup !== undefined ? { value: sc.runAsGroup } : undefined,
        supplementalGroups: [...(sc?.supplementalGroups ?? []), ...(sc?.fsGroup !== undefined ? [sc.fsGroup] : [])],
        privileged: [...spec.containers, ...(spec.initContainers ?? [])].some((c) => c.securityContext?.privileged),
      },
      sysctls: Object.fromEntries((sc?.sysctls ?? []).map((s) => [s.name, s.value])),
    },
  };
}

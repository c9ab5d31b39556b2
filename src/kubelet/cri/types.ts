/**
 * TypeScript shapes of the CRI messages in api.proto, as @grpc/proto-loader
 * hands them over with our options: camelCase fields, enums as their names,
 * int64 as decimal strings (nanosecond timestamps overflow a double), bytes as
 * Buffers, absent scalars filled with proto3 defaults. Requests accept numbers
 * for int64 fields too.
 */

export type Int64 = string | number;
export type Labels = Record<string, string>;

export interface VersionResponse { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }

export interface DNSConfig { servers?: string[]; searches?: string[]; options?: string[] }
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export interface PortMapping { protocol?: Protocol; containerPort?: number; hostPort?: number; hostIp?: string }
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export interface Mount { containerPath: string; hostPath: string; readonly?: boolean; selinuxRelabel?: boolean; propagation?: MountPropagation }
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export interface NamespaceOption { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode; targetId?: string }
export interface Int64Value { value: Int64 }
export interface KeyValue { key: string; value: string }
export interface ImageSpec { image: string; annotations?: Labels; userSpecifiedImage?: string }
export interface SecurityProfile { profileType?: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostRef?: string }

// ---- sandboxes

export interface PodSandboxMetadata { name: string; uid: string; namespace: string; attempt?: number }
export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption; runAsUser?: Int64Value; runAsGroup?: Int64Value; readonlyRootfs?: boolean;
  supplementalGroups?: Int64[]; privileged?: boolean; seccomp?: SecurityProfile;
}
export interface LinuxPodSandboxConfig { cgroupParent?: string; securityContext?: LinuxSandboxSecurityContext; sysctls?: Labels }
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: Labels;
  annotations?: Labels;
  linux?: LinuxPodSandboxConfig;
}
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export interface PodSandboxNetworkStatus { ip: string; additionalIps: Array<{ ip: string }> }
export interface PodSandboxStatus {
  id: string; metadata: PodSandboxMetadata; state: PodSandboxState; createdAt: string;
  network: PodSandboxNetworkStatus | null; linux: { namespaces: { options: NamespaceOption | null } | null } | null;
  labels: Labels; annotations: Labels; runtimeHandler: string;
}
export interface PodSandboxStatusResponse { status: PodSandboxStatus; info: Labels }
export interface PodSandboxFilter { id?: string; state?: { state: PodSandboxState }; labelSelector?: Labels }
export interface PodSandbox {
  id: string; metadata: PodSandboxMetadata; state: PodSandboxState; createdAt: string;
  labels: Labels; annotations: Labels; runtimeHandler: string;
}

// ---- containers

export interface LinuxContainerResources {
  cpuPeriod?: Int64; cpuQuota?: Int64; cpuShares?: Int64; memoryLimitInBytes?: Int64; oomScoreAdj?: Int64;
  cpusetCpus?: string; cpusetMems?: string; unified?: Labels; memorySwapLimitInBytes?: Int64;
}
export interface Capability { addCapabilities?: string[]; dropCapabilities?: string[]; addAmbientCapabilities?: string[] }
export interface LinuxContainerSecurityContext {
  capabilities?: Capability; privileged?: boolean; namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value; runAsGroup?: Int64Value; runAsUsername?: string; readonlyRootfs?: boolean;
  supplementalGroups?: Int64[]; noNewPrivs?: boolean; maskedPaths?: string[]; readonlyPaths?: string[]; seccomp?: SecurityProfile;
}
export interface ContainerMetadata { name: string; attempt?: number }
export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  labels?: Labels;
  annotations?: Labels;
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext };
}
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export interface ContainerFilter { id?: string; state?: { state: ContainerState }; podSandboxId?: string; labelSelector?: Labels }
export interface Container {
  id: string; podSandboxId: string; metadata: ContainerMetadata; image: ImageSpec | null; imageRef: string;
  state: ContainerState; createdAt: string; labels: Labels; annotations: Labels;
}
export interface ContainerStatus {
  id: string; metadata: ContainerMetadata; state: ContainerState;
  createdAt: string; startedAt: string; finishedAt: string; exitCode: number;
  image: ImageSpec | null; imageRef: string; reason: string; message: string;
  labels: Labels; annotations: Labels; mounts: Mount[]; logPath: string;
}
export interface ContainerStatusResponse { status: ContainerStatus; info: Labels }

export interface ExecSyncResponse { stdout: Buffer; stderr: Buffer; exitCode: number }
export interface ExecRequest { containerId: string; cmd: string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }
export interface AttachRequest { containerId: string; stdin?: boolean; tty?: boolean; stdout?: boolean; stderr?: boolean }

// ---- stats

export interface UInt64Value { value: string }
export interface CpuUsage { timestamp: string; usageCoreNanoSeconds: UInt64Value | null; usageNanoCores: UInt64Value | null }
export interface MemoryUsage {
  timestamp: string; workingSetBytes: UInt64Value | null; availableBytes: UInt64Value | null; usageBytes: UInt64Value | null;
  rssBytes: UInt64Value | null; pageFaults: UInt64Value | null; majorPageFaults: UInt64Value | null;
}
export interface FilesystemUsage { timestamp: string; fsId: { mountpoint: string } | null; usedBytes: UInt64Value | null; inodesUsed: UInt64Value | null }
export interface ContainerAttributes { id: string; metadata: ContainerMetadata; labels: Labels; annotations: Labels }
export interface ContainerStats { attributes: ContainerAttributes; cpu: CpuUsage | null; memory: MemoryUsage | null; writableLayer: FilesystemUsage | null }
export interface ContainerStatsFilter { id?: string; podSandboxId?: string; labelSelector?: Labels }
export interface NetworkInterfaceUsage { name: string; rxBytes: UInt64Value | null; rxErrors: UInt64Value | null; txBytes: UInt64Value | null; txErrors: UInt64Value | null }
export interface PodSandboxStats {
  attributes: { id: string; metadata: PodSandboxMetadata; labels: Labels; annotations: Labels };
  linux: {
    cpu: CpuUsage | null; memory: MemoryUsage | null;
    network: { timestamp: string; defaultInterface: NetworkInterfaceUsage | null; interfaces: NetworkInterfaceUsage[] } | null;
    process: { timestamp: string; processCount: UInt64Value | null } | null;
    containers: ContainerStats[];
  } | null;
}

// ---- runtime status

export interface RuntimeCondition { type: string; status: boolean; reason: string; message: string }
export interface StatusResponse { status: { conditions: RuntimeCondition[] } | null; info: Labels }

// ---- images

export interface Image {
  id: string; repoTags: string[]; repoDigests: string[]; size: string;
  uid: { value: string } | null; username: string; spec: ImageSpec | null; pinned: boolean;
}
export interface AuthConfig {
  username?: string; password?: string; auth?: string; serverAddress?: string; identityToken?: string; registryToken?: string;
}
export interface ImageFsInfoResponse { imageFilesystems: FilesystemUsage[]; containerFilesystems: FilesystemUsage[] }

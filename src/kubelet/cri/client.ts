import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type * as t from './types.js';

export * from './types.js';

/** Finds api.proto next to this module, or in src/ when running the tsc build in dist/ (tsc does not copy it). */
function protoPath(): string {
  const here = fileURLToPath(new URL('./api.proto', import.meta.url));
  if (existsSync(here)) return here;
  const fromDist = fileURLToPath(new URL('../../../../src/kubelet/cri/api.proto', import.meta.url));
  if (existsSync(fromDist)) return fromDist;
  throw new Error(`CRI proto not found at ${here}`);
}

let loaded: grpc.GrpcObject | undefined;
function runtimePackage(): grpc.GrpcObject {
  if (!loaded) {
    const def = protoLoader.loadSync(protoPath(), {
      keepCase: false, longs: String, enums: String, bytes: Buffer, defaults: true, arrays: true, objects: false, oneofs: true,
    });
    loaded = ((grpc.loadPackageDefinition(def).runtime as grpc.GrpcObject).v1) as grpc.GrpcObject;
  }
  return loaded;
}

/** A failed CRI call: which method, the gRPC status name (NOT_FOUND, UNAVAILABLE…) and the runtime's message. */
export class CriError extends Error {
  constructor(readonly method: string, readonly code: string, readonly details: string) {
    super(`CRI ${method}: ${code}: ${details}`);
    this.name = 'CriError';
  }
  get notFound(): boolean { return this.code === 'NOT_FOUND'; }
}

export const isNotFound = (err: unknown): boolean =>
  err instanceof CriError && (err.notFound || /not found|does not exist/i.test(err.details));

export interface CriClientOptions {
  /** `unix:///run/…/containerd.sock` or a bare socket path. */
  endpoint: string;
  /** Default deadline per call; image pulls get `pullTimeoutMs`. */
  timeoutMs?: number;
  pullTimeoutMs?: number;
}

type Unary = (req: object, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

/**
 * A promise-based client of a CRI runtime (containerd's CRI plugin): the
 * RuntimeService and ImageService of k8s.io/cri-api runtime.v1 over one gRPC
 * channel on a unix socket. Every call has a deadline; failures are CriErrors.
 */
export class CriClient {
  readonly endpoint: string;
  private readonly runtime: grpc.Client;
  private readonly images: grpc.Client;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(opts: CriClientOptions) {
    this.endpoint = opts.endpoint.startsWith('unix:') ? opts.endpoint : `unix://${opts.endpoint}`;
    this.timeoutMs = opts.timeoutMs ?? 2 * 60_000;
    this.pullTimeoutMs = opts.pullTimeoutMs ?? 10 * 60_000;
    const pkg = runtimePackage();
    const Runtime = pkg.RuntimeService as grpc.ServiceClientConstructor;
    const Images = pkg.ImageService as grpc.ServiceClientConstructor;
    const options = { 'grpc.max_receive_message_length': 32 * 1024 * 1024 };
    this.runtime = new Runtime(this.endpoint, grpc.credentials.createInsecure(), options);
    // The image client shares the runtime client's channel: one socket connection.
    this.images = new Images(this.endpoint, grpc.credentials.createInsecure(), { ...options, channelOverride: this.runtime.getChannel() });
  }

  close(): void { this.runtime.close(); }

  private call<R>(client: grpc.Client, method: string, req: object, timeoutMs = this.timeoutMs): Promise<R> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    return new Promise((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new CriError(method, grpc.status[err.code] ?? String(err.code), err.details || err.message));
        else resolve(res as R);
      });
    });
  }
  private rt<R>(method: string, req: object, timeoutMs?: number): Promise<R> { return this.call<R>(this.runtime, method, req, timeoutMs); }
  private img<R>(method: string, req: object, timeoutMs?: number): Promise<R> { return this.call<R>(this.images, method, req, timeoutMs); }

  // ---- RuntimeService

  version(): Promise<t.VersionResponse> { return this.rt('Version', { version: 'v1' }); }
  status(verbose = false): Promise<t.StatusResponse> { return this.rt('Status', { verbose }); }

  async runPodSandbox(config: t.PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    return (await this.rt<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler })).podSandboxId;
  }
  async stopPodSandbox(podSandboxId: string): Promise<void> { await this.rt('StopPodSandbox', { podSandboxId }); }
  async removePodSandbox(podSandboxId: string): Promise<void> { await this.rt('RemovePodSandbox', { podSandboxId }); }
  podSandboxStatus(podSandboxId: string, verbose = false): Promise<t.PodSandboxStatusResponse> {
    return this.rt('PodSandboxStatus', { podSandboxId, verbose });
  }
  async listPodSandbox(filter?: t.PodSandboxFilter): Promise<t.PodSandbox[]> {
    return (await this.rt<{ items: t.PodSandbox[] }>('ListPodSandbox', { filter })).items;
  }

  async createContainer(podSandboxId: string, config: t.ContainerConfig, sandboxConfig: t.PodSandboxConfig): Promise<string> {
    return (await this.rt<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig })).containerId;
  }
  async startContainer(containerId: string): Promise<void> { await this.rt('StartContainer', { containerId }); }
  /** `timeoutSeconds`: SIGTERM, then SIGKILL after that many seconds; the deadline leaves room for it. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.rt('StopContainer', { containerId, timeout: timeoutSeconds }, this.timeoutMs + timeoutSeconds * 1000);
  }
  async removeContainer(containerId: string): Promise<void> { await this.rt('RemoveContainer', { containerId }); }
  async listContainers(filter?: t.ContainerFilter): Promise<t.Container[]> {
    return (await this.rt<{ containers: t.Container[] }>('ListContainers', { filter })).containers;
  }
  containerStatus(containerId: string, verbose = false): Promise<t.ContainerStatusResponse> {
    return this.rt('ContainerStatus', { containerId, verbose });
  }
  async reopenContainerLog(containerId: string): Promise<void> { await this.rt('ReopenContainerLog', { containerId }); }

  /** Runs `cmd` in the container and waits; `timeoutSeconds` 0 means no limit on the runtime side. */
  execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<t.ExecSyncResponse> {
    const deadline = timeoutSeconds > 0 ? timeoutSeconds * 1000 + 10_000 : this.timeoutMs;
    return this.rt('ExecSync', { containerId, cmd, timeout: timeoutSeconds }, deadline);
  }
  /** The URL of the runtime's streaming server for this exec session. */
  async exec(req: t.ExecRequest): Promise<string> { return (await this.rt<{ url: string }>('Exec', req)).url; }
  async attach(req: t.AttachRequest): Promise<string> { return (await this.rt<{ url: string }>('Attach', req)).url; }
  async portForward(podSandboxId: string, port: number[] = []): Promise<string> {
    return (await this.rt<{ url: string }>('PortForward', { podSandboxId, port })).url;
  }

  async containerStats(containerId: string): Promise<t.ContainerStats> {
    return (await this.rt<{ stats: t.ContainerStats }>('ContainerStats', { containerId })).stats;
  }
  async listContainerStats(filter?: t.ContainerStatsFilter): Promise<t.ContainerStats[]> {
    return (await this.rt<{ stats: t.ContainerStats[] }>('ListContainerStats', { filter })).stats;
  }
  async podSandboxStats(podSandboxId: string): Promise<t.PodSandboxStats> {
    return (await this.rt<{ stats: t.PodSandboxStats }>('PodSandboxStats', { podSandboxId })).stats;
  }
  async listPodSandboxStats(filter?: { id?: string; labelSelector?: t.Labels }): Promise<t.PodSandboxStats[]> {
    return (await this.rt<{ stats: t.PodSandboxStats[] }>('ListPodSandboxStats', { filter })).stats;
  }

  // ---- ImageService

  async listImages(image?: string): Promise<t.Image[]> {
    return (await this.img<{ images: t.Image[] }>('ListImages', { filter: image ? { image: { image } } : undefined })).images;
  }
  /** The image, or null when the runtime does not have it. */
  async imageStatus(image: string): Promise<t.Image | null> {
    return (await this.img<{ image: t.Image | null }>('ImageStatus', { image: { image } })).image;
  }
  /** Pulls and returns the image reference (its ID) the runtime resolved it to. */
  async pullImage(image: string, auth?: t.AuthConfig, sandboxConfig?: t.PodSandboxConfig): Promise<string> {
    const res = await this.img<{ imageRef: string }>('PullImage', { image: { image }, auth, sandboxConfig }, this.pullTimeoutMs);
    return res.imageRef;
  }
  async removeImage(image: string): Promise<void> { await this.img('RemoveImage', { image: { image } }); }
  imageFsInfo(): Promise<t.ImageFsInfoResponse> { return this.img('ImageFsInfo', {}); }
}

/** CRI timestamps are int64 nanoseconds since the epoch; 0 means unset. */
export function nanosToDate(nanos: string | number | undefined): Date | undefined {
  if (nanos === undefined || nanos === '0' || nanos === 0) return undefined;
  return new Date(Number(BigInt(nanos) / 1_000_000n));
}

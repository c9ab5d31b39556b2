/**
 * Container log rotation, as upstream's kubelet container log manager does it:
 * a live log past `containerLogMaxSize` is renamed to `<n>.log.<timestamp>` and
 * the runtime is asked (CRI ReopenContainerLog) to start a new file at the old
 * path; copies beyond `containerLogMaxFiles` (live file included) are removed,
 * oldest first.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { compareRotated, rotationSuffix } from './paths.js';

/** What the log manager needs from the container runtime (a subset of the CRI client). */
export interface LogRotationRuntime {
  listContainers(filter?: { state?: { state: 'CONTAINER_RUNNING' } }): Promise<Array<{ id: string }>>;
  containerStatus(containerId: string): Promise<{ status: { logPath: string } }>;
  reopenContainerLog(containerId: string): Promise<void>;
}

export interface ContainerLogManagerOptions {
  runtime: LogRotationRuntime;
  /** Upstream's `containerLogMaxSize`: 10 MiB by default. */
  maxSizeBytes?: number;
  /** Upstream's `containerLogMaxFiles` (the live file counts): 5 by default, at least 2. */
  maxFiles?: number;
  log?: (msg: string) => void;
  /** The clock, for the rotated files' names. */
  now?: () => Date;
}

export const DEFAULT_CONTAINER_LOG_MAX_SIZE = 10 * 1024 * 1024;
export const DEFAULT_CONTAINER_LOG_MAX_FILES = 5;
/** Upstream checks every 10 s. */
export const LOG_ROTATION_INTERVAL_MS = 10_000;

export class ContainerLogManager {
  private readonly maxSize: number;
  private readonly maxFiles: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly opts: ContainerLogManagerOptions) {
    this.maxSize = opts.maxSizeBytes ?? DEFAULT_CONTAINER_LOG_MAX_SIZE;
    this.maxFiles = Math.max(2, opts.maxFiles ?? DEFAULT_CONTAINER_LOG_MAX_FILES);
  }

  /** Rotates every running container's log that has grown past the limit. Safe to call at any time; one pass at a time. */
  rotateLogs(): Promise<void> {
    this.running ??= this.rotateAll().finally(() => { this.running = undefined; });
    return this.running;
  }

  /** Calls `rotateLogs` every `intervalMs` until `stop()`. */
  start(intervalMs = LOG_ROTATION_INTERVAL_MS): void {
    this.timer ??= setInterval(() => {
      this.rotateLogs().catch((err: unknown) => this.opts.log?.(`log rotation failed: ${err instanceof Error ? err.message : String(err)}`));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  private async rotateAll(): Promise<void> {
    const containers = await this.opts.runtime.listContainers({ state: { state: 'CONTAINER_RUNNING' } });
    for (const c of containers) {
      try {
        await this.rotateContainer(c.id);
      } catch (err) {
        this.opts.log?.(`rotating the log of container ${c.id.slice(0, 12)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** Rotates one container's live log if it is too big. */
  async rotateContainer(containerId: string): Promise<boolean> {
    const { status } = await this.opts.runtime.containerStatus(containerId);
    const live = status.logPath;
    if (!live) return false;
    const size = await stat(live).then((s) => s.size, () => -1);
    if (size < this.maxSize) return false;
    // Room for the copy about to be made: keep maxFiles - 2 older copies.
    await this.removeExcess(live, this.maxFiles - 2);
    const rotated = await this.freeName(`${live}.${rotationSuffix((this.opts.now ?? (() => new Date()))())}`);
    await rename(live, rotated);
    try {
      await this.opts.runtime.reopenContainerLog(containerId);
    } catch (err) {
      // The runtime still writes to the renamed file: put it back so nothing is lost.
      await rename(rotated, live).catch(() => {});
      throw err;
    }
    this.opts.log?.(`rotated ${live} (${size} bytes) to ${basename(rotated)}`);
    return true;
  }

  /** Keeps the newest `keep` rotated copies of `live`. */
  private async removeExcess(live: string, keep: number): Promise<void> {
    const prefix = `${basename(live)}.`;
    const copies = (await readdir(dirname(live))).filter((n) => n.startsWith(prefix)).sort(compareRotated);
    for (const old of copies.slice(0, Math.max(0, copies.length - keep))) await rm(join(dirname(live), old), { force: true });
  }

  /**
   * Two rotations within one second would share a name: a counter after the
   * highest one of that second keeps the newest copy last, even when an older
   * copy of the same second has been removed meanwhile.
   */
  private async freeName(path: string): Promise<string> {
    const dir = dirname(path), base = basename(path);
    const taken = (await readdir(dir)).filter((n) => n === base || n.startsWith(`${base}.`));
    if (!taken.length) return path;
    const highest = Math.max(...taken.map((n) => (n === base ? 0 : Number(n.slice(base.length + 1)) || 0)));
    return `${path}.${highest + 1}`;
  }
}

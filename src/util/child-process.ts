import type { ChildProcess } from 'node:child_process';
import { removePidFile, writePidFile } from './pid-file.js';

/**
 * Stops a supervised daemon the way its own shutdown expects: SIGTERM, then
 * SIGKILL if it has not exited after `graceMs`. Resolves once it is gone.
 */
export async function terminateChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
  await exited;
  clearTimeout(timer);
}

export interface SupervisorOptions {
  /** Names the daemon in log lines: `containerd: exited unexpectedly …`. */
  name: string;
  spawn: () => ChildProcess | Promise<ChildProcess>;
  /** Where the running child's pid is kept, so a later run can find a daemon this one left. */
  pidFile: string;
  log: (m: string) => void;
  /** Appended to the "exited unexpectedly" line: where to read why. */
  describeExit?: (child: ChildProcess) => string;
  /** After a restart: e.g. wait until it answers. A failure is logged. */
  afterRestart?: (child: ChildProcess) => Promise<void>;
}

/**
 * Keeps one daemon child running: restarts it when it exits on its own,
 * with back-off from 500 ms doubling to 30 s (reset after a minute of
 * uptime), until `stop`.
 */
export class ChildSupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = 500;

  constructor(private readonly opts: SupervisorOptions) {}

  get current(): ChildProcess | undefined { return this.child; }

  async launch(): Promise<ChildProcess> {
    const { name, log } = this.opts;
    const c = await this.opts.spawn();
    if (this.stopping) {
      // stop() ran while a restart was on its way: do not leave this one behind.
      c.kill('SIGTERM');
      throw new Error(`${name}: stopped while restarting`);
    }
    const startedAt = Date.now();
    c.once('exit', (code, signal) => {
      if (this.child !== c || this.stopping) return;
      this.child = undefined;
      if (Date.now() - startedAt > 60_000) this.backoffMs = 500;
      log(`${name}: exited unexpectedly (code ${code}, signal ${signal}); restarting in ${this.backoffMs} ms${this.opts.describeExit?.(c) ?? ''}`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.launch().then((n) => this.opts.afterRestart?.(n))
          .catch((e) => log(`${name}: restart failed: ${(e as Error).message}`));
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    });
    this.child = c;
    if (c.pid) writePidFile(this.opts.pidFile, c.pid);
    return c;
  }

  /** A first start that never became ready: kill it, restart nothing. */
  abandon(): void {
    this.stopping = true;
    try { this.child?.kill('SIGKILL'); } catch { /* gone */ }
  }

  /** Stops restarting and terminates the child; false if none was running. */
  async stop(graceMs: number): Promise<boolean> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const c = this.child;
    this.child = undefined;
    if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return false;
    await terminateChild(c, graceMs);
    removePidFile(this.opts.pidFile, c.pid);
    return true;
  }
}

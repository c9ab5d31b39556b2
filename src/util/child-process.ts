import type { ChildProcess } from 'node:child_process';

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

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Pid files: how a daemon left by an earlier run (a supervised containerd or
 * registry after a crash, a `bosun server` that `bosun killall` must stop) is
 * found again. A pid is only trusted with a look at the process's command
 * line, since a stale file's pid may belong to someone else by now.
 */

export function writePidFile(path: string, pid: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${pid}\n`);
}

/** Removes the file only if it still names `pid`: another supervisor may have recorded a newer process since. */
export function removePidFile(path: string, pid: number): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(pid)) rmSync(path, { force: true });
  } catch { /* already gone */ }
}

/** Records this process in `path` until it exits. */
export function claimPidFile(path: string): void {
  writePidFile(path, process.pid);
  process.once('exit', () => removePidFile(path, process.pid));
}

/** Alive and not a zombie (an exited child not yet reaped counts as gone). */
export function processRunning(pid: number): boolean {
  try { return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

/** The pid `path` names if that process runs, is not this one, and its argv passes `isOurs`. */
export function livePidFrom(path: string, isOurs: (argv: string[]) => boolean): number | undefined {
  let pid: number;
  try { pid = Number(readFileSync(path, 'utf8').trim()); } catch { return undefined; }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !processRunning(pid)) return undefined;
  try {
    return isOurs(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')) ? pid : undefined;
  } catch { return undefined; }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processRunning(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone (or 5 s after the SIGKILL). */
export async function stopPid(pid: number, graceMs: number): Promise<void> {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  if (await waitGone(pid, graceMs)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  await waitGone(pid, 5_000);
}

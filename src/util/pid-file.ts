import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A `bosun server` or `bosun agent` records its pid in its data dir so that
 * `bosun killall` can stop it before taking its pods down, as k3s-killall.sh
 * stops k3s first: otherwise the running kubelet would start them again.
 * Returns a function that removes the file if it still names this process.
 */
export function writePidFile(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${process.pid}\n`);
  const remove = () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
    } catch { /* already gone */ }
  };
  process.once('exit', remove);
  return remove;
}

/** The pid in `path` if that process is alive and is a bosun command (a stale file's pid may have been reused). */
export function runningPid(path: string): number | undefined {
  let pid: number;
  try { pid = Number(readFileSync(path, 'utf8').trim()); } catch { return undefined; }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  let cmdline: string;
  try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return undefined; }
  return /bosun|cli\/main\.[jt]s/.test(cmdline) ? pid : undefined;
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs: number): Promise<void> {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (!alive(pid)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  while (alive(pid)) await sleep(50);
}

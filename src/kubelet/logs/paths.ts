/**
 * Where container logs live, as upstream's kubelet lays them out:
 * `<podLogsDir>/<namespace>_<podName>_<podUID>/<containerName>/<restartCount>.log`,
 * rotated copies beside them as `<restartCount>.log.<YYYYMMDD-HHMMSS>`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The directory of one pod's logs (the CRI sandbox's `log_directory`). */
export const podLogsDirectory = (podLogsDir: string, namespace: string, podName: string, podUid: string): string =>
  join(podLogsDir, `${namespace}_${podName}_${podUid}`);

/** A container instance's log path relative to its pod's log directory (the CRI container's `log_path`). */
export const containerLogRelativePath = (containerName: string, restartCount: number): string =>
  join(containerName, `${restartCount}.log`);

/** The files of one container instance's log, oldest first: rotated copies, then the live file. */
export interface ContainerLogFiles { restartCount: number; live: string; rotated: string[] }

const LIVE = /^(\d+)\.log$/;
const ROTATED = /^(\d+)\.log\.(\d{8}-\d{6}(?:\.\d+)?)$/;

/**
 * The log files of each instance (restart) of a container found in
 * `<podLogsDirectory>/<containerName>/`, newest instance first.
 */
export async function containerLogInstances(podLogsDirectoryPath: string, containerName: string): Promise<ContainerLogFiles[]> {
  const dir = join(podLogsDirectoryPath, containerName);
  let names: string[];
  try { names = await readdir(dir); } catch { return []; }
  const byCount = new Map<number, ContainerLogFiles>();
  const instance = (n: number) => {
    let f = byCount.get(n);
    if (!f) { f = { restartCount: n, live: join(dir, `${n}.log`), rotated: [] }; byCount.set(n, f); }
    return f;
  };
  for (const name of names) {
    const live = LIVE.exec(name);
    if (live) { instance(Number(live[1])); continue; }
    const rotated = ROTATED.exec(name);
    if (rotated) instance(Number(rotated[1])).rotated.push(join(dir, name));
  }
  for (const f of byCount.values()) f.rotated.sort(compareRotated);
  return [...byCount.values()].sort((a, b) => b.restartCount - a.restartCount);
}

/**
 * Orders rotated copies oldest first: by the time in their suffix, then by the
 * counter a second rotation within the same second adds (`….1`, `….2`).
 */
export function compareRotated(a: string, b: string): number {
  const key = (p: string): [string, number] => {
    const m = /\.(\d{8}-\d{6})(?:\.(\d+))?$/.exec(p);
    return m ? [m[1], Number(m[2] ?? 0)] : [p, 0];
  };
  const [ta, na] = key(a), [tb, nb] = key(b);
  return ta < tb ? -1 : ta > tb ? 1 : na - nb;
}

/** The suffix of a rotated copy made at `at` (upstream's `20060102-150405`). */
export function rotationSuffix(at: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}-${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`;
}

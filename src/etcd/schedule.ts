/**
 * When periodic snapshots are taken: a five-field cron expression, as k3s'
 * `--etcd-snapshot-schedule-cron` (default `0 *\/12 * * *`), or a fixed
 * interval (`--etcd-snapshot-interval`, bosun's addition, handy for tests).
 */
export interface Schedule { next(after: Date): Date }

const FIELDS = [
  { min: 0, max: 59 }, // minute
  { min: 0, max: 23 }, // hour
  { min: 1, max: 31 }, // day of month
  { min: 1, max: 12 }, // month
  { min: 0, max: 7 }, // day of week (0 and 7 are Sunday)
];

function parseField(text: string, { min, max }: { min: number; max: number }, index: number): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`invalid cron field "${text}"`);
    const step = m[4] ? Number(m[4]) : 1;
    let lo = min, hi = max;
    if (m[1] !== '*') {
      lo = Number(m[2]);
      hi = m[3] !== undefined ? Number(m[3]) : m[4] ? max : lo;
    }
    if (step < 1 || lo < min || hi > max || lo > hi) throw new Error(`invalid cron field "${text}"`);
    for (let v = lo; v <= hi; v += step) out.add(index === 4 && v === 7 ? 0 : v);
  }
  return out;
}

export function cronSchedule(expr: string): Schedule {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`invalid cron expression "${expr}": want 5 fields`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!, i));
  const domAny = parts[2] === '*', dowAny = parts[4] === '*';
  return {
    next(after) {
      const t = new Date(after.getTime());
      t.setSeconds(0, 0);
      t.setMinutes(t.getMinutes() + 1);
      // Minute by minute; at most a year ahead (a few hundred thousand steps).
      for (let i = 0; i < 366 * 24 * 60; i++) {
        const dayOk = domAny && dowAny ? true
          : domAny ? dow!.has(t.getDay()) : dowAny ? dom!.has(t.getDate()) : dom!.has(t.getDate()) || dow!.has(t.getDay());
        if (month!.has(t.getMonth() + 1) && dayOk && hour!.has(t.getHours()) && minute!.has(t.getMinutes())) return t;
        t.setMinutes(t.getMinutes() + 1);
      }
      throw new Error(`cron expression "${expr}" never fires`);
    },
  };
}

export const intervalSchedule = (ms: number): Schedule => ({ next: (after) => new Date(after.getTime() + ms) });

/** Calls `task` at each time of `schedule` until stopped; a failure is logged and the schedule goes on. */
export function runSchedule(schedule: Schedule, task: () => Promise<void>, log: (m: string) => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = () => {
    if (stopped) return;
    const delay = Math.max(0, schedule.next(new Date()).getTime() - Date.now());
    // setTimeout's limit is about 24.8 days; re-arm in steps for a far-off time.
    timer = setTimeout(() => {
      if (delay > 2 ** 31 - 1) return arm();
      task().catch((err: unknown) => log(`scheduled snapshot failed: ${err instanceof Error ? err.message : String(err)}`)).finally(arm);
    }, Math.min(delay, 2 ** 31 - 1));
    timer.unref();
  };
  arm();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

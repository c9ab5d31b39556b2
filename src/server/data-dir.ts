import { join } from 'node:path';

/** `/var/lib/bosun` as root, else `~/.bosun` (k3s' choice of places). */
export const defaultDataDir = (): string =>
  process.getuid?.() === 0 ? '/var/lib/bosun' : join(process.env.HOME ?? '.', '.bosun');

/** Where a running `bosun server` or `bosun agent` records its pid, for `bosun killall`. */
export const pidFileOf = (dataDir: string, role: 'server' | 'agent'): string => join(dataDir, role, 'bosun.pid');

import { join } from 'node:path';

/** `/var/lib/bosun` as root, else `~/.bosun` (k3s' choice of places). */
export const defaultDataDir = (): string =>
  process.getuid?.() === 0 ? '/var/lib/bosun' : join(process.env.HOME ?? '.', '.bosun');

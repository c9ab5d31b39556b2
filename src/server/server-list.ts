import { writeFile, rename } from 'node:fs/promises';
import type { Endpoints } from 'kubernetes-types/core/v1';
import type { ResourceRegistry } from '../apiserver/registry.js';

/** `<data-dir>/server/servers`: the cluster's live API servers, one `https://ip:port` a line. */
export const SERVER_LIST_FILE = 'servers';

/** The servers the `kubernetes` Endpoints list (each server keeps itself there while it lives). */
export function serversFromEndpoints(ep: Endpoints | undefined): string[] {
  const out: string[] = [];
  for (const subset of ep?.subsets ?? []) {
    for (const port of subset.ports ?? []) {
      for (const a of subset.addresses ?? []) out.push(`https://${a.ip.includes(':') ? `[${a.ip}]` : a.ip}:${port.port}`);
    }
  }
  return out.sort();
}

/**
 * Keeps the server list on disk, from the API server's own cache, so that
 * `bosun kubectl` on this machine can reach another server when this one is
 * down (k3s' agents keep such a list for their load balancer). A cache read
 * every 2 s; the file is written only when the list changes.
 */
export function keepServerList(endpoints: ResourceRegistry, path: string, intervalMs = 2_000): () => void {
  let last = '';
  const write = async () => {
    const cached = endpoints.cache.get(endpoints.keyFor('default', 'kubernetes'));
    const text = serversFromEndpoints(cached?.object as Endpoints | undefined).join('\n');
    if (!text || text === last) return;
    await writeFile(`${path}.tmp`, `${text}\n`);
    await rename(`${path}.tmp`, path);
    last = text;
  };
  const timer = setInterval(() => { void write().catch(() => { /* next round */ }); }, intervalMs);
  timer.unref();
  void write().catch(() => {});
  return () => clearInterval(timer);
}

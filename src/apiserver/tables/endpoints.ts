/** `kubectl get endpoints`, as upstream's printEndpoints. */
import type { Endpoints } from 'kubernetes-types/core/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [nameColumn, column('Endpoints', 'string', fieldDoc['Endpoints.subsets']), ageColumn];

const MAX_SHOWN = 3;
const joinHostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Upstream's formatEndpoints: the first three `ip:port` pairs (bare IPs for port-less headless subsets), then `+ N more...`. */
function formatEndpoints(endpoints: Endpoints): string {
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const shown: string[] = [];
  let count = 0;
  let more = false;
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    const pairs = subset.ports?.length
      ? subset.ports.flatMap((port) => addresses.map((a) => joinHostPort(a.ip, port.port)))
      : addresses.map((a) => a.ip);
    count += pairs.length;
    for (const pair of pairs) {
      if (shown.length === MAX_SHOWN) { more = true; break; }
      shown.push(pair);
    }
  }
  const text = shown.join(',');
  return more ? `${text} + ${count - MAX_SHOWN} more...` : text;
}

export const endpointsTable = definePrinter<Endpoints>(columns, (ep, now) => [nameOf(ep), formatEndpoints(ep), age(ep, now)]);

import type { Container, Pod } from 'kubernetes-types/core/v1';
import { addQuantities, compareQuantities, tryParseQuantity, type Quantity } from '../../api/validation/quantity.js';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = ['cpu', 'memory'];

/**
 * ComputePodQOS: Guaranteed when every container limits cpu and memory and
 * the summed requests equal the summed limits; BestEffort when nothing is
 * requested or limited; Burstable otherwise. Zero and unparsable values
 * count as unset (validation reports the latter).
 */
export function computePodQOS(pod: Pod): QOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const containers: Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of containers) {
    accumulate(c.resources?.requests, requests);
    const found = accumulate(c.resources?.limits, limits);
    if (!QOS_RESOURCES.every((r) => found.has(r))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || compareQuantities(lim, req) !== 0) { guaranteed = false; break; }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

function accumulate(list: Record<string, string | number> | undefined, into: Map<string, Quantity>): Set<string> {
  const found = new Set<string>();
  for (const [name, text] of Object.entries(list ?? {})) {
    if (!QOS_RESOURCES.includes(name)) continue;
    const q = tryParseQuantity(String(text));
    if (!q || compareQuantities(q, '0') <= 0) continue;
    found.add(name);
    const prev = into.get(name);
    into.set(name, prev ? addQuantities(prev, q) : q);
  }
  return found;
}

import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1';
import { parseQuantity, quantityToMilli, quantityValue } from '../api/validation/quantity.js';

/** What fieldRef may read besides the Pod object itself. */
export interface PodRuntimeFacts { podIP?: string; podIPs?: string[]; hostIP?: string; nodeName?: string }

/**
 * A downward-API fieldRef: metadata.name/namespace/uid, metadata.labels['k'],
 * metadata.annotations['k'], spec.nodeName, spec.serviceAccountName,
 * status.hostIP, status.podIP, status.podIPs; whole labels/annotations as
 * `k="v"` lines (volumes only). Undefined when the path is not supported.
 */
export function podFieldValue(pod: Pod, ref: ObjectFieldSelector, facts: PodRuntimeFacts): string | undefined {
  const path = ref.fieldPath;
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]] ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata?.name ?? '';
    case 'metadata.namespace': return pod.metadata?.namespace ?? '';
    case 'metadata.uid': return pod.metadata?.uid ?? '';
    case 'metadata.labels': return formatMap(pod.metadata?.labels);
    case 'metadata.annotations': return formatMap(pod.metadata?.annotations);
    case 'spec.nodeName': return pod.spec?.nodeName ?? facts.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': return facts.hostIP ?? '';
    case 'status.hostIPs': return facts.hostIP ?? '';
    case 'status.podIP': return facts.podIP ?? '';
    case 'status.podIPs': return (facts.podIPs ?? (facts.podIP ? [facts.podIP] : [])).join(',');
    default: return undefined;
  }
}

const formatMap = (m: Record<string, string> | undefined): string =>
  Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join('\n');

/**
 * A resourceFieldRef (limits.cpu, requests.memory…) in units of its divisor,
 * rounded up as upstream; a missing limit falls back to the node's allocatable.
 */
export function resourceFieldValue(container: Container | undefined, ref: ResourceFieldSelector, allocatable: { cpu: string; memory: string; 'ephemeral-storage'?: string }): string {
  const [kind, name] = ref.resource.split('.') as ['limits' | 'requests', string];
  let raw = (kind === 'limits' ? container?.resources?.limits : container?.resources?.requests)?.[name];
  if (raw === undefined && kind === 'limits') raw = (allocatable as Record<string, string>)[name];
  if (raw === undefined) raw = name === 'cpu' || name === 'memory' ? '0' : '0';
  const divisor = ref.divisor !== undefined ? String(ref.divisor) : name === 'cpu' ? '1' : '1';
  if (name === 'cpu') {
    const milli = quantityToMilli(parseQuantity(String(raw)));
    const per = quantityToMilli(parseQuantity(divisor));
    return String(Math.max(kind === 'limits' || milli > 0 ? 1 : 0, Math.ceil(milli / per)));
  }
  const value = quantityValue(parseQuantity(String(raw)));
  return String(Math.ceil(value / quantityValue(parseQuantity(divisor))));
}

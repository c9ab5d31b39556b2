/**
 * Compute resources as the scheduler counts them (upstream's
 * `framework.Resource` and `resource.PodRequests`): integers in milli-CPU and
 * bytes, parsed once per pod so Filter is arithmetic.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1';
import { quantityToMilli, quantityValue } from '../api/validation/quantity.js';

/** What a container with no request counts as when spreading (upstream's DefaultMilliCPURequest, DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  /** Extended resources (`example.com/gpu`) and hugepages. */
  scalar: Map<string, number>;
}

export const emptyResource = (): Resource => ({ milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: new Map() });

/** Upstream's IsScalarResourceName: extended resources, hugepages-*, attachable-volumes-*. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  if (!name.includes('/')) return false;
  return !name.startsWith('kubernetes.io/') && !name.startsWith('requests.');
}

const parsedCache = new Map<string, number>();
function milli(q: string | number): number {
  if (typeof q === 'number') return q * 1000;
  const key = `m${q}`;
  let v = parsedCache.get(key);
  if (v === undefined) {
    try { v = quantityToMilli(q); } catch { v = 0; }
    if (parsedCache.size > 10_000) parsedCache.clear();
    parsedCache.set(key, v);
  }
  return v;
}
function value(q: string | number): number {
  if (typeof q === 'number') return q;
  const key = `v${q}`;
  let v = parsedCache.get(key);
  if (v === undefined) {
    try { v = quantityValue(q); } catch { v = 0; }
    if (parsedCache.size > 10_000) parsedCache.clear();
    parsedCache.set(key, v);
  }
  return v;
}

export function addResourceList(r: Resource, list: Record<string, string | number> | undefined): void {
  if (!list) return;
  for (const [name, q] of Object.entries(list)) {
    switch (name) {
      case 'cpu': r.milliCPU += milli(q); break;
      case 'memory': r.memory += value(q); break;
      case 'ephemeral-storage': r.ephemeralStorage += value(q); break;
      case 'pods': r.allowedPodNumber += value(q); break;
      default: if (isScalarResourceName(name)) r.scalar.set(name, (r.scalar.get(name) ?? 0) + value(q));
    }
  }
}

export function resourceFromList(list: Record<string, string | number> | undefined): Resource {
  const r = emptyResource();
  addResourceList(r, list);
  return r;
}

function add(a: Resource, b: Resource): void {
  a.milliCPU += b.milliCPU; a.memory += b.memory; a.ephemeralStorage += b.ephemeralStorage;
  for (const [k, v] of b.scalar) a.scalar.set(k, (a.scalar.get(k) ?? 0) + v);
}
function maxInto(a: Resource, b: Resource): void {
  a.milliCPU = Math.max(a.milliCPU, b.milliCPU); a.memory = Math.max(a.memory, b.memory);
  a.ephemeralStorage = Math.max(a.ephemeralStorage, b.ephemeralStorage);
  for (const [k, v] of b.scalar) a.scalar.set(k, Math.max(a.scalar.get(k) ?? 0, v));
}

function containerRequests(c: Container, nonZero: boolean): Resource {
  const r = resourceFromList(c.resources?.requests);
  if (nonZero) {
    const req = c.resources?.requests ?? {};
    if (!('cpu' in req)) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (!('memory' in req)) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * The pod's effective request, as upstream: app containers and restartable
 * (sidecar) init containers add up; each ordinary init container runs alone
 * beside the sidecars started before it, so the pod needs the larger of the
 * two; the RuntimeClass overhead comes on top. `nonZero` gives containers
 * without a cpu/memory request the defaults used for spreading.
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const spec = pod.spec;
  const reqs = emptyResource();
  if (!spec) return reqs;
  for (const c of spec.containers ?? []) add(reqs, containerRequests(c, nonZero));
  const sidecars = emptyResource();
  const initMax = emptyResource();
  for (const ic of spec.initContainers ?? []) {
    const r = containerRequests(ic, nonZero);
    if (ic.restartPolicy === 'Always') {
      add(reqs, r);
      add(sidecars, r);
    } else {
      add(r, sidecars);
      maxInto(initMax, r);
    }
  }
  maxInto(reqs, initMax);
  if (spec.overhead) addResourceList(reqs, spec.overhead);
  return reqs;
}

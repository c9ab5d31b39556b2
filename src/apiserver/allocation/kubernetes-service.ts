import type { Endpoints, Service } from 'kubernetes-types/core/v1';
import { StatusError } from '../../api/status.js';
import { encode, type ResourceRegistry } from '../registry.js';
import { decodeStored } from '../watch-cache.js';
import { newUid, nowTimestamp } from '../../api/meta.js';
import { isStorageError, type Store } from '../../storage/store.js';
import type { KubeObject } from '../strategy.js';

const NAMESPACE = 'default';
const NAME = 'kubernetes';

const isCode = (err: unknown, code: number): boolean => err instanceof StatusError && err.code === code;

/**
 * The `kubernetes` Service in `default` at the first address of the service
 * CIDR, and its Endpoints pointing at this server, as upstream's
 * "kubernetes service controller" and master endpoints reconciler keep them.
 * Each server writes them on start (its port may have changed) and keeps its
 * address in the Endpoints through a lease (`KubernetesEndpointsReconciler`).
 */
export async function ensureKubernetesService(
  store: Store, services: ResourceRegistry, endpoints: ResourceRegistry,
  clusterIP: string, address: string, port: number, log: (msg: string) => void,
): Promise<void> {
  const wanted: Service = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], sessionAffinity: 'None', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] },
  };
  const exists = await services.get(NAMESPACE, NAME).then(() => true, (err: unknown) => { if (isCode(err, 404)) return false; throw err; });
  try {
    if (exists) throw new StatusError(409, 'AlreadyExists', 'exists');
    await services.create(NAMESPACE, wanted as KubeObject, { dryRun: false });
    log(`created service ${NAMESPACE}/${NAME} at ${clusterIP}`);
  } catch (err) {
    // 422: another server created it between our read and our create, and holds the IP.
    if (!isCode(err, 409) && !isCode(err, 422)) throw err;
    await services.guaranteedUpdate(NAMESPACE, NAME, (current) => {
      const svc = current as Service;
      const p = svc.spec?.ports?.find((x) => x.name === 'https');
      if (p && p.port === 443 && p.targetPort === port) return current;
      svc.spec = { ...svc.spec, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] };
      return svc as KubeObject;
    }, { dryRun: false });
  }
  await reconcileKubernetesEndpoints(store, endpoints.keyFor(NAMESPACE, NAME), address, port);
}

/** Upstream's lease endpoint reconciler: a lease per API server under `/masterleases/`, 15 s TTL, renewed every 10 s. */
export const MASTER_LEASE_PREFIX = '/registry/masterleases/';
export const MASTER_LEASE_TTL_MS = 15_000;
export const MASTER_LEASE_RENEW_MS = 10_000;

interface MasterLease { ip: string; port: number; renewTime: number }

const leaseKey = (ip: string, port: number) => `${MASTER_LEASE_PREFIX}${ip}:${port}`;

/** Renews this server's lease (a store key holding its address and the time), creating it if missing. */
async function renewMasterLease(store: Store, ip: string, port: number): Promise<void> {
  const key = leaseKey(ip, port);
  const value = JSON.stringify({ ip, port, renewTime: Date.now() } satisfies MasterLease);
  for (let attempt = 0; attempt < 16; attempt++) {
    const kv = await store.get(key);
    try {
      if (kv) await store.update(key, value, kv.modRevision);
      else await store.create(key, value);
      return;
    } catch (err) {
      if (isStorageError(err, 'Conflict') || isStorageError(err, 'NotFound') || isStorageError(err, 'AlreadyExists')) continue;
      throw err;
    }
  }
}

/**
 * Renews this server's lease, drops the leases that expired (servers that
 * died without removing theirs) and writes every live server into the
 * `kubernetes` Endpoints, one subset per port, so clients find all servers.
 */
export async function reconcileKubernetesEndpoints(store: Store, endpointsKey: string, ip: string, port: number, opts: { remove?: boolean } = {}): Promise<void> {
  if (opts.remove) await store.delete(leaseKey(ip, port)).catch((err: unknown) => { if (!isStorageError(err, 'NotFound')) throw err; });
  else await renewMasterLease(store, ip, port);
  const now = Date.now();
  const live: MasterLease[] = [];
  for (const kv of (await store.list(MASTER_LEASE_PREFIX)).items) {
    let lease: MasterLease | undefined;
    try { lease = JSON.parse(kv.value) as MasterLease; } catch { lease = undefined; }
    if (lease && now - lease.renewTime < MASTER_LEASE_TTL_MS) { live.push(lease); continue; }
    await store.delete(kv.key, { expectedRevision: kv.modRevision }).catch(() => { /* renewed or removed meanwhile */ });
  }
  const ports = [...new Set(live.map((l) => l.port))].sort((a, b) => a - b);
  const subsets: Endpoints['subsets'] = ports.map((p) => ({
    addresses: live.filter((l) => l.port === p).map((l) => l.ip).sort().map((ipAddr) => ({ ip: ipAddr })),
    ports: [{ name: 'https', port: p, protocol: 'TCP' }],
  }));
  await writeEndpoints(store, endpointsKey, subsets);
  await writeEndpointSlices(store, subsets);
}

/** Keeps this server's address in the `kubernetes` Endpoints while it runs; removes it on stop. */
export class KubernetesEndpointsReconciler {
  private timer?: NodeJS.Timeout;
  constructor(private readonly store: Store, private readonly endpointsKey: string, private readonly ip: string, private readonly port: number, private readonly log: (m: string) => void) {}

  start(intervalMs = MASTER_LEASE_RENEW_MS): void {
    this.timer = setInterval(() => {
      reconcileKubernetesEndpoints(this.store, this.endpointsKey, this.ip, this.port)
        .catch((err: unknown) => this.log(`kubernetes endpoints: ${err instanceof Error ? err.message : String(err)}`));
    }, intervalMs);
    this.timer.unref();
  }

  /** Upstream's shutdown: take this server out of the Endpoints at once rather than after the TTL. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await reconcileKubernetesEndpoints(this.store, this.endpointsKey, this.ip, this.port, { remove: true });
  }
}

/**
 * Written straight to the store, as the server's own object: a one-machine
 * server is often only at 127.0.0.1, which Endpoints validation refuses for
 * user-made objects (upstream refuses a loopback advertise address instead).
 * `fresh` is what to create; `withContent` puts the wanted content into the
 * stored object (undefined: already as wanted).
 */
async function writeServerObject(store: Store, key: string, fresh: () => KubeObject, withContent: (current: KubeObject) => KubeObject | undefined): Promise<void> {
  for (let attempt = 0; attempt < 16; attempt++) {
    const kv = await store.get(key);
    if (!kv) {
      const obj = fresh();
      obj.metadata = { ...obj.metadata, uid: newUid(), creationTimestamp: nowTimestamp() };
      try { await store.create(key, encode(obj)); return; } catch (err) {
        if (isStorageError(err, 'AlreadyExists')) continue;
        throw err;
      }
    }
    const updated = withContent(decodeStored(kv.value, kv.modRevision));
    if (!updated) return;
    try { await store.update(key, encode(updated), kv.modRevision); return; } catch (err) {
      if (isStorageError(err, 'Conflict') || isStorageError(err, 'NotFound')) continue;
      throw err;
    }
  }
  throw new Error(`could not write ${key}: too many conflicts`);
}

function writeEndpoints(store: Store, key: string, subsets: Endpoints['subsets']): Promise<void> {
  return writeServerObject(store, key,
    () => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: NAME, namespace: NAMESPACE, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets } as KubeObject),
    (cur) => (JSON.stringify((cur as Endpoints).subsets) === JSON.stringify(subsets) ? undefined : { ...cur, subsets } as KubeObject));
}

const SLICE_PREFIX = '/registry/discovery.k8s.io/endpointslices/default/';
const SLICE_MANAGER = 'bosun-apiserver';

/**
 * The EndpointSlices of the `kubernetes` Service, as upstream's reconciler
 * writes beside the Endpoints: what the proxy reads to route 10.43.0.1:443.
 * One slice per port the servers listen on (`kubernetes`, then
 * `kubernetes-<port>`), since a slice's port applies to all its endpoints.
 */
async function writeEndpointSlices(store: Store, subsets: NonNullable<Endpoints['subsets']>): Promise<void> {
  const wanted = new Set<string>();
  for (const [i, subset] of subsets.entries()) {
    const port = subset.ports![0].port;
    const name = i === 0 ? NAME : `${NAME}-${port}`;
    wanted.add(name);
    const content = {
      addressType: 'IPv4',
      endpoints: (subset.addresses ?? []).map((a) => ({ addresses: [a.ip], conditions: { ready: true, serving: true, terminating: false } })),
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    };
    await writeServerObject(store, `${SLICE_PREFIX}${name}`,
      () => ({
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': NAME, 'endpointslice.kubernetes.io/managed-by': SLICE_MANAGER } },
        ...content,
      } as KubeObject),
      (cur) => {
        const c = cur as unknown as Record<string, unknown>;
        if (JSON.stringify([c.endpoints, c.ports]) === JSON.stringify([content.endpoints, content.ports])) return undefined;
        return { ...cur, ...content } as KubeObject;
      });
  }
  // Ports no server listens on any more.
  for (const kv of (await store.list(`${SLICE_PREFIX}${NAME}`)).items) {
    const name = kv.key.slice(SLICE_PREFIX.length);
    if (!/^kubernetes(-\d+)?$/.test(name) || wanted.has(name)) continue;
    const obj = decodeStored(kv.value, kv.modRevision);
    if (obj.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'] !== SLICE_MANAGER) continue;
    await store.delete(kv.key, { expectedRevision: kv.modRevision }).catch(() => { /* changed meanwhile: the next round decides */ });
  }
}

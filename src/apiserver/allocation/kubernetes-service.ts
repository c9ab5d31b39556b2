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
 * A single server writes them on every start (its port may have changed).
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
  const subsets: Endpoints['subsets'] = [{ addresses: [{ ip: address }], ports: [{ name: 'https', port, protocol: 'TCP' }] }];
  await writeEndpoints(store, endpoints.keyFor(NAMESPACE, NAME), subsets);
}

/**
 * Written straight to the store, as the server's own object: a one-machine
 * server is often only at 127.0.0.1, which Endpoints validation refuses for
 * user-made objects (upstream refuses a loopback advertise address instead).
 */
async function writeEndpoints(store: Store, key: string, subsets: Endpoints['subsets']): Promise<void> {
  for (let attempt = 0; attempt < 16; attempt++) {
    const kv = await store.get(key);
    if (!kv) {
      const ep: Endpoints = {
        apiVersion: 'v1', kind: 'Endpoints',
        metadata: { name: NAME, namespace: NAMESPACE, uid: newUid(), creationTimestamp: nowTimestamp(), labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
        subsets,
      };
      try { await store.create(key, encode(ep as KubeObject)); return; } catch (err) {
        if (isStorageError(err, 'AlreadyExists')) continue;
        throw err;
      }
    }
    const current = decodeStored(kv.value, kv.modRevision) as Endpoints;
    if (JSON.stringify(current.subsets) === JSON.stringify(subsets)) return;
    try { await store.update(key, encode({ ...current, subsets } as KubeObject), kv.modRevision); return; } catch (err) {
      if (isStorageError(err, 'Conflict') || isStorageError(err, 'NotFound')) continue;
      throw err;
    }
  }
  throw new Error(`could not write ${key}: too many conflicts`);
}

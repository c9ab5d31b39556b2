import type { ConfigMap, Secret, Service } from 'kubernetes-types/core/v1';
import { Client, configmaps, isNotFound, secrets, services } from '../client/index.js';

/**
 * ConfigMaps and Secrets the kubelet's pods refer to, fetched with GET and
 * kept for `ttlMs` (upstream's TTL cache strategy): no cluster-wide watch, so
 * an idle node costs nothing, and a change reaches the pods within a minute.
 */
export class ObjectCache {
  private readonly entries = new Map<string, { at: number; value: Promise<ConfigMap | Secret | undefined> }>();
  private readonly serviceLists = new Map<string, { at: number; value: Promise<Service[]> }>();

  constructor(private readonly client: Client, private readonly ttlMs = 30_000) {}

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.get('cm', namespace, name) as Promise<ConfigMap | undefined>;
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.get('secret', namespace, name) as Promise<Secret | undefined>;
  }

  /** The Services of a namespace, for the pods' service environment variables. */
  services(namespace: string): Promise<Service[]> {
    const key = `svc/${namespace}`;
    const now = Date.now();
    const hit = this.serviceLists.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = this.client.list(services, { namespace }).then((l) => l.items)
      .catch((err: unknown) => { this.serviceLists.delete(key); throw err; });
    this.serviceLists.set(key, { at: now, value });
    if (this.serviceLists.size > 256) for (const [k, e] of this.serviceLists) if (now - e.at >= this.ttlMs) this.serviceLists.delete(k);
    return value;
  }

  private get(kind: 'cm' | 'secret', namespace: string, name: string): Promise<ConfigMap | Secret | undefined> {
    const key = `${kind}/${namespace}/${name}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = (kind === 'cm' ? this.client.get(configmaps, namespace, name) : this.client.get(secrets, namespace, name))
      .catch((err: unknown) => { if (isNotFound(err)) return undefined; this.entries.delete(key); throw err; });
    this.entries.set(key, { at: now, value });
    // Bound the map: expired entries go on the next miss.
    if (this.entries.size > 512) for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
    return value;
  }
}

/** The data of a Secret, decoded, or of a ConfigMap (binaryData included). */
export function objectData(obj: ConfigMap | Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if ((obj as Secret).kind === 'Secret' || (obj as Secret).type !== undefined) {
    for (const [k, v] of Object.entries((obj as Secret).data ?? {})) out.set(k, Buffer.from(v, 'base64'));
    for (const [k, v] of Object.entries((obj as Secret).stringData ?? {})) out.set(k, Buffer.from(v));
    return out;
  }
  const cm = obj as ConfigMap;
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

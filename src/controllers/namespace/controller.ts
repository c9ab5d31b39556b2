import type { Namespace } from 'kubernetes-types/core/v1';
import type { APIGroupList, APIResourceList } from 'kubernetes-types/meta/v1';
import {
  WorkQueue, isNotFound, namespaces, resource,
  type Client, type InformerFactory, type KubeObject, type Lister, type ResourceDescriptor,
} from '../../client/index.js';
import { syncErrorLogger } from '../util/errors.js';

/** The finalizer the API server puts on every namespace, which this controller owns. */
export const KUBERNETES_FINALIZER = 'kubernetes';

export interface NamespaceControllerOptions {
  workers?: number;
  /** How soon to look again while content is still going (pods terminating gracefully). */
  recheckMs?: number;
  log?: (m: string) => void;
}

interface Deletable { res: ResourceDescriptor<KubeObject>; collection: boolean }

/**
 * The namespace controller: empties a Terminating namespace of every
 * namespaced resource the server's discovery lists, waits until all of it
 * is gone, then removes the `kubernetes` finalizer through `/finalize`.
 */
export class NamespaceController {
  private readonly queue: WorkQueue<string>;
  private readonly namespaces: Lister<Namespace>;
  private readonly workers: number;
  private readonly recheckMs: number;

  constructor(private readonly client: Client, informers: InformerFactory, opts: NamespaceControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
    this.recheckMs = opts.recheckMs ?? 1000;
    const log = opts.log ?? ((m: string) => console.error(m));
    this.queue = new WorkQueue<string>({ name: 'namespace', onError: syncErrorLogger('namespace-controller', log) });
    const informer = informers.for(namespaces);
    this.namespaces = informer.lister();
    informer.onAdd((ns) => { if (ns.metadata?.deletionTimestamp) this.queue.add(ns.metadata.name!); });
    informer.onUpdate((_old, ns) => { if (ns.metadata?.deletionTimestamp) this.queue.add(ns.metadata.name!); });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.queue.process(this.workers, (name) => this.sync(name), signal);
  }

  async sync(name: string): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns?.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(KUBERNETES_FINALIZER)) return;
    let remaining = 0;
    for (const { res, collection } of await this.discover()) {
      const list = await this.client.list(res, { namespace: name }).catch((err: unknown) => { if (isNotFound(err)) return undefined; throw err; });
      const items = list?.items ?? [];
      if (items.length === 0) continue;
      remaining += items.length;
      if (items.every((i) => i.metadata?.deletionTimestamp)) continue;
      if (collection) {
        await this.client.deleteCollection(res, { namespace: name, propagationPolicy: 'Background' });
      } else {
        for (const item of items) {
          if (item.metadata?.deletionTimestamp) continue;
          await this.client.delete(res, name, item.metadata!.name!, { propagationPolicy: 'Background' }).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
        }
      }
    }
    if (remaining > 0) { this.queue.addAfter(name, this.recheckMs); return; }
    await this.finalize(ns);
  }

  private async finalize(ns: Namespace): Promise<void> {
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== KUBERNETES_FINALIZER);
    const body: Namespace = { ...ns, apiVersion: 'v1', kind: 'Namespace', spec: { ...ns.spec, finalizers } };
    try {
      await this.client.request({ method: 'PUT', path: `/api/v1/namespaces/${encodeURIComponent(ns.metadata!.name!)}/finalize`, json: body });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Every namespaced resource the server can delete, from discovery (what `kubectl api-resources --namespaced` lists). */
  private async discover(): Promise<Deletable[]> {
    const out: Deletable[] = [];
    const seen = new Set<string>();
    const add = (group: string, version: string, list: APIResourceList | undefined) => {
      for (const r of list?.resources ?? []) {
        if (!r.namespaced || r.name.includes('/') || !r.verbs.includes('delete') || !r.verbs.includes('list')) continue;
        const id = `${r.name}.${group}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ res: resource({ group, version, resource: r.name, kind: r.kind, namespaced: true }), collection: r.verbs.includes('deletecollection') });
      }
    };
    add('', 'v1', await this.client.request({ method: 'GET', path: '/api/v1' }) as APIResourceList);
    const groups = await this.client.request({ method: 'GET', path: '/apis' }) as APIGroupList;
    for (const g of groups.groups ?? []) {
      const v = g.preferredVersion ?? g.versions[0];
      if (!v) continue;
      add(g.name, v.version, await this.client.request({ method: 'GET', path: `/apis/${g.name}/${v.version}` }) as APIResourceList);
    }
    return out;
  }
}

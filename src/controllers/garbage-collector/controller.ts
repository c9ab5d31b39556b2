import type { OwnerReference } from 'kubernetes-types/meta/v1';
import {
  WorkQueue, configmaps, deployments, endpoints, endpointslices, horizontalpodautoscalers, isConflict, isNotFound, keyOf, namespaces,
  nodes, pods, replicasets, replicationcontrollers, secrets, serviceaccounts, services, splitKey,
  type Client, type InformerFactory, type KubeObject, type Lister, type ResourceDescriptor,
} from '../../client/index.js';
import { syncErrorLogger } from '../util/errors.js';

/** The kinds the collector watches: every kind bosun serves that owns or is owned in practice. */
export const MONITORED_RESOURCES: ResourceDescriptor<KubeObject>[] = [
  pods, replicasets, deployments, replicationcontrollers, services, endpoints, endpointslices, configmaps, secrets,
  serviceaccounts, horizontalpodautoscalers, nodes, namespaces,
];

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

interface Node { res: ResourceDescriptor<KubeObject>; key: string }

const idOf = (res: ResourceDescriptor<KubeObject>, key: string): string => `${res.resource}.${res.group}|${key}`;
const groupOf = (apiVersion: string | undefined): string => (apiVersion?.includes('/') ? apiVersion.split('/')[0] : '');

export interface GarbageCollectorOptions {
  workers?: number;
  log?: (m: string) => void;
}

/**
 * The garbage collector: a graph of ownerReferences over the informers'
 * caches. Dependents whose owners are all gone are deleted (background);
 * owners being deleted in the foreground wait for their blocking dependents;
 * owners deleted with `orphan` let go of theirs first.
 */
export class GarbageCollector {
  private readonly queue: WorkQueue<string>;
  private readonly listers = new Map<string, { res: ResourceDescriptor<KubeObject>; lister: Lister<KubeObject> }>();
  /** uid → where the object is, for every object the informers hold. */
  private readonly byUid = new Map<string, Node>();
  /** owner uid → ids of the objects that name it. */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly workers: number;

  constructor(private readonly client: Client, informers: InformerFactory, opts: GarbageCollectorOptions = {}) {
    this.workers = opts.workers ?? 5;
    const log = opts.log ?? ((m: string) => console.error(m));
    this.queue = new WorkQueue<string>({ name: 'garbage-collector', onError: syncErrorLogger('garbage-collector', log) });
    for (const res of MONITORED_RESOURCES) {
      const informer = informers.for(res);
      this.listers.set(`${res.resource}.${res.group}`, { res, lister: informer.lister() });
      informer.onAdd((obj) => this.observe(res, undefined, obj));
      informer.onUpdate((old, obj) => this.observe(res, old, obj));
      informer.onDelete((obj) => this.forget(res, obj));
    }
  }

  run(signal: AbortSignal): Promise<void> {
    return this.queue.process(this.workers, (id) => this.process(id), signal);
  }

  private descriptorFor(ref: OwnerReference): ResourceDescriptor<KubeObject> | undefined {
    const group = groupOf(ref.apiVersion);
    return MONITORED_RESOURCES.find((r) => r.kind === ref.kind && r.group === group);
  }

  private observe(res: ResourceDescriptor<KubeObject>, old: KubeObject | undefined, obj: KubeObject): void {
    const id = idOf(res, keyOf(obj));
    const uid = obj.metadata?.uid;
    if (uid) this.byUid.set(uid, { res, key: keyOf(obj) });
    const oldRefs = old?.metadata?.ownerReferences ?? [];
    const refs = obj.metadata?.ownerReferences ?? [];
    for (const r of oldRefs) if (!refs.some((x) => x.uid === r.uid)) { this.unlink(r.uid, id); this.enqueueOwnerIfWaiting(r.uid); }
    for (const r of refs) this.link(r.uid, id);

    const meta = obj.metadata;
    if (meta?.deletionTimestamp && (meta.finalizers?.includes(FOREGROUND) || meta.finalizers?.includes(ORPHAN))) this.queue.add(id);
    // A dependent starting to go, or going, may be what a foreground owner waits for.
    if (meta?.deletionTimestamp) for (const r of refs) this.enqueueOwnerIfWaiting(r.uid);
    if (refs.some((r) => !this.byUid.has(r.uid) || this.isWaiting(r.uid))) this.queue.add(id);
  }

  private forget(res: ResourceDescriptor<KubeObject>, obj: KubeObject): void {
    const id = idOf(res, keyOf(obj));
    const uid = obj.metadata?.uid;
    if (uid && this.byUid.get(uid)?.key === keyOf(obj)) this.byUid.delete(uid);
    for (const r of obj.metadata?.ownerReferences ?? []) { this.unlink(r.uid, id); this.enqueueOwnerIfWaiting(r.uid); }
    // Its dependents may now have no owner left.
    if (uid) for (const dep of this.dependents.get(uid) ?? []) this.queue.add(dep);
  }

  private link(owner: string, id: string): void {
    let set = this.dependents.get(owner);
    if (!set) this.dependents.set(owner, (set = new Set()));
    set.add(id);
  }

  private unlink(owner: string, id: string): void {
    const set = this.dependents.get(owner);
    if (!set) return;
    set.delete(id);
    if (set.size === 0 && !this.byUid.has(owner)) this.dependents.delete(owner);
  }

  private get(node: Node): KubeObject | undefined {
    return this.listers.get(`${node.res.resource}.${node.res.group}`)?.lister.get(node.key);
  }

  private lookup(id: string): { res: ResourceDescriptor<KubeObject>; key: string; obj?: KubeObject } | undefined {
    const bar = id.indexOf('|');
    const entry = this.listers.get(id.slice(0, bar));
    if (!entry) return undefined;
    const key = id.slice(bar + 1);
    return { res: entry.res, key, obj: entry.lister.get(key) };
  }

  private isWaiting(uid: string): boolean {
    const node = this.byUid.get(uid);
    const obj = node && this.get(node);
    return !!obj?.metadata?.deletionTimestamp && !!obj.metadata.finalizers?.includes(FOREGROUND);
  }

  private enqueueOwnerIfWaiting(uid: string): void {
    const node = this.byUid.get(uid);
    if (node && this.isWaiting(uid)) this.queue.add(idOf(node.res, node.key));
  }

  // ---- processing ------------------------------------------------------------

  private async process(id: string): Promise<void> {
    const item = this.lookup(id);
    const obj = item?.obj;
    if (!item || !obj) return;
    const meta = obj.metadata ?? {};
    if (meta.deletionTimestamp && meta.finalizers?.includes(ORPHAN)) { await this.orphanDependents(item.res, obj); return; }
    if (meta.deletionTimestamp && meta.finalizers?.includes(FOREGROUND)) { await this.processDeletingDependents(item.res, obj); return; }
    await this.attemptToDelete(item.res, obj);
  }

  /** attemptToDeleteItem: judge each owner solid, dangling (gone) or waiting (deleting in the foreground). */
  private async attemptToDelete(res: ResourceDescriptor<KubeObject>, obj: KubeObject): Promise<void> {
    const refs = obj.metadata?.ownerReferences ?? [];
    if (refs.length === 0 || obj.metadata?.deletionTimestamp) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const state = await this.ownerState(ref, obj.metadata?.namespace);
      (state === 'solid' ? solid : state === 'dangling' ? dangling : waiting).push(ref);
    }
    const { namespace, name } = splitKey(keyOf(obj));
    if (solid.length > 0) {
      if (dangling.length + waiting.length === 0) return;
      const gone = new Set([...dangling, ...waiting].map((r) => r.uid));
      const keep = refs.filter((r) => !gone.has(r.uid));
      await this.client.patch(res, namespace, name, { metadata: { ownerReferences: keep, uid: obj.metadata?.uid } }, 'merge-patch').catch(ignoreGone);
      return;
    }
    // No owner is left to keep it: it goes, in the foreground when an owner waits on it.
    const policy = waiting.length > 0 ? 'Foreground' : 'Background';
    await this.client.delete(res, namespace, name, { propagationPolicy: policy, preconditions: { uid: obj.metadata?.uid } }).catch(ignoreGone);
  }

  private async ownerState(ref: OwnerReference, namespace: string | undefined): Promise<'solid' | 'dangling' | 'waiting'> {
    const node = this.byUid.get(ref.uid);
    if (node) return this.isWaiting(ref.uid) ? 'waiting' : 'solid';
    const res = this.descriptorFor(ref);
    // A kind we do not watch: never delete on a guess.
    if (!res) return 'solid';
    // The cache may lag a new owner: ask the server before deleting anything.
    try {
      const live = await this.client.get(res, res.namespaced ? namespace : undefined, ref.name);
      if (live.metadata?.uid !== ref.uid) return 'dangling';
      return live.metadata?.deletionTimestamp && live.metadata.finalizers?.includes(FOREGROUND) ? 'waiting' : 'solid';
    } catch (err) {
      if (isNotFound(err)) return 'dangling';
      throw err;
    }
  }

  /** Foreground: delete the dependents; drop the finalizer once none that blocks is left. */
  private async processDeletingDependents(res: ResourceDescriptor<KubeObject>, owner: KubeObject): Promise<void> {
    const uid = owner.metadata!.uid!;
    let blocking = 0;
    for (const depId of this.dependents.get(uid) ?? []) {
      const dep = this.lookup(depId)?.obj;
      if (!dep) continue;
      const ref = dep.metadata?.ownerReferences?.find((r) => r.uid === uid);
      if (!ref) continue;
      if (ref.blockOwnerDeletion) blocking++;
      if (!dep.metadata?.deletionTimestamp) this.queue.add(depId);
    }
    if (blocking === 0) await this.removeFinalizer(res, owner, FOREGROUND);
  }

  /** Orphan: take this owner out of every dependent's ownerReferences, then drop the finalizer. */
  private async orphanDependents(res: ResourceDescriptor<KubeObject>, owner: KubeObject): Promise<void> {
    const uid = owner.metadata!.uid!;
    for (const depId of [...this.dependents.get(uid) ?? []]) {
      const dep = this.lookup(depId);
      if (!dep?.obj) continue;
      const refs = dep.obj.metadata?.ownerReferences ?? [];
      if (!refs.some((r) => r.uid === uid)) continue;
      const keep = refs.filter((r) => r.uid !== uid);
      const { namespace, name } = splitKey(dep.key);
      await this.client.patch(dep.res, namespace, name, { metadata: { ownerReferences: keep.length ? keep : null, uid: dep.obj.metadata?.uid } }, 'merge-patch').catch(ignoreGone);
    }
    await this.removeFinalizer(res, owner, ORPHAN);
  }

  private async removeFinalizer(res: ResourceDescriptor<KubeObject>, obj: KubeObject, finalizer: string): Promise<void> {
    const { namespace, name } = splitKey(keyOf(obj));
    for (let attempt = 0; ; attempt++) {
      let current: KubeObject;
      try { current = await this.client.get(res, namespace, name); } catch (err) { if (isNotFound(err)) return; throw err; }
      if (current.metadata?.uid !== obj.metadata?.uid || !current.metadata?.finalizers?.includes(finalizer)) return;
      const finalizers = current.metadata.finalizers.filter((f) => f !== finalizer);
      try {
        await this.client.update(res, { ...current, metadata: { ...current.metadata, finalizers } });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }
}

function ignoreGone(err: unknown): undefined {
  if (isNotFound(err) || isConflict(err)) return undefined;
  throw err;
}

import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { labelSelectorFromObject, parseLabelSelector, selectorFromSet, type Selector } from '../api/labels.js';
import type { KubeObject } from './resources.js';

/** A label selector as text (`app=web,tier in (a,b)`), an equality map, a `LabelSelector` object or a parsed `Selector`. */
export type LabelQuery = string | Record<string, string> | LabelSelector | Selector;

function toSelector(q: LabelQuery): Selector {
  if (typeof q === 'string') return parseLabelSelector(q);
  if (typeof (q as Selector).matches === 'function') return q as Selector;
  const keys = Object.keys(q);
  if (keys.length > 0 && keys.every((k) => k === 'matchLabels' || k === 'matchExpressions')) return labelSelectorFromObject(q as LabelSelector);
  return selectorFromSet(q as Record<string, string>);
}

/** Computes the values an object is indexed under (client-go's `IndexFunc`). */
export type IndexFunc<T> = (obj: T) => string[];

/**
 * Read access to an informer's cache. Objects are shared with every other
 * reader: never mutate one, copy it (`structuredClone`) before changing it.
 */
export interface Lister<T extends KubeObject> {
  /** By `namespace/name` (or `name` for cluster-scoped objects). */
  get(key: string): T | undefined;
  /** All objects, or those of one namespace, optionally only those the label selector picks. */
  list(namespace?: string, labelSelector?: LabelQuery): T[];
  /** Objects an index files under `value`, e.g. pods by node name. */
  byIndex(index: string, value: string): T[];
  keys(): string[];
  readonly size: number;
}

/** The informer's in-memory objects with a namespace index and any custom ones. */
export class ObjectStore<T extends KubeObject> implements Lister<T> {
  private readonly items = new Map<string, T>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly indexes = new Map<string, { fn: IndexFunc<T>; values: Map<string, Set<string>> }>();

  get size(): number { return this.items.size; }
  get(key: string): T | undefined { return this.items.get(key); }
  keys(): string[] { return [...this.items.keys()]; }
  entries(): IterableIterator<[string, T]> { return this.items.entries(); }

  list(namespace?: string, labelSelector?: LabelQuery): T[] {
    const selector = labelSelector === undefined ? undefined : toSelector(labelSelector);
    const all = !selector || selector.empty();
    const keys = namespace ? this.byNamespace.get(namespace) ?? new Set<string>() : this.items.keys();
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.items.get(key)!;
      if (all || selector.matches(obj.metadata?.labels)) out.push(obj);
    }
    return out;
  }

  byIndex(index: string, value: string): T[] {
    const idx = this.indexes.get(index);
    if (!idx) throw new Error(`no index named "${index}"`);
    return [...idx.values.get(value) ?? []].map((k) => this.items.get(k)!);
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.indexes.has(name)) throw new Error(`index "${name}" already exists`);
    const idx = { fn, values: new Map<string, Set<string>>() };
    this.indexes.set(name, idx);
    for (const [key, obj] of this.items) for (const v of fn(obj)) file(idx.values, v, key);
  }

  set(key: string, obj: T): void {
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    file(this.byNamespace, obj.metadata?.namespace ?? '', key);
    for (const idx of this.indexes.values()) for (const v of idx.fn(obj)) file(idx.values, v, key);
  }

  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private unindex(key: string, obj: T): void {
    unfile(this.byNamespace, obj.metadata?.namespace ?? '', key);
    for (const idx of this.indexes.values()) for (const v of idx.fn(obj)) unfile(idx.values, v, key);
  }
}

function file(index: Map<string, Set<string>>, value: string, key: string): void {
  let set = index.get(value);
  if (!set) index.set(value, (set = new Set()));
  set.add(key);
}

function unfile(index: Map<string, Set<string>>, value: string, key: string): void {
  const set = index.get(value);
  if (!set) return;
  set.delete(key);
  if (set.size === 0) index.delete(value);
}

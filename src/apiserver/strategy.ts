import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import type { FieldError } from '../api/status.js';

/** Any stored API object: what every kind has in common on the wire. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** One column of a server-side Table (meta.k8s.io/v1 TableColumnDefinition). */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0: always shown; >0: only with `-o wide`. */
  priority: number;
}

/** How one kind prints in `kubectl get`: the columns after NAME, and a row's cells. */
export interface TablePrinter<T extends KubeObject = KubeObject> {
  /** Columns, NAME first, as upstream prints them (AGE included where upstream has it). */
  columns: TableColumn[];
  /** One cell per column, in order. `now` is for ages. */
  cells(obj: T, now: Date): unknown[];
}

/**
 * The per-kind behaviour of the generic registry, as upstream's
 * `rest.RESTCreateStrategy`/`RESTUpdateStrategy`: defaulting, validation,
 * what an update may change. (How a kind prints is in `tables/`.)
 * Every hook is optional; the registry handles metadata, generation and
 * resourceVersion itself.
 */
export interface Strategy<T extends KubeObject = KubeObject> {
  /** Fills in upstream's defaults (on create and update, after decoding). */
  defaults?(obj: T): void;
  /** Before create: e.g. reset status, set initial status.phase. */
  prepareForCreate?(obj: T): void;
  /** Before an update of the main resource: keep `status` from the old
   *  object (status changes go through /status). */
  prepareForUpdate?(obj: T, old: T): void;
  /** Before an update through /status: keep everything but status from old. */
  prepareForStatusUpdate?(obj: T, old: T): void;
  /** Field errors of a new object (empty: valid). */
  validate?(obj: T): FieldError[];
  /** Field errors of an update (immutable fields…); `validate` also runs. */
  validateUpdate?(obj: T, old: T): FieldError[];
  /** True while the object must not leave the store even with no metadata
   *  finalizers left (a namespace until its `spec.finalizers` are empty). */
  blocksDeletion?(obj: T): boolean;
  /** When deletion is pending: e.g. a namespace turns `Terminating`. */
  prepareForDelete?(obj: T): void;
  /** An update through /finalize: take only `spec.finalizers` from obj. */
  prepareForFinalize?(obj: T, old: T): void;
  /** Values for field selectors beyond metadata.name/metadata.namespace,
   *  e.g. `{ 'spec.nodeName': …, 'status.phase': … }`. */
  selectableFields?(obj: T): Record<string, string>;
}

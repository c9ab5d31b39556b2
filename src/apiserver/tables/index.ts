/**
 * Server-side printing for `kubectl get`: which printer a resource uses, and
 * the meta.k8s.io Table built from it (upstream's TableConvertor + asTable).
 */
import type { ListMeta, ObjectMeta } from 'kubernetes-types/meta/v1';
import { badRequest } from '../../api/status.js';
import type { KubeObject, TableColumn } from '../strategy.js';
import { column, definePrinter, nameColumn, nameOf, timeOf, type RowPrinter, type TableRowCondition } from './common.js';
import { fieldDoc } from './field-docs.js';
import { configMapsTable } from './configmaps.js';
import { deploymentsTable } from './deployments.js';
import { endpointsTable } from './endpoints.js';
import { endpointSlicesTable } from './endpointslices.js';
import { eventsTable } from './events.js';
import { horizontalPodAutoscalersTable } from './horizontalpodautoscalers.js';
import { leasesTable } from './leases.js';
import { namespacesTable } from './namespaces.js';
import { nodesTable } from './nodes.js';
import { podDisruptionBudgetsTable } from './poddisruptionbudgets.js';
import { podsTable } from './pods.js';
import { priorityClassesTable } from './priorityclasses.js';
import { replicaSetsTable } from './replicasets.js';
import { replicationControllersTable } from './replicationcontrollers.js';
import { secretsTable } from './secrets.js';
import { serviceAccountsTable } from './serviceaccounts.js';
import { servicesTable } from './services.js';

export type { RowPrinter, TableRowCondition } from './common.js';
export { humanDuration, shortHumanDuration } from './duration.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';
export type TableApiVersion = 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';

/** meta.k8s.io PartialObjectMetadata: what a row carries with includeObject=Metadata. */
export interface PartialObjectMetadata {
  apiVersion: TableApiVersion;
  kind: 'PartialObjectMetadata';
  metadata: ObjectMeta;
}

/** meta.k8s.io TableColumnDefinition on the wire: `format` is always present. */
export interface TableColumnDefinition extends TableColumn {
  format: string;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  object?: PartialObjectMetadata | KubeObject;
}

export interface Table {
  kind: 'Table';
  apiVersion: TableApiVersion;
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/**
 * Upstream's DefaultTableConvertor, for kinds without a printer of their own:
 * NAME and CREATED AT, the latter an RFC 3339 date, not an age.
 */
export const defaultTable: RowPrinter = definePrinter<KubeObject>(
  [nameColumn, column('Created At', 'date', fieldDoc['ObjectMeta.creationTimestamp'])],
  (obj) => [nameOf(obj), rfc3339(timeOf(obj.metadata?.creationTimestamp))],
);

/** Go's time.RFC3339 in UTC: whole seconds; an unset time is Go's zero time. */
const rfc3339 = (t: number | undefined): string =>
  t === undefined ? '0001-01-01T00:00:00Z' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

const PRINTERS: Readonly<Record<string, RowPrinter>> = {
  '/pods': podsTable,
  '/services': servicesTable,
  '/nodes': nodesTable,
  '/namespaces': namespacesTable,
  '/replicationcontrollers': replicationControllersTable,
  '/configmaps': configMapsTable,
  '/secrets': secretsTable,
  '/endpoints': endpointsTable,
  '/events': eventsTable,
  '/serviceaccounts': serviceAccountsTable,
  'apps/deployments': deploymentsTable,
  'apps/replicasets': replicaSetsTable,
  'autoscaling/horizontalpodautoscalers': horizontalPodAutoscalersTable,
  'discovery.k8s.io/endpointslices': endpointSlicesTable,
  'coordination.k8s.io/leases': leasesTable,
  'scheduling.k8s.io/priorityclasses': priorityClassesTable,
  'policy/poddisruptionbudgets': podDisruptionBudgetsTable,
};

/** The printer for a group ('' for core) and plural resource; upstream's default for any other. */
export function tableFor(group: string, resource: string): RowPrinter {
  return PRINTERS[`${group}/${resource}`] ?? defaultTable;
}

/** The `includeObject` query parameter: Metadata when absent, 400 with upstream's wording when unknown. */
export function parseIncludeObject(value: string | null | undefined): IncludeObject {
  if (!value || value === 'Metadata') return 'Metadata';
  if (value === 'None' || value === 'Object') return value;
  throw badRequest(`unrecognized includeObject value: ${JSON.stringify(value)}`);
}

export interface TableOptions {
  /** Leave out the column definitions, as upstream does for every watch event after the first. */
  noHeaders?: boolean;
  /** The group version asked for in Accept; kubectl asks for v1 first. */
  apiVersion?: TableApiVersion;
}

/**
 * A Table of `objects` (already in the version the client asked for). Every
 * column is included, priority > 0 too: the server always prints wide and
 * kubectl hides those columns unless `-o wide`.
 */
export function toTable(
  printer: RowPrinter,
  objects: readonly KubeObject[],
  now: Date,
  includeObject: IncludeObject,
  listMeta: ListMeta,
  options: TableOptions = {},
): Table {
  const apiVersion = options.apiVersion ?? 'meta.k8s.io/v1';
  return {
    kind: 'Table',
    apiVersion,
    metadata: definedOnly(listMeta),
    columnDefinitions: options.noHeaders ? [] : printer.columns.map((c) => ({ ...c, format: c.format ?? '' })),
    rows: objects.map((obj) => {
      const row: TableRow = { cells: printer.cells(obj, now) };
      const conditions = printer.rowConditions?.(obj);
      if (conditions) row.conditions = conditions;
      if (includeObject === 'Object') row.object = obj;
      else if (includeObject === 'Metadata') row.object = { apiVersion, kind: 'PartialObjectMetadata', metadata: obj.metadata ?? {} };
      return row;
    }),
  };
}

/** ListMeta as upstream marshals it: unset fields omitted. */
const definedOnly = (meta: ListMeta): ListMeta => ({
  ...(meta.resourceVersion !== undefined ? { resourceVersion: meta.resourceVersion } : {}),
  ...(meta.continue ? { continue: meta.continue } : {}),
  ...(meta.remainingItemCount !== undefined ? { remainingItemCount: meta.remainingItemCount } : {}),
});

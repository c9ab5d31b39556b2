/** What every kind's printer shares: the NAME and AGE columns, ages, container cells. */
import type { Container } from 'kubernetes-types/core/v1';
import type { KubeObject, TableColumn, TablePrinter } from '../strategy.js';
import { humanDuration } from './duration.js';
import { fieldDoc } from './field-docs.js';

/** meta.k8s.io/v1 TableRowCondition: upstream marks finished pods `Completed`. */
export interface TableRowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

/** A TablePrinter whose rows may carry conditions. */
export interface RowPrinter extends TablePrinter {
  rowConditions?(obj: KubeObject): TableRowCondition[] | undefined;
}

/**
 * Builds a printer over a kubernetes-types kind. The registry hands printers
 * the generic KubeObject; kubernetes-types interfaces have no index signature,
 * so the one conversion to the kind's own type happens here.
 */
export function definePrinter<T extends object>(
  columns: TableColumn[],
  cells: (obj: T, now: Date) => unknown[],
  rowConditions?: (obj: T) => TableRowCondition[] | undefined,
): RowPrinter {
  const asKind = (obj: KubeObject): T => obj as unknown as T;
  return {
    columns,
    cells: (obj, now) => cells(asKind(obj), now),
    ...(rowConditions ? { rowConditions: (obj: KubeObject) => rowConditions(asKind(obj)) } : {}),
  };
}

export const column = (name: string, type: TableColumn['type'], description: string, priority = 0): TableColumn =>
  ({ name, type, description, priority });

export const nameColumn: TableColumn = { name: 'Name', type: 'string', format: 'name', description: fieldDoc['ObjectMeta.name'], priority: 0 };
export const ageColumn = column('Age', 'string', fieldDoc['ObjectMeta.creationTimestamp']);
export const containersColumn = column('Containers', 'string', 'Names of each container in the template.', 1);
export const imagesColumn = column('Images', 'string', 'Images referenced by each container in the template.', 1);

/** Go's zero time, what an unset metav1.Time decodes to. */
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

/** Milliseconds since the epoch, or undefined for an absent or zero timestamp. */
export function timeOf(timestamp: string | null | undefined): number | undefined {
  if (!timestamp) return undefined;
  const t = Date.parse(timestamp);
  return Number.isNaN(t) || t === ZERO_TIME ? undefined : t;
}

/** Upstream's translateTimestampSince: `<unknown>` when unset. */
export function since(timestamp: string | number | null | undefined, now: Date): string {
  const t = typeof timestamp === 'number' ? timestamp : timeOf(timestamp);
  return t === undefined ? '<unknown>' : humanDuration(now.getTime() - t);
}

export const age = (obj: { metadata?: { creationTimestamp?: string } }, now: Date): string =>
  since(obj.metadata?.creationTimestamp, now);

export const nameOf = (obj: { metadata?: { name?: string } }): string => obj.metadata?.name ?? '';

/** Upstream's layoutContainerCells: names and images, comma-joined. */
export function containerCells(containers: Container[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

/** Upstream's listWithMoreString: at most `max` entries, then `+ N more...`; `<unset>` when empty. */
export function listWithMore(items: string[], max = 3): string {
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length ? items.join(',') : '<unset>';
}

/** Shared by the printers' tests: a fixed clock and cells keyed by column name. */
import type { KubeObject, TablePrinter } from '../strategy.js';

export const NOW = new Date('2024-05-01T12:00:00Z');

/** The timestamp `ms` milliseconds before NOW, as the API writes it. */
export const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString().replace(/\.000Z$/, 'Z');

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

/** One row as `{ column name: cell }`, every column (wide) included. */
export function cellsOf(printer: TablePrinter, obj: object): Record<string, unknown> {
  const cells = printer.cells(obj as KubeObject, NOW);
  if (cells.length !== printer.columns.length) throw new Error(`${cells.length} cells for ${printer.columns.length} columns`);
  return Object.fromEntries(printer.columns.map((c, i) => [c.name, cells[i]]));
}

/** The cells in column order, for kinds whose whole row is easier to read at once. */
export const rowOf = (printer: TablePrinter, obj: object): unknown[] => printer.cells(obj as KubeObject, NOW);

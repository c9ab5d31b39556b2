/** `kubectl get priorityclasses`, as upstream's printPriorityClass. */
import type { PriorityClass } from 'kubernetes-types/scheduling/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [
  nameColumn,
  column('Value', 'integer', fieldDoc['PriorityClass.value']),
  column('Global-Default', 'boolean', fieldDoc['PriorityClass.globalDefault']),
  ageColumn,
  column('PreemptionPolicy', 'string', fieldDoc['PriorityClass.preemptionPolicy']),
];

export const priorityClassesTable = definePrinter<PriorityClass>(columns, (pc, now) => [
  nameOf(pc), pc.value, pc.globalDefault ?? false, age(pc, now), pc.preemptionPolicy ?? '',
]);

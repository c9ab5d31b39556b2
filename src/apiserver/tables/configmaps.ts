/** `kubectl get configmaps`, as upstream's printConfigMap. */
import type { ConfigMap } from 'kubernetes-types/core/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [nameColumn, column('Data', 'string', fieldDoc['ConfigMap.data']), ageColumn];

export const configMapsTable = definePrinter<ConfigMap>(columns, (cm, now) => [
  nameOf(cm), Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now),
]);

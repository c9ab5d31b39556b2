/** `kubectl get namespaces`, as upstream's printNamespace. */
import type { Namespace } from 'kubernetes-types/core/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';

const columns = [nameColumn, column('Status', 'string', 'The status of the namespace'), ageColumn];

export const namespacesTable = definePrinter<Namespace>(columns, (ns, now) => [nameOf(ns), ns.status?.phase ?? '', age(ns, now)]);

/** `kubectl get poddisruptionbudgets`, as upstream's printPodDisruptionBudget. */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';

const columns = [
  nameColumn,
  column('Min Available', 'string', 'The minimum number of pods that must be available.'),
  column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
  column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
  ageColumn,
];

const intOrString = (v: number | string | undefined): string => (v === undefined ? 'N/A' : String(v));

export const podDisruptionBudgetsTable = definePrinter<PodDisruptionBudget>(columns, (pdb, now) => [
  nameOf(pdb),
  intOrString(pdb.spec?.minAvailable),
  intOrString(pdb.spec?.maxUnavailable),
  pdb.status?.disruptionsAllowed ?? 0,
  age(pdb, now),
]);

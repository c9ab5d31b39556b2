/** `kubectl get secrets`, as upstream's printSecret. */
import type { Secret } from 'kubernetes-types/core/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [nameColumn, column('Type', 'string', fieldDoc['Secret.type']), column('Data', 'string', fieldDoc['Secret.data']), ageColumn];

// stringData is merged into data on write, so data alone is what the secret holds; type defaults to Opaque.
export const secretsTable = definePrinter<Secret>(columns, (secret, now) => [
  nameOf(secret), secret.type ?? 'Opaque', Object.keys(secret.data ?? {}).length, age(secret, now),
]);

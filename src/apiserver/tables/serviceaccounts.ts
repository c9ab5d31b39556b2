/** `kubectl get serviceaccounts`, as upstream's printServiceAccount. */
import type { ServiceAccount } from 'kubernetes-types/core/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [nameColumn, column('Secrets', 'string', fieldDoc['ServiceAccount.secrets']), ageColumn];

export const serviceAccountsTable = definePrinter<ServiceAccount>(columns, (sa, now) => [
  nameOf(sa), sa.secrets?.length ?? 0, age(sa, now),
]);

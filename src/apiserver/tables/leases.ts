/** `kubectl get leases`, as upstream's printLease. */
import type { Lease } from 'kubernetes-types/coordination/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [nameColumn, column('Holder', 'string', fieldDoc['LeaseSpec.holderIdentity']), ageColumn];

export const leasesTable = definePrinter<Lease>(columns, (lease, now) => [nameOf(lease), lease.spec?.holderIdentity ?? '', age(lease, now)]);

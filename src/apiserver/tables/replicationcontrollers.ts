/** `kubectl get replicationcontrollers`, as upstream's printReplicationController. */
import type { ReplicationController } from 'kubernetes-types/core/v1';
import { formatLabels } from '../../api/labels.js';
import { age, ageColumn, column, containerCells, containersColumn, definePrinter, imagesColumn, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [
  nameColumn,
  column('Desired', 'integer', fieldDoc['ReplicationControllerSpec.replicas']),
  column('Current', 'integer', fieldDoc['ReplicationControllerStatus.replicas']),
  column('Ready', 'integer', fieldDoc['ReplicationControllerStatus.readyReplicas']),
  ageColumn,
  containersColumn,
  imagesColumn,
  column('Selector', 'string', fieldDoc['ReplicationControllerSpec.selector'], 1),
];

export const replicationControllersTable = definePrinter<ReplicationController>(columns, (rc, now) => [
  // Upstream prints the defaulted object: replicas unset means 1.
  nameOf(rc), rc.spec?.replicas ?? 1, rc.status?.replicas ?? 0, rc.status?.readyReplicas ?? 0, age(rc, now),
  ...containerCells(rc.spec?.template?.spec?.containers), formatLabels(rc.spec?.selector),
]);

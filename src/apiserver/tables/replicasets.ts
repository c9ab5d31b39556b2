/** `kubectl get replicasets`, as upstream's printReplicaSet. */
import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import { formatLabelSelector } from '../../api/labels.js';
import { age, ageColumn, column, containerCells, containersColumn, definePrinter, imagesColumn, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [
  nameColumn,
  column('Desired', 'integer', fieldDoc['ReplicaSetSpec.replicas']),
  column('Current', 'integer', fieldDoc['ReplicaSetStatus.replicas']),
  column('Ready', 'integer', fieldDoc['ReplicaSetStatus.readyReplicas']),
  ageColumn,
  containersColumn,
  imagesColumn,
  column('Selector', 'string', fieldDoc['ReplicaSetSpec.selector'], 1),
];

export const replicaSetsTable = definePrinter<ReplicaSet>(columns, (rs, now) => [
  // Upstream prints the defaulted object: replicas unset means 1.
  nameOf(rs), rs.spec?.replicas ?? 1, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, age(rs, now),
  ...containerCells(rs.spec?.template?.spec?.containers), formatLabelSelector(rs.spec?.selector),
]);

/** `kubectl get deployments`, as upstream's printDeployment. */
import type { Deployment } from 'kubernetes-types/apps/v1';
import { labelSelectorFromObject } from '../../api/labels.js';
import { age, ageColumn, column, containerCells, containersColumn, definePrinter, imagesColumn, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const columns = [
  nameColumn,
  column('Ready', 'string', 'Number of the pod with ready state'),
  column('Up-to-date', 'string', fieldDoc['DeploymentStatus.updatedReplicas']),
  column('Available', 'string', fieldDoc['DeploymentStatus.availableReplicas']),
  ageColumn,
  containersColumn,
  imagesColumn,
  column('Selector', 'string', fieldDoc['DeploymentSpec.selector'], 1),
];

/** Unlike the other workloads, upstream prints an empty selector as nothing rather than `<none>`. */
function selectorCell(deployment: Deployment): string {
  try {
    return labelSelectorFromObject(deployment.spec?.selector).toString();
  } catch {
    return '<invalid>';
  }
}

export const deploymentsTable = definePrinter<Deployment>(columns, (d, now) => {
  const status = d.status ?? {};
  // Upstream prints the defaulted object: replicas unset means 1.
  const desired = d.spec?.replicas ?? 1;
  return [
    nameOf(d), `${status.readyReplicas ?? 0}/${desired}`, status.updatedReplicas ?? 0, status.availableReplicas ?? 0, age(d, now),
    ...containerCells(d.spec?.template?.spec?.containers), selectorCell(d),
  ];
});

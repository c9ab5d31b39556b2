/** `kubectl get nodes`, as upstream's printNode. */
import type { Node, NodeAddress } from 'kubernetes-types/core/v1';
import { age, ageColumn, column, definePrinter, nameColumn, nameOf } from './common.js';
import { fieldDoc } from './field-docs.js';

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';

const columns = [
  nameColumn,
  column('Status', 'string', 'The status of the node'),
  column('Roles', 'string', 'The roles of the node'),
  ageColumn,
  column('Version', 'string', fieldDoc['NodeSystemInfo.kubeletVersion']),
  column('Internal-IP', 'string', fieldDoc['NodeStatus.addresses'], 1),
  column('External-IP', 'string', fieldDoc['NodeStatus.addresses'], 1),
  column('OS-Image', 'string', fieldDoc['NodeSystemInfo.osImage'], 1),
  column('Kernel-Version', 'string', fieldDoc['NodeSystemInfo.kernelVersion'], 1),
  column('Container-Runtime', 'string', fieldDoc['NodeSystemInfo.containerRuntimeVersion'], 1),
];

/** `Ready`/`NotReady` from the (last) Ready condition, `Unknown` without one, then `SchedulingDisabled` if cordoned. */
function nodeStatus(node: Node): string {
  const readyCondition = node.status?.conditions?.filter((c) => c.type === 'Ready').at(-1);
  const status = [readyCondition ? (readyCondition.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles from `node-role.kubernetes.io/<role>` labels and the legacy `kubernetes.io/role=<role>`. */
function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata?.labels ?? {})) {
    if (key.startsWith(ROLE_LABEL_PREFIX)) {
      const role = key.slice(ROLE_LABEL_PREFIX.length);
      if (role) roles.add(role);
    } else if (key === LEGACY_ROLE_LABEL && value !== '') {
      roles.add(value);
    }
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

const addressOf = (addresses: NodeAddress[] | undefined, type: string): string =>
  addresses?.find((a) => a.type === type)?.address ?? '<none>';

export const nodesTable = definePrinter<Node>(columns, (node, now) => {
  const info = node.status?.nodeInfo;
  const addresses = node.status?.addresses;
  return [
    nameOf(node), nodeStatus(node), nodeRoles(node), age(node, now), info?.kubeletVersion ?? '',
    addressOf(addresses, 'InternalIP'), addressOf(addresses, 'ExternalIP'),
    info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>',
  ];
});

/** `kubectl get pods`, as upstream's printPod. */
import type { Container, ContainerStatus, Pod, PodStatus } from 'kubernetes-types/core/v1';
import { ageColumn, column, definePrinter, nameColumn, nameOf, since, age, timeOf, type TableRowCondition } from './common.js';
import { fieldDoc } from './field-docs.js';

/** The pod status reason the node lifecycle controller sets when a node stops answering. */
const NODE_UNREACHABLE_POD_REASON = 'NodeLost';

const columns = [
  nameColumn,
  column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'string', 'The aggregate status of the containers in this pod.'),
  column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  ageColumn,
  column('IP', 'string', fieldDoc['PodStatus.podIP'], 1),
  column('Node', 'string', fieldDoc['PodSpec.nodeName'], 1),
  column('Nominated Node', 'string', fieldDoc['PodStatus.nominatedNodeName'], 1),
  column('Readiness Gates', 'string', fieldDoc['PodSpec.readinessGates'], 1),
];

/** A sidecar: an init container that keeps running beside the app containers. */
const isRestartable = (c: Container | undefined): boolean => c?.restartPolicy === 'Always';

const lastTermination = (c: ContainerStatus): number | undefined => timeOf(c.lastState?.terminated?.finishedAt);
const later = (a: number | undefined, b: number | undefined): number | undefined =>
  b === undefined ? a : a === undefined || b > a ? b : a;

const conditionTrue = (status: PodStatus, type: string): boolean =>
  status.conditions?.find((c) => c.type === type)?.status === 'True';

const isTerminal = (phase: string): boolean => phase === 'Succeeded' || phase === 'Failed';

function podCells(pod: Pod, now: Date): unknown[] {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = spec?.initContainers ?? [];
  const initByName = new Map(initSpecs.map((c) => [c.name, c]));
  const total = (spec?.containers?.length ?? 0) + initSpecs.filter(isRestartable).length;
  let ready = 0;
  let restarts = 0;
  let lastRestart: number | undefined;
  let sidecarRestarts = 0;
  let lastSidecarRestart: number | undefined;

  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  if (status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  let initializing = false;
  for (const [i, c] of (status.initContainerStatuses ?? []).entries()) {
    restarts += c.restartCount ?? 0;
    lastRestart = later(lastRestart, lastTermination(c));
    const sidecar = isRestartable(initByName.get(c.name));
    if (sidecar) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, lastTermination(c));
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (sidecar && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (terminated) {
      reason = terminated.reason
        ? `Init:${terminated.reason}`
        : terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status, 'Initialized')) {
    // Restarts of finished init containers no longer count once the pod runs; sidecars' do.
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      lastRestart = later(lastRestart, lastTermination(c));
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A container that completed while another still runs does not make the pod Completed.
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp && status.reason === NODE_UNREACHABLE_POD_REASON) reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !isTerminal(phase)) reason = 'Terminating';

  const restartsCell = restarts !== 0 && lastRestart !== undefined ? `${restarts} (${since(lastRestart, now)} ago)` : String(restarts);

  // The internal version upstream prints from takes podIP over podIPs when both are set.
  const podIP = status.podIP || status.podIPs?.[0]?.ip || '<none>';
  const gates = spec?.readinessGates ?? [];
  const readinessGates = gates.length === 0 ? '<none>'
    : `${gates.filter((g) => status.conditions?.find((c) => c.type === g.conditionType)?.status === 'True').length}/${gates.length}`;

  return [
    nameOf(pod), `${ready}/${total}`, reason, restartsCell, age(pod, now),
    podIP, spec?.nodeName || '<none>', status.nominatedNodeName || '<none>', readinessGates,
  ];
}

function podConditions(pod: Pod): TableRowCondition[] | undefined {
  switch (pod.status?.phase) {
    case 'Succeeded': return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    case 'Failed': return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    default: return undefined;
  }
}

export const podsTable = definePrinter<Pod>(columns, podCells, podConditions);

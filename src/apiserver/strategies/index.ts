import type { Strategy } from '../strategy.js';
import { configMapStrategy } from './configmaps.js';
import { deploymentStrategy } from './deployments.js';
import { endpointsStrategy } from './endpoints.js';
import { endpointSliceStrategy } from './endpointslices.js';
import { eventStrategy } from './events.js';
import { genericStrategy } from './generic.js';
import { horizontalPodAutoscalerStrategy } from './horizontalpodautoscalers.js';
import { leaseStrategy } from './leases.js';
import { namespaceStrategy } from './namespaces.js';
import { nodeStrategy } from './nodes.js';
import { podDisruptionBudgetStrategy } from './poddisruptionbudgets.js';
import { podStrategy } from './pods.js';
import { priorityClassStrategy } from './priorityclasses.js';
import { replicaSetStrategy } from './replicasets.js';
import { replicationControllerStrategy } from './replicationcontrollers.js';
import { secretStrategy } from './secrets.js';
import { serviceAccountStrategy } from './serviceaccounts.js';
import { serviceStrategy } from './services.js';

/** Keyed `resource.group` (core: `resource`), as upstream prints group-resources. */
const STRATEGIES: Record<string, Strategy> = {
  namespaces: namespaceStrategy,
  pods: podStrategy,
  services: serviceStrategy,
  endpoints: endpointsStrategy,
  configmaps: configMapStrategy,
  secrets: secretStrategy,
  nodes: nodeStrategy,
  events: eventStrategy,
  replicationcontrollers: replicationControllerStrategy,
  serviceaccounts: serviceAccountStrategy,
  'deployments.apps': deploymentStrategy,
  'replicasets.apps': replicaSetStrategy,
  'horizontalpodautoscalers.autoscaling': horizontalPodAutoscalerStrategy,
  'endpointslices.discovery.k8s.io': endpointSliceStrategy,
  'leases.coordination.k8s.io': leaseStrategy,
  'priorityclasses.scheduling.k8s.io': priorityClassStrategy,
  'poddisruptionbudgets.policy': podDisruptionBudgetStrategy,
};

/**
 * The strategy for a group-resource; kinds without one get metadata
 * validation only. HorizontalPodAutoscalers are handled in their stored
 * version, autoscaling/v2, whatever version the request used.
 */
export function strategyFor(group: string, resource: string): Strategy {
  return STRATEGIES[group ? `${resource}.${group}` : resource] ?? genericStrategy(group, resource);
}

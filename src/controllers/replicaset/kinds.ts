import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec, ReplicationController } from 'kubernetes-types/core/v1';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import { labelSelectorFromObject, nothing, selectorFromSet, type Selector } from '../../api/labels.js';
import { replicasets, replicationcontrollers, type ResourceDescriptor } from '../../client/index.js';
import type { Condition } from '../util/conditions.js';

/** The status both kinds share, field for field. */
export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

/** What the shared core needs to know about ReplicaSet or ReplicationController, as upstream's RC controller wraps the RS one. */
export interface ReplicaKind<T extends ReplicaSet | ReplicationController> {
  res: ResourceDescriptor<T>;
  kind: string;
  apiVersion: string;
  /** The event source component and the queue name. */
  component: string;
  selector(obj: T): Selector;
  template(obj: T): PodTemplateSpec | undefined;
}

function safeSelector(ls: LabelSelector | undefined): Selector {
  try { return labelSelectorFromObject(ls); } catch { return nothing(); }
}

export const replicaSetKind: ReplicaKind<ReplicaSet> = {
  res: replicasets,
  kind: 'ReplicaSet',
  apiVersion: 'apps/v1',
  component: 'replicaset-controller',
  selector: (rs) => safeSelector(rs.spec?.selector),
  template: (rs) => rs.spec?.template,
};

export const replicationControllerKind: ReplicaKind<ReplicationController> = {
  res: replicationcontrollers,
  kind: 'ReplicationController',
  apiVersion: 'v1',
  component: 'replication-controller',
  // An RC without a selector selects its template's labels (the server defaults it so; this guards older objects).
  selector: (rc) => {
    const set = rc.spec?.selector ?? rc.spec?.template?.metadata?.labels;
    return set && Object.keys(set).length ? selectorFromSet(set) : nothing();
  },
  template: (rc) => rc.spec?.template,
};

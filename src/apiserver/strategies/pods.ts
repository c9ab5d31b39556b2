import type { Pod, PodCondition } from 'kubernetes-types/core/v1';
import { validatePod } from '../../api/validation/pod-spec.js';
import { validatePodSpecUpdate, validatePodStatusUpdate } from '../../api/validation/pod-update.js';
import type { Strategy } from '../strategy.js';
import { keepMetadataField, keepSpec, keepStatus, str, validateMetaUpdate, type Obj } from './common.js';
import { defaultPod } from './pod-defaults.js';
import { computePodQOS } from './qos.js';

type PodObj = Obj<Pod>;

/** pkg/registry/core/pod/strategy.go. */
export const podStrategy: Strategy<PodObj> = {
  defaults(pod) {
    defaultPod(pod);
  },

  /** A new pod is Pending with its QoS class fixed; a gated one says why it is not scheduled. */
  prepareForCreate(pod) {
    pod.status = { phase: 'Pending', qosClass: computePodQOS(pod) };
    if (pod.spec?.schedulingGates?.length) {
      const gated: PodCondition = {
        type: 'PodScheduled', status: 'False', reason: 'SchedulingGated',
        message: 'Scheduling is blocked due to non-empty scheduling gates',
      };
      pod.status.conditions = [gated];
    }
  },

  prepareForUpdate(pod, old) {
    keepStatus(pod, old);
  },

  /**
   * The spec stays; old kubelets corrupt owner references, so /status may
   * not touch them either. The QoS class set at creation is backfilled.
   */
  prepareForStatusUpdate(pod, old) {
    keepSpec(pod, old);
    keepMetadataField(pod, old, 'ownerReferences');
    if (pod.status && !pod.status.qosClass && old.status?.qosClass) pod.status.qosClass = old.status.qosClass;
  },

  validate(pod) {
    return validatePod(pod);
  },

  validateUpdate(pod, old) {
    return [...validateMetaUpdate(pod, old), ...validatePodSpecUpdate(pod, old), ...validatePodStatusUpdate(pod, old)];
  },

  selectableFields(pod) {
    return {
      'spec.nodeName': str(pod.spec?.nodeName),
      'spec.restartPolicy': str(pod.spec?.restartPolicy),
      'spec.schedulerName': str(pod.spec?.schedulerName),
      'spec.serviceAccountName': str(pod.spec?.serviceAccountName),
      'spec.hostNetwork': str(pod.spec?.hostNetwork, 'false'),
      'status.phase': str(pod.status?.phase),
      'status.podIP': str(pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP),
      'status.nominatedNodeName': str(pod.status?.nominatedNodeName),
    };
  },
};

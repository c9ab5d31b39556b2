/**
 * The labels and annotations the kubelet puts on CRI sandboxes and
 * containers — upstream's names, so `crictl` users recognise them. They are
 * how a restarted kubelet finds its pods again: the runtime is the record.
 */
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
/** Every object this kubelet made carries it, so a shared runtime's other sandboxes are left alone. */
export const MANAGED_BY_LABEL = 'io.bosun.kubelet.managed';

export const RESTART_COUNT_ANNOTATION = 'io.kubernetes.container.restartCount';
export const TERMINATION_GRACE_ANNOTATION = 'io.kubernetes.pod.terminationGracePeriod';
/** Which kind of container this is: `init`, `sidecar` or `regular`. */
export const CONTAINER_KIND_ANNOTATION = 'io.bosun.kubelet.container-kind';
/** A hash of the container's spec: when the spec changes (a new image), the running instance is replaced. */
export const CONTAINER_HASH_ANNOTATION = 'io.kubernetes.container.hash';

import type { Namespace } from 'kubernetes-types/core/v1';
import { invalid } from '../../api/validation/errors.js';
import { validateFinalizerName } from '../../api/validation/metadata.js';
import { nameIsDNSLabel } from '../../api/validation/names.js';
import type { Strategy } from '../strategy.js';
import { keepSpec, keepStatus, validateClusterMeta, validateMetaUpdate, type Obj } from './common.js';

type NamespaceObj = Obj<Namespace>;

/** Every namespace carries its own name as a label, so selectors can pick namespaces by name. */
const NAME_LABEL = 'kubernetes.io/metadata.name';

/** pkg/registry/core/namespace/strategy.go. */
export const namespaceStrategy: Strategy<NamespaceObj> = {
  defaults(ns) {
    const name = ns.metadata?.name;
    if (name) ns.metadata!.labels = { ...(ns.metadata!.labels ?? {}), [NAME_LABEL]: name };
    if (ns.status) ns.status.phase ||= 'Active';
  },

  /** Active, and held by the `kubernetes` finalizer until the namespace controller has emptied it. */
  prepareForCreate(ns) {
    ns.status = { phase: 'Active' };
    const spec = (ns.spec ??= {});
    if (!(spec.finalizers ?? []).includes('kubernetes')) spec.finalizers = [...(spec.finalizers ?? []), 'kubernetes'];
  },

  /** spec.finalizers change only through /finalize; status only through /status. */
  prepareForUpdate(ns, old) {
    const spec = (ns.spec ??= {});
    if (old.spec?.finalizers) spec.finalizers = [...old.spec.finalizers];
    else delete spec.finalizers;
    if (Object.keys(spec).length === 0 && old.spec === undefined) delete ns.spec;
    keepStatus(ns, old);
  },

  prepareForStatusUpdate: keepSpec,

  /** A deleted namespace stays, Terminating, until the namespace controller has emptied it and removed its finalizers. */
  blocksDeletion(ns) {
    return (ns.spec?.finalizers?.length ?? 0) > 0;
  },

  prepareForDelete(ns) {
    ns.status = { ...(ns.status ?? {}), phase: 'Terminating' };
  },

  /** Only spec.finalizers changes through /finalize (upstream's finalizeStrategy). */
  prepareForFinalize(ns, old) {
    const finalizers = ns.spec?.finalizers;
    const next = structuredClone(old);
    next.spec = { ...(next.spec ?? {}) };
    if (finalizers?.length) next.spec.finalizers = [...finalizers]; else delete next.spec.finalizers;
    ns.spec = next.spec;
    ns.status = next.status;
    ns.metadata = { ...next.metadata, resourceVersion: ns.metadata?.resourceVersion };
  },

  validate(ns) {
    const errs = validateClusterMeta(ns, nameIsDNSLabel);
    for (const f of ns.spec?.finalizers ?? []) errs.push(...validateFinalizerName(f, 'spec.finalizers'));
    return errs;
  },

  /** ValidateNamespaceStatusUpdate, when the phase is being changed. */
  validateUpdate(ns, old) {
    const errs = validateMetaUpdate(ns, old);
    const phase = ns.status?.phase;
    if (phase !== old.status?.phase) {
      if (!ns.metadata?.deletionTimestamp && phase !== 'Active') {
        errs.push(invalid('status.Phase', phase ?? '', "may only be 'Active' if `deletionTimestamp` is empty"));
      } else if (ns.metadata?.deletionTimestamp && phase !== 'Terminating') {
        errs.push(invalid('status.Phase', phase ?? '', "may only be 'Terminating' if `deletionTimestamp` is not empty"));
      }
    }
    return errs;
  },

  /** `name` is a historical bug upstream keeps for compatibility. */
  selectableFields(ns) {
    return { 'status.phase': ns.status?.phase ?? '', name: ns.metadata?.name ?? '' };
  },
};

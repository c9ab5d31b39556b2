import type { Node, Taint } from 'kubernetes-types/core/v1';
import type { FieldError } from '../../api/status.js';
import { duplicate, forbidden, invalid, notSupported, required } from '../../api/validation/errors.js';
import { validateCIDR } from '../../api/validation/ip.js';
import { validateLabelName } from '../../api/validation/labels.js';
import { isValidLabelValue } from '../../api/validation/names.js';
import { child, index } from '../../api/validation/path.js';
import { validateResourceQuantityValue } from '../../api/validation/resources.js';
import type { Strategy } from '../strategy.js';
import { keepSpec, keepStatus, str, validateClusterMeta, validateMetaUpdate, type Obj } from './common.js';
import { semanticEqual } from '../../api/validation/equality.js';

type NodeObj = Obj<Node>;
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** validateNodeTaints: valid keys and values, a known effect, unique by key and effect. */
function validateTaints(taints: Taint[], field: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((t, i) => {
    const p = index(field, i);
    errs.push(...validateLabelName(t.key, child(p, 'key')));
    const msgs = isValidLabelValue(t.value ?? '');
    if (msgs.length) errs.push(invalid(child(p, 'value'), t.value ?? '', msgs.join(';')));
    if (!t.effect) errs.push(required(child(p, 'effect')));
    else if (!TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(child(p, 'effect'), t.effect, TAINT_EFFECTS));
    const id = `${t.effect}\u0000${t.key}`;
    if (seen.has(id)) {
      const d = duplicate(p, t);
      errs.push({ ...d, message: `${d.message}: taints must be unique by key and effect pair` });
      return;
    }
    seen.add(id);
  });
  return errs;
}

/** ValidateNodeResources: capacity and allocatable are non-negative quantities. */
function validateNodeResources(node: NodeObj): FieldError[] {
  const errs: FieldError[] = [];
  for (const list of ['capacity', 'allocatable'] as const) {
    for (const [k, v] of Object.entries(node.status?.[list] ?? {})) errs.push(...validateResourceQuantityValue(k, v, `status.${list}.${k}`));
  }
  return errs;
}

/** pkg/registry/core/node/strategy.go. Nodes register with their status; it is kept on create. */
export const nodeStrategy: Strategy<NodeObj> = {
  /** SetDefaults_NodeStatus: allocatable is the capacity unless the kubelet reserves some. */
  defaults(node) {
    if (node.status?.capacity && !node.status.allocatable) node.status.allocatable = { ...node.status.capacity };
  },
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepSpec,

  validate(node) {
    const errs = validateClusterMeta(node);
    // upstream reports taints under metadata, not spec
    if (node.spec?.taints?.length) errs.push(...validateTaints(node.spec.taints, 'metadata.taints'));
    errs.push(...validateNodeResources(node));
    const cidrs = node.spec?.podCIDRs ?? [];
    cidrs.forEach((c, i) => errs.push(...validateCIDR(c, index('spec.podCIDRs', i))));
    if (cidrs.length > 1) {
      const families = new Set(cidrs.map((c) => (c.includes(':') ? 6 : 4)));
      if (families.size !== cidrs.length || cidrs.length > 2) errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
    }
    return errs;
  },

  /** A pod CIDR and provider ID are assigned once; addresses are unique. */
  validateUpdate(node, old) {
    const errs = validateMetaUpdate(node, old);
    const seen: unknown[] = [];
    (node.status?.addresses ?? []).forEach((a, i) => {
      if (seen.some((s) => semanticEqual(s, a))) errs.push(duplicate(index('status.addresses', i), a));
      seen.push(a);
    });
    const oldCIDRs = old.spec?.podCIDRs ?? [];
    const newCIDRs = node.spec?.podCIDRs ?? [];
    if (oldCIDRs.length && (oldCIDRs.length !== newCIDRs.length || oldCIDRs.some((c, i) => c !== newCIDRs[i]))) {
      errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
    }
    if (old.spec?.providerID && old.spec.providerID !== node.spec?.providerID) {
      errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
    }
    return errs;
  },

  selectableFields(node) {
    return { 'spec.unschedulable': str(node.spec?.unschedulable, 'false') };
  },
};

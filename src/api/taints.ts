import type { Taint, Toleration } from 'kubernetes-types/core/v1';

/** Upstream's Toleration.ToleratesTaint: one toleration against one taint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists': return true;
    case 'Equal': case '': return (t.value ?? '') === (taint.value ?? '');
    default: return false;
  }
}

/** Whether any of the tolerations tolerates the taint. */
export const tolerates = (tolerations: readonly Toleration[] | undefined, taint: Taint): boolean =>
  (tolerations ?? []).some((t) => toleratesTaint(t, taint));

/** The taints the node lifecycle controller puts on a node whose kubelet is silent or not ready. */
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';

/** `key=value:Effect,key:Effect`, as `kubectl taint` writes them. */
export function parseTaints(text: string | undefined): Taint[] {
  const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((part) => {
    const m = /^([^=:]+)(?:=([^:]*))?:([A-Za-z]+)$/.exec(part);
    if (!m || !effects.includes(m[3])) throw new Error(`invalid taint "${part}": want key[=value]:${effects.join('|')}`);
    return { key: m[1], ...(m[2] ? { value: m[2] } : {}), effect: m[3] };
  });
}

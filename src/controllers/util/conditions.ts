import { nowTimestamp } from '../../api/meta.js';

/** The shape every `status.conditions[]` entry of the workload kinds shares. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

export const getCondition = <C extends Condition>(conds: readonly C[] | undefined, type: string): C | undefined => conds?.find((c) => c.type === type);

/**
 * Upstream's SetCondition: the transition time moves only when the status
 * flips; same status and reason keep the old condition's times.
 */
export function setCondition<C extends Condition>(conds: readonly C[] | undefined, next: C): C[] {
  const list = [...(conds ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? list[i] : undefined;
  if (old && old.status === next.status && old.reason === next.reason) return list;
  const merged = { ...next };
  if (old && old.status === next.status) merged.lastTransitionTime = old.lastTransitionTime;
  else merged.lastTransitionTime ??= nowTimestamp();
  if (i >= 0) list[i] = merged; else list.push(merged);
  return list;
}

export const removeCondition = <C extends Condition>(conds: readonly C[] | undefined, type: string): C[] => (conds ?? []).filter((c) => c.type !== type);

import type { Pod, Toleration } from 'kubernetes-types/core/v1';
import { tolerates, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from '../../api/taints.js';
import type { KubeObject } from '../strategy.js';

export interface DefaultTolerationSecondsOptions {
  /** `--default-not-ready-toleration-seconds` (300). */
  notReadySeconds: number;
  /** `--default-unreachable-toleration-seconds` (300). */
  unreachableSeconds: number;
}

export const DEFAULT_TOLERATION_SECONDS: DefaultTolerationSecondsOptions = { notReadySeconds: 300, unreachableSeconds: 300 };

/**
 * Upstream's DefaultTolerationSeconds admission plugin: a new pod that does
 * not already tolerate the NoExecute `not-ready` / `unreachable` taints gets a
 * toleration for each, so a brief node outage does not evict it at once, and
 * a long one does after this many seconds.
 */
export function defaultTolerationSeconds(opts: DefaultTolerationSecondsOptions): (obj: KubeObject) => void {
  return (obj) => {
    const spec = (obj as Pod).spec;
    if (!spec) return;
    const added: Toleration[] = [];
    for (const [key, seconds] of [[TAINT_NODE_NOT_READY, opts.notReadySeconds], [TAINT_NODE_UNREACHABLE, opts.unreachableSeconds]] as const) {
      if (!tolerates(spec.tolerations, { key, effect: 'NoExecute' })) {
        added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
      }
    }
    if (added.length) spec.tolerations = [...(spec.tolerations ?? []), ...added];
  };
}

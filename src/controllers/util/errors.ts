import { isConflict } from '../../client/index.js';

/**
 * The work queue's error report for a controller. A 409 is the normal cost
 * of optimistic concurrency against a cache one watch event behind: it is
 * retried like any error but not reported.
 */
export function syncErrorLogger(component: string, log: (m: string) => void): (key: string, err: unknown) => void {
  return (key, err) => {
    if (isConflict(err)) return;
    log(`${component}: sync ${key}: ${err instanceof Error ? err.message : String(err)}`);
  };
}

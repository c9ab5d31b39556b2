/**
 * PodLogOptions as query parameters (`tailLines`, `sinceSeconds`, `sinceTime`,
 * `timestamps`, `limitBytes`), validated as upstream validates them. The API
 * server checks them before it calls the kubelet; the kubelet parses them.
 */
import { parseTimestampNs } from './cri-log.js';
import type { LogReadOptions } from './read.js';

/** A query that PodLogOptions validation rejects; the message is upstream's. */
export class LogOptionsError extends Error {}

const truthy = (v: string | null) => v === '1' || v === 'true' || v === 'True';

export function parseLogOptions(q: URLSearchParams, now = Date.now()): LogReadOptions {
  const int = (key: string): number | undefined => {
    const v = q.get(key);
    if (v === null || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw new LogOptionsError(`${key}: Invalid value: "${v}": must be an integer`);
    return Number(v);
  };
  const tailLines = int('tailLines'), sinceSeconds = int('sinceSeconds'), limitBytes = int('limitBytes');
  const sinceTime = q.get('sinceTime');
  if (tailLines !== undefined && tailLines < 0) throw new LogOptionsError(`tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0`);
  if (limitBytes !== undefined && limitBytes < 1) throw new LogOptionsError(`limitBytes: Invalid value: ${limitBytes}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceSeconds < 1) throw new LogOptionsError(`sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceTime) throw new LogOptionsError('at most one of `sinceTime` or `sinceSeconds` may be specified');
  let sinceNs: bigint | undefined;
  if (sinceTime) {
    sinceNs = parseTimestampNs(sinceTime);
    if (sinceNs === undefined) throw new LogOptionsError(`sinceTime: Invalid value: "${sinceTime}": must be an RFC 3339 time`);
  } else if (sinceSeconds !== undefined) {
    sinceNs = BigInt(now - sinceSeconds * 1000) * 1_000_000n;
  }
  return { tailLines, limitBytes, sinceNs, timestamps: truthy(q.get('timestamps')) };
}

/** The query parameters of PodLogOptions that travel from the API server to the kubelet. */
export const LOG_QUERY_PARAMS = ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes'] as const;

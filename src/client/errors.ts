import type { Status } from 'kubernetes-types/meta/v1';

/**
 * A non-2xx answer from the API server, carrying the `Status` it sent so
 * callers branch on `reason`/`code` the way client-go's `apierrors` do.
 */
export class ApiError extends Error {
  readonly status: Status;
  readonly code: number;
  readonly reason: string;

  constructor(status: Status, readonly request?: string) {
    super(status.message || `the server responded with code ${status.code ?? 'unknown'}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = status.code ?? 0;
    this.reason = status.reason ?? '';
  }

  get retryAfterSeconds(): number | undefined { return this.status.details?.retryAfterSeconds; }
}

/**
 * A watch that ended with an `ERROR` event of code 410: its resourceVersion
 * was compacted away, so the caller must list again instead of resuming.
 */
export class WatchExpiredError extends ApiError {
  constructor(status: Status, request?: string) {
    super(status, request);
    this.name = 'WatchExpiredError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Narrows a decoded body to a `Status`, or builds one from the code and text as client-go does for non-Status bodies. */
export function statusFrom(body: unknown, code: number, text = ''): Status {
  if (isRecord(body) && body.kind === 'Status') {
    const status = body as Status;
    return { ...status, code: typeof status.code === 'number' && status.code !== 0 ? status.code : code };
  }
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code,
    reason: reasonForCode(code),
    message: text.trim() ? text.trim().slice(0, 1024) : `the server responded with the status code ${code} but did not return more information`,
  };
}

/** Upstream's reason for a bare status code (`apierrors.NewGenericServerResponse`). */
function reasonForCode(code: number): string {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 406: return 'NotAcceptable';
    case 409: return 'Conflict';
    case 410: return 'Gone';
    case 413: return 'RequestEntityTooLarge';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    default: return code >= 500 ? 'InternalError' : 'Unknown';
  }
}

// As client-go: the reason decides; the code stands in only when the reason is missing.
const has = (err: unknown, reason: string, code?: number): boolean =>
  err instanceof ApiError && (err.reason === reason || (code !== undefined && (err.reason === '' || err.reason === 'Unknown') && err.code === code));

export const isNotFound = (err: unknown): boolean => has(err, 'NotFound', 404);
export const isAlreadyExists = (err: unknown): boolean => has(err, 'AlreadyExists');
export const isConflict = (err: unknown): boolean => has(err, 'Conflict', 409);
/** 410: `Gone` or `Expired` (a too-old resourceVersion or continue token). */
export const isGone = (err: unknown): boolean => err instanceof ApiError && (err.code === 410 || err.reason === 'Gone' || err.reason === 'Expired');
export const isInvalid = (err: unknown): boolean => has(err, 'Invalid', 422);
export const isForbidden = (err: unknown): boolean => has(err, 'Forbidden', 403);
export const isUnauthorized = (err: unknown): boolean => has(err, 'Unauthorized', 401);
export const isTooManyRequests = (err: unknown): boolean => has(err, 'TooManyRequests', 429);
export const isBadRequest = (err: unknown): boolean => has(err, 'BadRequest', 400);

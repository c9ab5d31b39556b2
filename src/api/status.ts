import type { Status, StatusCause } from 'kubernetes-types/meta/v1';

/** The `reason` values of metav1.Status that bosun returns. */
export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Gone' | 'Expired' | 'Invalid' | 'RequestEntityTooLarge' | 'UnsupportedMediaType'
  | 'NotAcceptable' | 'MethodNotAllowed' | 'TooManyRequests' | 'InternalError' | 'ServiceUnavailable' | 'Timeout';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An API failure that travels up to the HTTP layer and is written as a
 *  `Status` object with upstream's code, reason and wording. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'StatusError';
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** A group-qualified resource name as upstream prints it: `pods`, `deployments.apps`. */
export interface GroupResource { group: string; resource: string }
const qualified = (gr: GroupResource) => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);
export const unauthorized = () => new StatusError(401, 'Unauthorized', 'Unauthorized');
export const forbidden = (message: string) => new StatusError(403, 'Forbidden', message);
export const methodNotAllowed = (message = 'the server does not allow this method on the requested resource') =>
  new StatusError(405, 'MethodNotAllowed', message);
export const notFound = (gr: GroupResource, name: string) =>
  new StatusError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource });
export const pathNotFound = () => new StatusError(404, 'NotFound', 'the server could not find the requested resource');
export const alreadyExists = (gr: GroupResource, name: string) =>
  new StatusError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, { name, group: gr.group, kind: gr.resource });
export const conflict = (gr: GroupResource, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, { name, group: gr.group, kind: gr.resource });
export const gone = (message: string) => new StatusError(410, 'Expired', message);
export const tooLarge = (message = 'Request entity too large: limit is 3145728') =>
  new StatusError(413, 'RequestEntityTooLarge', message);
export const unsupportedMediaType = (type: string) =>
  new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`.replace('unknown format', `unknown format (${type})`));
export const notAcceptable = (message: string) => new StatusError(406, 'NotAcceptable', message);
export const internalError = (message: string) => new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);
export const serviceUnavailable = (message: string) => new StatusError(503, 'ServiceUnavailable', message);

/** One field problem, as field.Error prints it upstream. */
export interface FieldError {
  /** `Invalid`, `Required`, `Duplicate`, `NotSupported`, `Forbidden`, `TooLong`, `FieldValueInvalid`… */
  type: 'FieldValueInvalid' | 'FieldValueNotFound' | 'FieldValueTooMany' | 'FieldValueRequired' | 'FieldValueDuplicate' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTypeInvalid';
  /** Dotted path, e.g. `spec.containers[0].name`. */
  field: string;
  /** The whole message for this field, e.g. `Required value` or `Invalid value: "Foo": a lowercase RFC 1123 …`. */
  message: string;
}

/** 422 Invalid, worded as upstream: `Pod "x" is invalid: [a: Required value, b: …]`. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  const parts = errors.map((e) => `${e.field}: ${e.message}`);
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${kind} "${name}" is invalid: ${list}`, {
    name, group, kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

/** Helpers to build field errors with upstream's wording. */
export const fieldErrors = {
  required: (field: string, detail = ''): FieldError =>
    ({ type: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' }),
  invalid: (field: string, value: unknown, detail: string): FieldError =>
    ({ type: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError =>
    ({ type: 'FieldValueNotSupported', field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}` }),
  duplicate: (field: string, value: unknown): FieldError =>
    ({ type: 'FieldValueDuplicate', field, message: `Duplicate value: ${JSON.stringify(value)}` }),
  forbidden: (field: string, detail: string): FieldError =>
    ({ type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` }),
  tooLong: (field: string, max: number): FieldError =>
    ({ type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` }),
};

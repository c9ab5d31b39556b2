import type { FieldError } from '../status.js';
import { inclusiveRangeError, invalidEach, maxLenError, notSupported, required } from './errors.js';

/** Sorted, as upstream lists a set's values in its messages. */
export const SUPPORTED_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** A non-zero port number. */
export const isValidPortNum = (port: number): string[] =>
  Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];

/**
 * An IANA service name: ≤ 15 characters of `[-a-z0-9]`, at least one letter,
 * no leading, trailing or doubled hyphen.
 */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

export const validatePortNumber = (port: number, field: string): FieldError[] => invalidEach(field, port, isValidPortNum(port));

/** Required, and one of TCP, UDP, SCTP. */
export function validateProtocol(protocol: string | undefined, field: string): FieldError[] {
  if (!protocol) return [required(field)];
  return SUPPORTED_PROTOCOLS.includes(protocol) ? [] : [notSupported(field, protocol, SUPPORTED_PROTOCOLS)];
}

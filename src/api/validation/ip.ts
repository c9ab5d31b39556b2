import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { FieldError } from '../status.js';
import { invalid } from './errors.js';

export const isValidIP = (value: string): boolean => isIP(value) !== 0;

export const validateIP = (value: string, field: string): FieldError[] =>
  isValidIP(value) ? [] : [invalid(field, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];

export const validateIPv4 = (value: string, field: string): FieldError[] =>
  isIPv4(value) ? [] : [invalid(field, value, 'must be a valid IPv4 address')];

export const validateIPv6 = (value: string, field: string): FieldError[] =>
  isIPv6(value) ? [] : [invalid(field, value, 'must be a valid IPv6 address')];

export function validateCIDR(value: string, field: string): FieldError[] {
  const [ip, bits, ...rest] = value.split('/');
  const max = isIPv4(ip ?? '') ? 32 : isIPv6(ip ?? '') ? 128 : -1;
  const n = bits !== undefined && /^\d+$/.test(bits) ? Number(bits) : -1;
  return max > 0 && rest.length === 0 && n >= 0 && n <= max ? [] : [invalid(field, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/**
 * ValidateNonSpecialIP: endpoints may not point at unspecified, loopback or
 * link-local addresses (those are the node's own business).
 */
export function validateNonSpecialIP(value: string, field: string): FieldError[] {
  if (!isValidIP(value)) return [invalid(field, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  if (isIPv4(value)) {
    const [a, b, c] = value.split('.').map(Number) as [number, number, number, number];
    if (value === '0.0.0.0') errs.push(invalid(field, value, `may not be unspecified (${value})`));
    if (a === 127) errs.push(invalid(field, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
    if (a === 169 && b === 254) errs.push(invalid(field, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
    if (a === 224 && b === 0 && c === 0) errs.push(invalid(field, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
    return errs;
  }
  const words = expandIPv6(value);
  if (words.every((w) => w === 0)) errs.push(invalid(field, value, `may not be unspecified (${value})`));
  if (words.slice(0, 7).every((w) => w === 0) && words[7] === 1) errs.push(invalid(field, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if ((words[0]! & 0xffc0) === 0xfe80) errs.push(invalid(field, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if ((words[0]! & 0xff0f) === 0xff02) errs.push(invalid(field, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** Eight 16-bit words of an IPv6 address (an embedded IPv4 tail included). */
function expandIPv6(value: string): number[] {
  let text = value.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((w) => Number.parseInt(w, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  return tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

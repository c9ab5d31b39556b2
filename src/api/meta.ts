import { randomBytes, randomUUID } from 'node:crypto';

/** Upstream's generateName suffix alphabet: no vowels (no words), no look-alikes. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_NAME_LENGTH = 63;

/** `generateName` + 5 random characters, the prefix trimmed so the name fits, as upstream. */
export function generateName(prefix: string): string {
  const base = prefix.length > MAX_NAME_LENGTH - 5 ? prefix.slice(0, MAX_NAME_LENGTH - 5) : prefix;
  const bytes = randomBytes(5);
  let suffix = '';
  for (const b of bytes) suffix += SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length];
  return base + suffix;
}

export const newUid = (): string => randomUUID();

/** RFC 3339 with seconds precision, as metav1.Time marshals. */
export const nowTimestamp = (date = new Date()): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `ns/name` for namespaced objects, `name` for cluster-scoped ones, as client-go's cache keys. */
export const objectKey = (namespace: string | undefined, name: string): string => (namespace ? `${namespace}/${name}` : name);

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A deep copy of a JSON value (objects here are always plain JSON). */
export const deepCopy = <T>(v: T): T => structuredClone(v);

import type { ObjectMeta } from 'kubernetes-types/meta/v1';
/** ObjectMeta as the server writes it: kubernetes-types marks server-set fields readonly for clients. */
export type ServerObjectMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

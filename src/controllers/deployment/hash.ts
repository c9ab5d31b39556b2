import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import { stableStringify } from '../util/stable-json.js';

/** apimachinery's rand.SafeEncodeString alphabet: no vowels, no look-alikes, so hashes never spell words. */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv32a(bytes: Uint8Array, hash = FNV_OFFSET): number {
  let h = hash;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h >>> 0;
}

/**
 * controller.ComputeHash: FNV-32a over the template (here its key-sorted
 * JSON, so it is stable across restarts, not byte-equal to upstream's) and
 * the collision count, rendered as upstream does — each digit of the decimal
 * value mapped onto the safe alphabet.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(stableStringify(template ?? {})));
  if (collisionCount !== undefined) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  let out = '';
  for (const ch of String(h)) out += ALPHANUMS[ch.charCodeAt(0) % ALPHANUMS.length];
  return out;
}

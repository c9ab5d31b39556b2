/**
 * Go's base64.StdEncoding as encoding/json applies it to []byte fields
 * (Secret and ConfigMap binary data): strict alphabet and padding, line
 * breaks ignored. Node's own decoder accepts nearly anything, so it cannot
 * tell a client that its data is broken.
 */
export type Base64Result = { ok: true; bytes: Buffer } | { ok: false; error: string };

const ALPHABET = /^[A-Za-z0-9+/]$/;

export function decodeStrictBase64(text: string): Base64Result {
  const s = text.replace(/[\r\n]/g, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (ALPHABET.test(c)) continue;
    // padding: only at the end of the last quantum, at most two characters
    const tail = s.slice(i);
    if (c === '=' && /^={1,2}$/.test(tail) && s.length % 4 === 0 && i >= s.length - 2) break;
    return { ok: false, error: `illegal base64 data at input byte ${i}` };
  }
  if (s.length % 4 !== 0) return { ok: false, error: `illegal base64 data at input byte ${s.length - (s.length % 4)}` };
  return { ok: true, bytes: Buffer.from(s, 'base64') };
}

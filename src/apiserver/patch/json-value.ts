/**
 * Small JSON helpers shared by the patch formats: a proto-safe deep copy,
 * Go-compatible decoding errors, and Go's `%v` rendering of decoded values.
 *
 * Upstream's error messages are Go's (encoding/json, fmt), and clients and
 * users compare them by eye, so the wording is reproduced here instead of
 * passing on V8's `Unexpected token…` messages.
 */

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets a key without ever touching the prototype: `__proto__` arrives as an
 *  ordinary key from JSON.parse and must stay one. */
export function setField(obj: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

export function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map((e: unknown) => deepCopy(e)) as T;
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, e] of Object.entries(v)) setField(out, k, deepCopy(e));
    return out as T;
  }
  return v;
}

/** Structural equality of JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((e, i) => jsonEqual(e, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The Go type a decoded JSON value has (upstream decodes with PreserveInts). */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (Array.isArray(v)) return '[]interface {}';
  if (isObject(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

/** How Go's `%v` prints a decoded JSON value: `map[a:1 b:[x y]]`. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isObject(v)) {
    return `map[${Object.keys(v).sort().map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** What encoding/json calls a JSON value's kind in "cannot unmarshal X into…". */
export function jsonKindName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (isObject(v)) return 'object';
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : 'string';
}

// ---- Go encoding/json syntax errors -------------------------------------

/** Go's quoteChar: how the scanner names an unexpected byte. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const escapes: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  let s: string;
  if (escapes[c] !== undefined) s = escapes[c];
  else if (c < 0x20 || c === 0x7f) s = `\\x${hex(c)}`;
  else if ((c >= 0x80 && c <= 0xa0) || c === 0xad) s = `\\u00${hex(c)}`;
  else s = String.fromCharCode(c);
  return `'${s}'`;
}

class GoSyntaxError extends Error {}

/**
 * A validator that walks the bytes as Go's encoding/json scanner does and
 * fails with the same message at the same byte, e.g.
 * `invalid character 'o' in literal null (expecting 'u')` or
 * `unexpected end of JSON input`. Returns undefined for valid JSON.
 */
export function goJsonSyntaxError(text: string): string | undefined {
  const b = Buffer.from(text, 'utf8');
  let i = 0;
  const EOF = -1;
  const peek = (): number => (i < b.length ? b[i] : EOF);
  const fail = (context: string): never => {
    const c = peek();
    throw new GoSyntaxError(c === EOF ? 'unexpected end of JSON input' : `invalid character ${quoteChar(c)} ${context}`);
  };
  const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
  const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
  const skipSpace = () => { while (isSpace(peek())) i++; };

  const literal = (word: string) => {
    i++; // the first letter chose the literal
    for (const ch of word.slice(1)) {
      if (peek() !== ch.charCodeAt(0)) fail(`in literal ${word} (expecting '${ch}')`);
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      const c = peek();
      if (c === EOF) fail('');
      if (c === 0x22) { i++; return; }
      if (c === 0x5c) {
        i++;
        const e = peek();
        if (e === 0x75) {
          i++;
          for (let k = 0; k < 4; k++) {
            if (!isHex(peek())) fail('in \\u hexadecimal character escape');
            i++;
          }
        } else if ([0x62, 0x66, 0x6e, 0x72, 0x74, 0x5c, 0x2f, 0x22].includes(e)) {
          i++;
        } else {
          fail('in string escape code');
        }
        continue;
      }
      if (c < 0x20) fail('in string literal');
      i++;
    }
  };
  const number = () => {
    if (peek() === 0x2d) {
      i++;
      if (!isDigit(peek())) fail('in numeric literal');
    }
    if (peek() === 0x30) i++;
    else while (isDigit(peek())) i++;
    if (peek() === 0x2e) {
      i++;
      if (!isDigit(peek())) fail('after decimal point in numeric literal');
      while (isDigit(peek())) i++;
    }
    if (peek() === 0x65 || peek() === 0x45) {
      i++;
      if (peek() === 0x2b || peek() === 0x2d) i++;
      if (!isDigit(peek())) fail('in exponent of numeric literal');
      while (isDigit(peek())) i++;
    }
  };
  const value = (): void => {
    skipSpace();
    const c = peek();
    if (c === 0x7b) return object();
    if (c === 0x5b) return array();
    if (c === 0x22) return string();
    if (c === 0x2d || isDigit(c)) return number();
    if (c === 0x74) return literal('true');
    if (c === 0x66) return literal('false');
    if (c === 0x6e) return literal('null');
    fail('looking for beginning of value');
  };
  const object = () => {
    i++;
    skipSpace();
    if (peek() === 0x7d) { i++; return; }
    for (;;) {
      skipSpace();
      if (peek() !== 0x22) fail('looking for beginning of object key string');
      string();
      skipSpace();
      if (peek() !== 0x3a) fail('after object key');
      i++;
      value();
      skipSpace();
      if (peek() === 0x2c) { i++; continue; }
      if (peek() === 0x7d) { i++; return; }
      fail('after object key:value pair');
    }
  };
  const array = () => {
    i++;
    skipSpace();
    if (peek() === 0x5d) { i++; return; }
    for (;;) {
      value();
      skipSpace();
      if (peek() === 0x2c) { i++; continue; }
      if (peek() === 0x5d) { i++; return; }
      fail('after array element');
    }
  };

  try {
    value();
    skipSpace();
    if (peek() !== EOF) fail('after top-level value');
    return undefined;
  } catch (e) {
    if (e instanceof GoSyntaxError) return e.message;
    throw e;
  }
}

/** Parses JSON, or returns Go's message for why it is not JSON. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const syntax = goJsonSyntaxError(text);
  if (syntax !== undefined) return { ok: false, message: syntax };
  return { ok: true, value: JSON.parse(text) as unknown };
}

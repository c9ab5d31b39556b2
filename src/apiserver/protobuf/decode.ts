import { badRequest } from '../../api/status.js';
import { isScalar, messageDescriptor, rootMessage, type FieldDescriptor } from './schema.js';
import { Reader, WireError, WireType, toInt32, toInt64 } from './wire.js';

/** `k8s\0`: upstream's protobuf serializer prefixes every object with it. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** Whether a Content-Type (parameters allowed) is Kubernetes protobuf. */
export function isProtobufContentType(type: string): boolean {
  return type.split(';')[0].trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

/**
 * Decodes a Kubernetes protobuf request body (magic + runtime.Unknown) into the
 * object upstream's JSON encoding of the same Go value would give: apiVersion and
 * kind from the envelope, zero values of omitempty non-pointer fields dropped,
 * explicit values of pointer fields kept. Throws a 400 Status on malformed input.
 */
export function decodeProtobufObject(body: Buffer): unknown {
  if (body.length < PROTOBUF_MAGIC.length || !body.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  let envelope: Envelope;
  try {
    envelope = readEnvelope(new Reader(body, PROTOBUF_MAGIC.length));
  } catch (err) {
    if (err instanceof WireError) throw badRequest(`malformed protobuf envelope (runtime.Unknown): ${err.message}`);
    throw err;
  }
  const { apiVersion, kind, raw, contentEncoding, contentType } = envelope;
  if (contentEncoding !== '') throw badRequest(`unsupported protobuf content encoding "${contentEncoding}"`);
  if (kind === '') throw badRequest('Object \'Kind\' is missing in protobuf body');
  if (contentType !== '' && !isProtobufContentType(contentType)) {
    throw badRequest(`unsupported content type "${contentType}" inside a protobuf envelope`);
  }
  const message = rootMessage(apiVersion, kind);
  if (!message) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}" in protobuf decoding`);
  try {
    return { apiVersion, kind, ...decodeMessage(message, new Reader(body, raw.start, raw.end), '') };
  } catch (err) {
    if (err instanceof FieldError) throw badRequest(`malformed protobuf ${apiVersion}, Kind=${kind}: ${err.message}`);
    throw err;
  }
}

interface Envelope { apiVersion: string; kind: string; raw: { start: number; end: number }; contentEncoding: string; contentType: string }

function readEnvelope(r: Reader): Envelope {
  const env: Envelope = { apiVersion: '', kind: '', raw: { start: r.pos, end: r.pos }, contentEncoding: '', contentType: '' };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (wire !== WireType.Bytes || field > 4) { r.skip(wire); continue; }
    const span = r.bytes();
    const text = (): string => r.buf.toString('utf8', span.start, span.end);
    if (field === 1) {
      const meta = new Reader(r.buf, span.start, span.end);
      while (!meta.done) {
        const t = meta.tag();
        if (t.wire !== WireType.Bytes || t.field > 2) { meta.skip(t.wire); continue; }
        const s = meta.bytes();
        const value = meta.buf.toString('utf8', s.start, s.end);
        if (t.field === 1) env.apiVersion = value; else env.kind = value;
      }
    } else if (field === 2) env.raw = span;
    else if (field === 3) env.contentEncoding = text();
    else env.contentType = text();
  }
  return env;
}

/** A malformed field, with the JSON path where it was found. */
class FieldError extends Error {}

type JsonObject = Record<string, unknown>;

function decodeMessage(name: string, r: Reader, path: string): JsonObject {
  const fields = messageDescriptor(name);
  if (!fields) throw new Error(`protobuf table has no message ${name}`); // a bug in the table, not bad input
  const out: JsonObject = {};
  while (!r.done) {
    let field: number;
    let wire: number;
    try {
      ({ field, wire } = r.tag());
    } catch (err) {
      throw wrap(err, path);
    }
    const f = fields.get(field);
    if (!f) {
      // Unknown to this table (a newer client's field): upstream's decoder drops those too.
      try { r.skip(wire); } catch (err) { throw wrap(err, path); }
      continue;
    }
    const at = f.json === '' ? path : path === '' ? f.json : `${path}.${f.json}`;
    try {
      readField(f, wire, r, out, at);
    } catch (err) {
      throw wrap(err, at);
    }
  }
  return out;
}

function wrap(err: unknown, path: string): unknown {
  if (err instanceof WireError) return new FieldError(`${path || '<root>'}: ${err.message}`);
  return err;
}

function readField(f: FieldDescriptor, wire: number, r: Reader, out: JsonObject, path: string): void {
  if (f.map) {
    expectWire(wire, WireType.Bytes, f);
    const entry = r.bytes();
    const [key, value] = readMapEntry(f, new Reader(r.buf, entry.start, entry.end), path);
    const map = (out[f.json] ??= {}) as JsonObject;
    // defineProperty: a "__proto__" key must become an own property, as JSON.parse makes it.
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
    return;
  }
  if (f.repeated) {
    const list = (out[f.json] ??= []) as unknown[];
    if (wire === WireType.Bytes && isPackable(f.type)) {
      // Packed repeated scalars: gogo does not write them for proto2, but a decoder must accept both.
      const span = r.bytes();
      const packed = new Reader(r.buf, span.start, span.end);
      while (!packed.done) list.push(readValue(f, scalarWire(f.type), packed, `${path}[${list.length}]`).value);
      return;
    }
    list.push(readValue(f, wire, r, `${path}[${list.length}]`).value);
    return;
  }
  const { value, zero } = readValue(f, wire, r, path);
  if (f.json === '') {
    Object.assign(out, value);
    return;
  }
  if (zero && !f.keepZero) {
    delete out[f.json]; // a later zero occurrence of a field overrides an earlier one, as in proto
    return;
  }
  if (value === undefined) { delete out[f.json]; return; }
  out[f.json] = value;
}

function readMapEntry(f: FieldDescriptor, r: Reader, path: string): [string, unknown] {
  let key = '';
  let value: unknown;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire(wire, WireType.Bytes, f);
      const s = r.bytes();
      key = r.buf.toString('utf8', s.start, s.end);
    } else if (field === 2) {
      value = readValue(f, wire, r, `${path}[${JSON.stringify(key)}]`).value;
    } else {
      r.skip(wire);
    }
  }
  // An absent value is the type's zero value, as upstream's generated code leaves it.
  if (value === undefined) value = f.type === 'resource.Quantity' ? '0' : isScalar(f.type) ? zeroOf(f.type) : {};
  return [key, value];
}

const zeroOf = (type: string): unknown => (type === 'bool' ? false : type === 'string' || type === 'bytes' ? '' : 0);

const isPackable = (type: string): boolean => type === 'int32' || type === 'int64' || type === 'bool' || type === 'double';

const scalarWire = (type: string): number => (type === 'double' ? WireType.Fixed64 : isPackable(type) ? WireType.Varint : WireType.Bytes);

function expectWire(wire: number, expected: number, f: FieldDescriptor): void {
  if (wire !== expected) throw new WireError(`field ${f.number} has wire type ${wire}, expected ${expected} for ${f.map ? `map<${f.type}>` : f.type}`);
}

/** One value of a field's type; `zero` says whether upstream's omitempty would drop it. */
function readValue(f: FieldDescriptor, wire: number, r: Reader, path: string): { value: unknown; zero: boolean } {
  const type = f.type;
  if (isScalar(type)) {
    expectWire(wire, scalarWire(type), f);
    switch (type) {
      case 'int32': { const v = toInt32(r.varint()); return { value: v, zero: v === 0 }; }
      case 'int64': { const v = toInt64(r.varint()); return { value: v, zero: v === 0 }; }
      case 'bool': { const v = r.varint() !== 0; return { value: v, zero: !v }; }
      case 'double': { const v = r.fixed64().readDoubleLE(0); return { value: v, zero: v === 0 }; }
      case 'string': { const s = r.bytes(); const v = r.buf.toString('utf8', s.start, s.end); return { value: v, zero: v === '' }; }
      case 'bytes': { const s = r.bytes(); return { value: r.buf.toString('base64', s.start, s.end), zero: s.end === s.start }; }
    }
  }
  expectWire(wire, WireType.Bytes, f);
  const span = r.bytes();
  const inner = new Reader(r.buf, span.start, span.end);
  switch (type) {
    case 'meta/v1.Time': return readTime(inner, false);
    case 'meta/v1.MicroTime': return readTime(inner, true);
    case 'resource.Quantity': {
      const v = readStringField(inner, 1);
      return { value: v === '' ? '0' : v, zero: v === '' || v === '0' };
    }
    case 'intstr.IntOrString': return readIntOrString(inner);
    case 'runtime.RawExtension': return readRaw(inner, 1, path);
    case 'meta/v1.FieldsV1': return readRaw(inner, 1, path);
    case 'strings': {
      const items = readRepeatedStrings(inner, 1);
      return { value: items, zero: items.length === 0 };
    }
  }
  const value = decodeMessage(type, inner, path);
  return { value, zero: Object.keys(value).length === 0 };
}

/** ExtraValue and its like: `repeated string items = 1`, which JSON writes as a bare array. */
function readRepeatedStrings(r: Reader, wanted: number): string[] {
  const items: string[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === wanted && wire === WireType.Bytes) {
      const s = r.bytes();
      items.push(r.buf.toString('utf8', s.start, s.end));
    } else {
      r.skip(wire);
    }
  }
  return items;
}

function readStringField(r: Reader, wanted: number): string {
  let value = '';
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === wanted && wire === WireType.Bytes) {
      const s = r.bytes();
      value = r.buf.toString('utf8', s.start, s.end);
    } else {
      r.skip(wire);
    }
  }
  return value;
}

/**
 * metav1.Time and MicroTime travel as {seconds = 1, nanos = 2}. Upstream writes a
 * zero time as an empty message (not as seconds 0, which is 1970) and its JSON
 * has null for it, so an empty message is dropped.
 */
function readTime(r: Reader, micro: boolean): { value: unknown; zero: boolean } {
  if (r.done) return { value: undefined, zero: true };
  let seconds = 0;
  let nanos = 0;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.Varint) seconds = toInt64(r.varint());
    else if (field === 2 && wire === WireType.Varint) nanos = toInt32(r.varint());
    else r.skip(wire);
  }
  if (nanos < 0 || nanos > 999_999_999) throw new WireError(`timestamp nanos ${nanos} out of range`);
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 0 || date.getUTCFullYear() > 9999) {
    throw new WireError(`timestamp ${seconds}s out of range`);
  }
  // RFC 3339 in UTC: whole seconds for Time, always six fractional digits for MicroTime.
  const base = date.toISOString().slice(0, 19);
  const value = micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
  return { value, zero: false };
}

/** intstr.IntOrString: {type = 1 (0 int, 1 string), intVal = 2, strVal = 3} → a number or a string. */
function readIntOrString(r: Reader): { value: unknown; zero: boolean } {
  let type = 0;
  let intVal = 0;
  let strVal = '';
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.Varint) type = toInt64(r.varint());
    else if (field === 2 && wire === WireType.Varint) intVal = toInt32(r.varint());
    else if (field === 3 && wire === WireType.Bytes) { const s = r.bytes(); strVal = r.buf.toString('utf8', s.start, s.end); }
    else r.skip(wire);
  }
  if (type === 1) return { value: strVal, zero: strVal === '' };
  if (type !== 0) throw new WireError(`IntOrString type ${type} is neither 0 (int) nor 1 (string)`);
  return { value: intVal, zero: intVal === 0 };
}

/**
 * RawExtension and FieldsV1 carry their content as raw bytes: JSON, or (for a
 * RawExtension holding an object a protobuf client encoded) another envelope.
 */
function readRaw(r: Reader, wanted: number, path: string): { value: unknown; zero: boolean } {
  let raw: Buffer | undefined;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === wanted && wire === WireType.Bytes) { const s = r.bytes(); raw = r.buf.subarray(s.start, s.end); }
    else r.skip(wire);
  }
  if (!raw || raw.length === 0) return { value: undefined, zero: true };
  if (raw.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) return { value: decodeProtobufObject(raw), zero: false };
  try {
    return { value: JSON.parse(raw.toString('utf8')) as unknown, zero: false };
  } catch {
    throw new WireError(`raw content at ${path} is neither JSON nor a protobuf object`);
  }
}

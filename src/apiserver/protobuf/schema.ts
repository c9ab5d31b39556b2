import { KINDS, MESSAGES } from './descriptors.generated.js';

export type ScalarType = 'string' | 'int32' | 'int64' | 'bool' | 'bytes' | 'double';

export interface FieldDescriptor {
  number: number;
  /** JSON name; '' for an embedded struct whose fields JSON inlines into the parent. */
  json: string;
  /** A scalar type or a message name (see descriptors.generated.ts). */
  type: string;
  repeated: boolean;
  /** map<string, type>, sent as repeated {key = 1, value = 2} entries. */
  map: boolean;
  /**
   * Upstream's JSON keeps this field's zero value: the Go field is a pointer (set
   * means explicitly set) or its JSON tag lacks omitempty.
   */
  keepZero: boolean;
  pointer: boolean;
}

export type MessageDescriptor = ReadonlyMap<number, FieldDescriptor>;

const SCALARS = new Set<string>(['string', 'int32', 'int64', 'bool', 'bytes', 'double']);
export const isScalar = (type: string): type is ScalarType => SCALARS.has(type);

const parsed = new Map<string, MessageDescriptor>();

/** The fields of a message from the generated table, parsed once on first use. */
export function messageDescriptor(name: string): MessageDescriptor | undefined {
  const hit = parsed.get(name);
  if (hit) return hit;
  const text = MESSAGES[name];
  if (text === undefined) return undefined;
  const fields = new Map<number, FieldDescriptor>();
  for (const entry of text.split('; ')) {
    const [num, json, spec] = entry.split(' ');
    let type = spec;
    const pointer = type.startsWith('*');
    if (pointer) type = type.slice(1);
    const repeated = type.startsWith('[]');
    if (repeated) type = type.slice(2);
    const required = type.endsWith('!');
    if (required) type = type.slice(0, -1);
    const map = type.startsWith('map<');
    if (map) type = type.slice(4, -1);
    fields.set(Number(num), { number: Number(num), json: json === '...' ? '' : json, type, repeated, map, pointer, keepZero: pointer || required });
  }
  parsed.set(name, fields);
  return fields;
}

/** The message of a top-level kind; DeleteOptions is accepted under any apiVersion, as every group registers it. */
export function rootMessage(apiVersion: string, kind: string): string | undefined {
  return KINDS[`${apiVersion}/${kind}`] ?? (kind === 'DeleteOptions' ? KINDS['/DeleteOptions'] : undefined);
}

export function knownKinds(): string[] {
  return Object.keys(KINDS);
}

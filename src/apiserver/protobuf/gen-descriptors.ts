/**
 * Writes `descriptors.generated.ts` — the protobuf field table the decoder uses —
 * from the reflect type information inside a real kubectl binary.
 *
 * Why a binary and not upstream's generated.proto: the .proto files give field
 * numbers and names, but not which Go fields are pointers, nor which JSON tags
 * say `omitempty`; both decide what upstream's JSON of a decoded object holds.
 * A Go binary keeps, for every API struct that reflection may touch, each field's
 * name, its complete struct tag (`json:"…" protobuf:"varint,3,opt,name=…"`) and
 * its Go type, so one kubectl build gives all three facts for exactly the API
 * version that kubectl speaks.
 *
 *   node --import tsx src/apiserver/protobuf/gen-descriptors.ts [path/to/kubectl-1.32]
 *
 * Reads Go 1.21–1.23 runtime layouts (abi.Type, the pre-Swiss map type) of an
 * ELF x86-64/arm64 binary; it stops with an error rather than guess on others.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Roots: (apiVersion, kind) → Go type. DeleteOptions is keyed by kind alone (every group version registers it). */
const ROOTS: ReadonlyArray<readonly [string, string, string]> = [
  ['v1', 'Namespace', 'k8s.io/api/core/v1.Namespace'],
  ['v1', 'Pod', 'k8s.io/api/core/v1.Pod'],
  ['v1', 'Service', 'k8s.io/api/core/v1.Service'],
  ['v1', 'Endpoints', 'k8s.io/api/core/v1.Endpoints'],
  ['v1', 'ConfigMap', 'k8s.io/api/core/v1.ConfigMap'],
  ['v1', 'Secret', 'k8s.io/api/core/v1.Secret'],
  ['v1', 'Node', 'k8s.io/api/core/v1.Node'],
  ['v1', 'Event', 'k8s.io/api/core/v1.Event'],
  ['v1', 'ReplicationController', 'k8s.io/api/core/v1.ReplicationController'],
  ['v1', 'ServiceAccount', 'k8s.io/api/core/v1.ServiceAccount'],
  ['v1', 'Binding', 'k8s.io/api/core/v1.Binding'],
  ['apps/v1', 'Deployment', 'k8s.io/api/apps/v1.Deployment'],
  ['apps/v1', 'ReplicaSet', 'k8s.io/api/apps/v1.ReplicaSet'],
  ['autoscaling/v1', 'HorizontalPodAutoscaler', 'k8s.io/api/autoscaling/v1.HorizontalPodAutoscaler'],
  ['autoscaling/v1', 'Scale', 'k8s.io/api/autoscaling/v1.Scale'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler', 'k8s.io/api/autoscaling/v2.HorizontalPodAutoscaler'],
  ['discovery.k8s.io/v1', 'EndpointSlice', 'k8s.io/api/discovery/v1.EndpointSlice'],
  ['coordination.k8s.io/v1', 'Lease', 'k8s.io/api/coordination/v1.Lease'],
  ['scheduling.k8s.io/v1', 'PriorityClass', 'k8s.io/api/scheduling/v1.PriorityClass'],
  ['policy/v1', 'Eviction', 'k8s.io/api/policy/v1.Eviction'],
  ['policy/v1', 'PodDisruptionBudget', 'k8s.io/api/policy/v1.PodDisruptionBudget'],
  ['authentication.k8s.io/v1', 'SelfSubjectReview', 'k8s.io/api/authentication/v1.SelfSubjectReview'],
  ['authorization.k8s.io/v1', 'SelfSubjectAccessReview', 'k8s.io/api/authorization/v1.SelfSubjectAccessReview'],
  ['authorization.k8s.io/v1', 'SelfSubjectRulesReview', 'k8s.io/api/authorization/v1.SelfSubjectRulesReview'],
  ['*', 'DeleteOptions', 'k8s.io/apimachinery/pkg/apis/meta/v1.DeleteOptions'],
];

/** Types with a hand-written wire form (see decode.ts): the walk stops at them. */
const SPECIAL = new Set(['meta/v1.Time', 'meta/v1.MicroTime', 'meta/v1.FieldsV1',
  'resource.Quantity', 'intstr.IntOrString', 'runtime.RawExtension']);

// reflect.Kind numbers.
const K = { Bool: 1, Int32: 5, Int64: 6, Uint8: 8, Float64: 14, Map: 21, Ptr: 22, Slice: 23, String: 24, Struct: 25 } as const;

interface Section { name: string; type: number; addr: number; off: number; size: number }

class GoBinary {
  private readonly sections: Section[] = [];
  readonly typesBase: number;
  readonly typelinks: number[] = [];

  constructor(private readonly b: Buffer) {
    if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error('not a little-endian ELF64 file');
    const shoff = Number(b.readBigUInt64LE(0x28));
    const shnum = b.readUInt16LE(0x3c);
    const shstrndx = b.readUInt16LE(0x3e);
    const raw: Array<Omit<Section, 'name'> & { nameOff: number }> = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * 64;
      raw.push({ nameOff: b.readUInt32LE(o), type: b.readUInt32LE(o + 4), addr: Number(b.readBigUInt64LE(o + 16)),
        off: Number(b.readBigUInt64LE(o + 24)), size: Number(b.readBigUInt64LE(o + 32)) });
    }
    const strtab = raw[shstrndx].off;
    for (const s of raw) {
      const start = strtab + s.nameOff;
      this.sections.push({ name: b.toString('latin1', start, b.indexOf(0, start)), type: s.type, addr: s.addr, off: s.off, size: s.size });
    }
    const version = this.goVersion();
    const minor = /^go1\.(\d+)/.exec(version)?.[1];
    if (!minor || Number(minor) < 21 || Number(minor) > 23) throw new Error(`built with ${version || 'an unknown Go'}; only the Go 1.21–1.23 type layouts are known here`);
    const rodata = this.section('.rodata');
    const typelink = this.section('.typelink');
    // The Go linker puts runtime.types (the base of every NameOff/TypeOff) at the start of .rodata.
    this.typesBase = rodata.addr;
    for (let i = 0; i < typelink.size; i += 4) this.typelinks.push(this.typesBase + b.readInt32LE(typelink.off + i));
  }

  /** The Go version from .go.buildinfo (Go 1.18+ layout: inline varint-prefixed strings from offset 32). */
  private goVersion(): string {
    const info = this.section('.go.buildinfo');
    if (this.b.toString('latin1', info.off, info.off + 14) !== '\xff Go buildinf:' || !(this.b[info.off + 15] & 2)) return '';
    let o = info.off + 32;
    let len = 0;
    let shift = 0;
    let c: number;
    do { c = this.b[o++]; len += (c & 0x7f) * 2 ** shift; shift += 7; } while (c & 0x80);
    return this.b.toString('utf8', o, o + len);
  }

  private section(name: string): Section {
    const s = this.sections.find((x) => x.name === name);
    if (!s) throw new Error(`no ${name} section: not a Go binary?`);
    return s;
  }

  private offset(addr: number): number {
    for (const s of this.sections) {
      if (s.type !== 8 /* NOBITS */ && s.addr !== 0 && addr >= s.addr && addr < s.addr + s.size) return s.off + addr - s.addr;
    }
    throw new Error(`address 0x${addr.toString(16)} is in no section`);
  }

  u8(addr: number): number { return this.b[this.offset(addr)]; }
  i32(addr: number): number { return this.b.readInt32LE(this.offset(addr)); }
  ptr(addr: number): number { return Number(this.b.readBigUInt64LE(this.offset(addr))); }

  /** abi.Name: flags byte, varint length, bytes, then (if flags&2) varint length and tag. */
  name(addr: number): { name: string; tag: string; embedded: boolean } {
    let o = this.offset(addr);
    const flags = this.b[o++];
    const read = (): string => {
      let len = 0;
      let shift = 0;
      let c: number;
      do { c = this.b[o++]; len += (c & 0x7f) * 2 ** shift; shift += 7; } while (c & 0x80);
      const s = this.b.toString('utf8', o, o + len);
      o += len;
      return s;
    };
    const name = read();
    const tag = flags & 2 ? read() : '';
    return { name, tag, embedded: (flags & 8) !== 0 };
  }
}

interface GoType { addr: number; kind: number; str: string; pkgPath: string }

class TypeReader {
  private readonly cache = new Map<number, GoType>();
  constructor(private readonly bin: GoBinary) {}

  type(addr: number): GoType {
    const hit = this.cache.get(addr);
    if (hit) return hit;
    const tflag = this.bin.u8(addr + 20);
    const kind = this.bin.u8(addr + 23) & 0x1f;
    let str = this.bin.name(this.bin.typesBase + this.bin.i32(addr + 40)).name;
    if (tflag & 2) str = str.slice(1); // TFlagExtraStar
    let pkgPath = '';
    // TFlagUncommon: abi.UncommonType follows the kind-specific part, whose size we know for these kinds only.
    const size = kind === K.Struct ? 80 : kind === K.Map ? 88 : kind === K.Ptr || kind === K.Slice ? 56 : kind <= K.Float64 || kind === K.String ? 48 : 0;
    if (tflag & 1 && size > 0) pkgPath = this.bin.name(this.bin.typesBase + this.bin.i32(addr + size)).name;
    const t = { addr, kind, str, pkgPath };
    this.cache.set(addr, t);
    return t;
  }

  elem(t: GoType): GoType { return this.type(this.bin.ptr(t.addr + 48)); }
  mapKey(t: GoType): GoType { return this.type(this.bin.ptr(t.addr + 48)); }
  mapValue(t: GoType): GoType { return this.type(this.bin.ptr(t.addr + 56)); }

  fields(t: GoType): Array<{ name: string; tag: string; embedded: boolean; type: GoType }> {
    const base = this.bin.ptr(t.addr + 56);
    const len = this.bin.ptr(t.addr + 64);
    const out = [];
    for (let i = 0; i < len; i++) {
      const f = base + i * 24;
      out.push({ ...this.bin.name(this.bin.ptr(f)), type: this.type(this.bin.ptr(f + 8)) });
    }
    return out;
  }

  /** Every named struct reachable from the typelinks, by "pkg/path.Name". */
  namedStructs(): Map<string, GoType> {
    const out = new Map<string, GoType>();
    const seen = new Set<number>();
    const visit = (t: GoType, depth: number): void => {
      if (seen.has(t.addr) || depth > 3) return;
      seen.add(t.addr);
      if (t.kind === K.Struct && t.pkgPath) out.set(`${t.pkgPath}.${t.str.slice(t.str.lastIndexOf('.') + 1)}`, t);
      if (t.kind === K.Ptr || t.kind === K.Slice) visit(this.elem(t), depth + 1);
    };
    for (const addr of this.bin.typelinks) visit(this.type(addr), 0);
    return out;
  }
}

function shortPackage(pkgPath: string): string {
  const known: Record<string, string> = {
    'k8s.io/apimachinery/pkg/apis/meta/v1': 'meta/v1',
    'k8s.io/apimachinery/pkg/api/resource': 'resource',
    'k8s.io/apimachinery/pkg/util/intstr': 'intstr',
    'k8s.io/apimachinery/pkg/runtime': 'runtime',
  };
  if (known[pkgPath]) return known[pkgPath];
  if (pkgPath.startsWith('k8s.io/api/')) return pkgPath.slice('k8s.io/api/'.length);
  throw new Error(`unexpected package ${pkgPath}`);
}

function tagValue(tag: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}:"([^"]*)"`).exec(tag);
  return m?.[1];
}

export function generate(binaryPath: string): string {
  const binary = readFileSync(binaryPath);
  const reader = new TypeReader(new GoBinary(binary));
  const structs = reader.namedStructs();
  const messageName = (t: GoType): string => `${shortPackage(t.pkgPath)}.${t.str.slice(t.str.lastIndexOf('.') + 1)}`;
  const messages = new Map<string, string[]>();
  const queue: GoType[] = [];
  const enqueue = (t: GoType): string => {
    const name = messageName(t);
    if (!SPECIAL.has(name) && !messages.has(name)) { messages.set(name, []); queue.push(t); }
    return name;
  };

  const scalar = (t: GoType, where: string): string => {
    switch (t.kind) {
      case K.String: return 'string';
      case K.Bool: return 'bool';
      case K.Int32: return 'int32';
      case K.Int64: return 'int64';
      case K.Float64: return 'double';
      case K.Struct: return enqueue(t);
      case K.Slice:
        if (reader.elem(t).kind === K.Uint8) return 'bytes';
        // A named []string inside a map (UserInfo.extra's ExtraValue) is a message of one repeated string.
        if (reader.elem(t).kind === K.String) return 'strings';
    }
    throw new Error(`${where}: unsupported Go kind ${t.kind} (${t.str})`);
  };

  const kinds: string[] = [];
  for (const [apiVersion, kind, goName] of ROOTS) {
    const t = structs.get(goName);
    if (!t) throw new Error(`${goName} not found in the binary`);
    kinds.push(`  '${apiVersion === '*' ? '' : apiVersion}/${kind}': '${enqueue(t)}',`);
  }

  for (let t = queue.shift(); t; t = queue.shift()) {
    const msg = messageName(t);
    const entries: Array<[number, string]> = [];
    for (const f of reader.fields(t)) {
      const where = `${msg}.${f.name}`;
      const pb = tagValue(f.tag, 'protobuf');
      if (pb === undefined) continue; // TypeMeta: carried by the runtime.Unknown envelope, not by raw
      const [wire, num, label, ...opts] = pb.split(',');
      const protoName = opts.find((o) => o.startsWith('name='))?.slice(5) ?? '';
      const [jsonName = '', ...jsonOpts] = (tagValue(f.tag, 'json') ?? protoName).split(',');
      const inline = jsonName === '' && jsonOpts.includes('inline');
      if (jsonName === '-' || (jsonName === '' && !inline)) throw new Error(`${where}: no JSON name in ${f.tag}`);

      let t2 = f.type;
      let prefix = '';
      let type: string;
      if (t2.kind === K.Ptr) { prefix = '*'; t2 = reader.elem(t2); }
      if (t2.kind === K.Slice && reader.elem(t2).kind !== K.Uint8) {
        prefix += '[]';
        t2 = reader.elem(t2);
        if (t2.kind === K.Ptr) t2 = reader.elem(t2);
      }
      if (t2.kind === K.Map) {
        if (reader.mapKey(t2).kind !== K.String) throw new Error(`${where}: map key is not a string`);
        type = `map<${scalar(reader.mapValue(t2), where)}>`;
      } else {
        type = scalar(t2, where);
      }
      const expectWire = type === 'bool' || type === 'int32' || type === 'int64' ? 'varint' : type === 'double' ? 'fixed64' : 'bytes';
      // Again the Go type decides (go-to-protobuf writes the .proto from it): PriorityClass.value's tag says "bytes".
      if (wire !== expectWire) process.stderr.write(`note: ${where}: tag says ${wire}, Go type ${type} is ${expectWire}\n`);
      // The Go type decides: EndpointSlice.addressType, a plain string, carries a stray "rep" in its tag.
      if ((label === 'rep') !== (prefix.includes('[]') || type.startsWith('map<'))) process.stderr.write(`note: ${where}: tag says ${label}, Go type is ${prefix}${type}\n`);
      const required = !inline && !jsonOpts.includes('omitempty') ? '!' : '';
      entries.push([Number(num), `${num} ${inline ? '...' : jsonName} ${prefix}${type}${required}`]);
    }
    if (entries.length === 0) throw new Error(`${msg} has no protobuf fields and no special form`);
    entries.sort((a, b) => a[0] - b[0]);
    messages.get(msg)!.push(...entries.map(([, s]) => s));
  }

  const body = [...messages.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([name, fields]) => `  '${name}': '${fields.join('; ')}',`);
  return `// Generated by gen-descriptors.ts from ${binaryPath.split('/').pop()}'s reflect type data. Do not edit by hand.
// sha256 of that binary: ${createHash('sha256').update(binary).digest('hex')}
//
// Each field is "<number> <json name> <type>": a "*" prefix marks a Go pointer (an explicit zero
// is kept), "[]" a repeated field, a "!" suffix a JSON tag without omitempty (a zero is kept), and
// "..." an embedded struct whose fields JSON inlines. map<V> has string keys. meta/v1.Time,
// meta/v1.MicroTime, meta/v1.FieldsV1, resource.Quantity, intstr.IntOrString,
// runtime.RawExtension and strings (a message of one repeated string) have hand-written wire forms in decode.ts.

/** "apiVersion/Kind" → message; "/DeleteOptions" matches any apiVersion. */
export const KINDS: Readonly<Record<string, string>> = {
${kinds.join('\n')}
};

export const MESSAGES: Readonly<Record<string, string>> = {
${body.join('\n')}
};
`;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const binary = process.argv[2] ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';
  const out = join(import.meta.dirname, 'descriptors.generated.ts');
  writeFileSync(out, generate(binary));
  process.stdout.write(`wrote ${out}\n`);
}

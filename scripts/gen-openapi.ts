/**
 * Build-time generator of generated/openapi-definitions.json: every type of
 * the `kubernetes-types` package (itself generated from upstream's OpenAPI
 * spec, with upstream's descriptions as JSDoc) turned back into an OpenAPI
 * schema under upstream's definition name, plus the patch metadata that the
 * typed package drops (src/apiserver/openapi/patch-metadata.ts).
 *
 * Only the syntax tree is read (no type checker): the package is plain
 * interfaces, aliases and imports, and parsing alone keeps this at well under
 * a second.
 *
 *   node --import tsx scripts/gen-openapi.ts [--out FILE]
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { JsonSchema } from '../src/apiserver/openapi/schema-lookup.js';
import { applyPatchMetadata } from '../src/apiserver/openapi/patch-metadata.js';

const REF_PREFIX = '#/components/schemas/';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const typesDir = join(repoRoot, 'node_modules', 'kubernetes-types');

/** Package path of a .d.ts (without extension) → upstream's definition prefix. */
function packagePrefix(modulePath: string): string {
  const special: Record<string, string> = {
    'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
    runtime: 'io.k8s.apimachinery.pkg.runtime',
    version: 'io.k8s.apimachinery.pkg.version',
  };
  if (special[modulePath]) return special[modulePath];
  const [group, version] = modulePath.split('/');
  if (!group || !version) throw new Error(`gen-openapi: unexpected module ${modulePath}`);
  if (group === 'meta') return `io.k8s.apimachinery.pkg.apis.meta.${version}`;
  if (group === 'apiextensions') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}`;
  return `io.k8s.api.${group}.${version}`;
}

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/**
 * Fields that upstream declares int64 (Go `int64`), by field name. The typed
 * package says only `number`; everything else numeric is int32 upstream.
 */
const INT64_FIELDS = new Set([
  'generation', 'observedGeneration', 'resourceVersion',
  'activeDeadlineSeconds', 'terminationGracePeriodSeconds', 'deletionGracePeriodSeconds',
  'gracePeriodSeconds', 'tolerationSeconds', 'expirationSeconds', 'startingDeadlineSeconds',
  'remainingItemCount', 'runAsUser', 'runAsGroup', 'fsGroup', 'supplementalGroups',
  'sizeBytes', 'revision', 'seconds',
  'maxLength', 'minLength', 'maxItems', 'minItems', 'maxProperties', 'minProperties',
]);
/** Go float64 fields (JSONSchemaProps bounds). */
const DOUBLE_FIELDS = new Set(['maximum', 'minimum', 'multipleOf']);
/** `[]byte` fields, which upstream publishes as base64 strings. */
const BYTE_FIELDS: Record<string, string[]> = {
  'io.k8s.api.core.v1.Secret': ['data'],
  'io.k8s.api.core.v1.ConfigMap': ['binaryData'],
  'io.k8s.api.certificates.v1.CertificateSigningRequestSpec': ['request'],
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': ['certificate'],
  'io.k8s.api.admissionregistration.v1.WebhookClientConfig': ['caBundle'],
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookClientConfig': ['caBundle'],
};

/** Schemas of the aliased and opaque types, as upstream publishes them. */
function builtinSchema(defName: string, description: string | undefined): JsonSchema | undefined {
  const d = description ? { description } : {};
  switch (defName) {
    case 'io.k8s.apimachinery.pkg.api.resource.Quantity':
      // v3 documents serve upstream's oneOf(string, number); see documents.ts
      return { ...d, type: 'string' };
    case 'io.k8s.apimachinery.pkg.apis.meta.v1.Time':
    case 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime':
      return { ...d, type: 'string', format: 'date-time' };
    case 'io.k8s.apimachinery.pkg.runtime.RawExtension':
      return { ...d, type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    case 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1':
    case 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch':
      return { ...d, type: 'object' };
    case 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON':
    case 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray':
    case 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool':
    case 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray':
      return { ...d, 'x-kubernetes-preserve-unknown-fields': true };
    default:
      return undefined;
  }
}

const INT_OR_STRING_SCHEMA: JsonSchema = {
  description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  type: 'string',
  format: 'int-or-string',
  'x-kubernetes-int-or-string': true,
};

/** JSONSchemaProps's `x-kubernetes-*` fields, which the typed package cannot spell. */
function jsonSchemaPropsExtensions(): Record<string, JsonSchema> {
  const b = (description: string): JsonSchema => ({ description, type: 'boolean' });
  return {
    'x-kubernetes-embedded-resource': b('x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes runtime.Object, with TypeMeta and ObjectMeta. The type must be object. It is allowed to further restrict the embedded object. kind, apiVersion and metadata are validated automatically. x-kubernetes-preserve-unknown-fields is allowed to be true, but does not have to be if the object is fully specified (up to kind, apiVersion, metadata).'),
    'x-kubernetes-int-or-string': b('x-kubernetes-int-or-string specifies that this value is either an integer or a string. If this is true, an empty type is allowed and type as child of anyOf is permitted if following one of the following patterns:\n\n1) anyOf:\n   - type: integer\n   - type: string\n2) allOf:\n   - anyOf:\n     - type: integer\n     - type: string\n   - ... zero or more'),
    'x-kubernetes-list-map-keys': {
      description: 'x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` by specifying the keys used as the index of the map.\n\nThis tag MUST only be used on lists that have the "x-kubernetes-list-type" extension set to "map". Also, the values specified for this attribute must be a scalar typed field of the child structure (no nesting is supported).\n\nThe properties specified must either be required or have a default value, to ensure those properties are present for all list items.',
      type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic',
    },
    'x-kubernetes-list-type': { description: 'x-kubernetes-list-type annotates an array to further describe its topology. This extension must only be used on lists and may have 3 possible values:\n\n1) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic lists will be entirely replaced when updated. This extension\n     may be used on any type of list (struct, scalar, ...).\n2) `set`:\n     Sets are lists that must not have multiple items with the same value. Each\n     value must be a scalar, an object with x-kubernetes-map-type `atomic` or an\n     array with x-kubernetes-list-type `atomic`.\n3) `map`:\n     These lists are like maps in that their elements have a non-index key\n     used to identify them. Order is preserved upon merge. The map tag\n     must only be used on a list with elements of type object.\nDefaults to atomic for arrays.', type: 'string' },
    'x-kubernetes-map-type': { description: 'x-kubernetes-map-type annotates an object to further describe its topology. This extension must only be used when type is object and may have 2 possible values:\n\n1) `granular`:\n     These maps are actual maps (key-value pairs) and each fields are independent\n     from each other (they can each be manipulated by separate actors). This is\n     the default behaviour for all maps.\n2) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic maps will be entirely replaced when updated.', type: 'string' },
    'x-kubernetes-preserve-unknown-fields': b('x-kubernetes-preserve-unknown-fields stops the API server decoding step from pruning fields which are not specified in the validation schema. This affects fields recursively, but switches back to normal pruning behaviour if nested properties or additionalProperties are specified in the schema. This can either be true or undefined. False is forbidden.'),
    'x-kubernetes-validations': {
      description: 'x-kubernetes-validations describes a list of validation rules written in the CEL expression language.',
      type: 'array',
      items: { $ref: `${REF_PREFIX}io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule` },
      'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['rule'],
      'x-kubernetes-patch-merge-key': 'rule', 'x-kubernetes-patch-strategy': 'merge',
    },
  };
}

/** The JSDoc text directly before `node`, with the comment markup removed. */
function docComment(node: ts.Node, text: string): string | undefined {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart());
  const last = ranges?.filter((r) => text.startsWith('/**', r.pos)).pop();
  if (!last) return undefined;
  const raw = text.slice(last.pos + 3, last.end - 2);
  const lines = raw.split('\n').map((l) => l.replace(/^\s*\* ?/, '').replace(/\s+$/, ''));
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  const out = lines.join('\n').trim();
  return out || undefined;
}

interface ModuleInfo {
  prefix: string;
  source: ts.SourceFile;
  /** local name → definition name, for imported and own declarations */
  names: Map<string, string>;
}

function listDts(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listDts(p));
    else if (entry.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

function loadModules(): Map<string, ModuleInfo> {
  const modules = new Map<string, ModuleInfo>();
  for (const file of listDts(typesDir)) {
    const modulePath = relative(typesDir, file).split(sep).join('/').replace(/\.d\.ts$/, '');
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    modules.set(modulePath, { prefix: packagePrefix(modulePath), source, names: new Map() });
  }
  for (const [modulePath, mod] of modules) {
    for (const stmt of mod.source.statements) {
      if ((ts.isInterfaceDeclaration(stmt) || ts.isTypeAliasDeclaration(stmt))) {
        mod.names.set(stmt.name.text, `${mod.prefix}.${stmt.name.text}`);
      } else if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier)) {
        const target = join(dirname(modulePath), stmt.moduleSpecifier.text).split(sep).join('/');
        const targetMod = modules.get(target);
        if (!targetMod) throw new Error(`gen-openapi: ${modulePath} imports unknown ${target}`);
        const bindings = stmt.importClause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) {
          for (const el of bindings.elements) {
            const imported = (el.propertyName ?? el.name).text;
            mod.names.set(el.name.text, `${targetMod.prefix}.${imported}`);
          }
        }
      }
    }
  }
  return modules;
}

interface Ctx { mod: ModuleInfo; defName: string; field: string }

function refTo(defName: string): JsonSchema {
  return { $ref: `${REF_PREFIX}${defName}` };
}

function numberSchema(field: string): JsonSchema {
  if (DOUBLE_FIELDS.has(field)) return { type: 'number', format: 'double' };
  return { type: 'integer', format: INT64_FIELDS.has(field) ? 'int64' : 'int32' };
}

function typeToSchema(node: ts.TypeNode, ctx: Ctx): JsonSchema {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword: return { type: 'string' };
    case ts.SyntaxKind.BooleanKeyword: return { type: 'boolean' };
    case ts.SyntaxKind.NumberKeyword: return numberSchema(ctx.field);
    default: break;
  }
  if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) return { type: 'string' };
  if (ts.isArrayTypeNode(node)) return { type: 'array', items: typeToSchema(node.elementType, ctx) };
  if (ts.isUnionTypeNode(node)) {
    const kinds = node.types.map((t) => t.kind).sort();
    if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
      return refTo(INT_OR_STRING);
    }
    // JSONSchemaPropsOr*: an open value; no structure to check
    return { 'x-kubernetes-preserve-unknown-fields': true };
  }
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find(ts.isIndexSignatureDeclaration);
    if (index && node.members.length === 1) {
      return { type: 'object', additionalProperties: typeToSchema(index.type, ctx) };
    }
    throw new Error(`gen-openapi: unsupported type literal in ${ctx.defName}.${ctx.field}`);
  }
  if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
    const name = node.typeName.text;
    if (name === 'Array' && node.typeArguments?.length === 1) {
      return { type: 'array', items: typeToSchema(node.typeArguments[0]!, ctx) };
    }
    const target = ctx.mod.names.get(name);
    if (!target) throw new Error(`gen-openapi: unknown type ${name} in ${ctx.defName}.${ctx.field}`);
    return refTo(target);
  }
  throw new Error(`gen-openapi: unsupported type ${ts.SyntaxKind[node.kind]} in ${ctx.defName}.${ctx.field}`);
}

function propertyName(name: ts.PropertyName): string {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  throw new Error(`gen-openapi: unsupported property name ${ts.SyntaxKind[name.kind]}`);
}

function gvkOf(apiVersion: string, kind: string): { group: string; version: string; kind: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', kind, version: apiVersion }
    : { group: apiVersion.slice(0, slash), kind, version: apiVersion.slice(slash + 1) };
}

function literalOf(member: ts.PropertySignature | undefined): string | undefined {
  const t = member?.type;
  return t && ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined;
}

function interfaceSchema(decl: ts.InterfaceDeclaration, mod: ModuleInfo, defName: string): JsonSchema {
  const text = mod.source.text;
  const schema: JsonSchema = {};
  const description = docComment(decl, text);
  if (description) schema.description = description;
  const builtin = builtinSchema(defName, description);
  if (builtin) return builtin;

  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const members = decl.members.filter(ts.isPropertySignature);
  for (const member of members) {
    const field = propertyName(member.name);
    if (!member.type) throw new Error(`gen-openapi: untyped ${defName}.${field}`);
    const inner = typeToSchema(member.type, { mod, defName, field });
    const fieldDoc = docComment(member, text);
    // Upstream wraps a described reference in allOf so that siblings
    // (description) stay valid OpenAPI 3.0.
    const prop: JsonSchema = inner.$ref && fieldDoc ? { allOf: [inner] } : inner;
    if (fieldDoc) prop.description = fieldDoc;
    if (BYTE_FIELDS[defName]?.includes(field)) {
      const target = prop.additionalProperties;
      if (target && typeof target === 'object') target.format = 'byte';
      else prop.format = 'byte';
    }
    properties[field] = prop;
    if (!member.questionToken) required.push(field);
  }
  if (defName === 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps') {
    Object.assign(properties, jsonSchemaPropsExtensions());
  }
  if (Object.keys(properties).length) schema.properties = properties;
  if (required.length) schema.required = required;
  schema.type = 'object';

  const byName = new Map(members.map((m) => [propertyName(m.name), m]));
  const apiVersion = literalOf(byName.get('apiVersion'));
  const kind = literalOf(byName.get('kind'));
  if (apiVersion && kind) schema['x-kubernetes-group-version-kind'] = [gvkOf(apiVersion, kind)];
  return schema;
}

/** Stable key order (upstream's documents are sorted), so the output diffs well. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

export function generateDefinitions(): Record<string, JsonSchema> {
  const modules = loadModules();
  const definitions: Record<string, JsonSchema> = {};
  const groupVersions = new Map<string, { group: string; version: string }>();

  for (const mod of modules.values()) {
    for (const stmt of mod.source.statements) {
      if (ts.isInterfaceDeclaration(stmt)) {
        const defName = `${mod.prefix}.${stmt.name.text}`;
        const schema = interfaceSchema(stmt, mod, defName);
        for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
          groupVersions.set(`${gvk.group}/${gvk.version}`, { group: gvk.group, version: gvk.version });
        }
        definitions[defName] = schema;
      } else if (ts.isTypeAliasDeclaration(stmt)) {
        const defName = `${mod.prefix}.${stmt.name.text}`;
        const description = docComment(stmt, mod.source.text);
        const schema = builtinSchema(defName, description)
          ?? { ...(description ? { description } : {}), ...typeToSchema(stmt.type, { mod, defName, field: '' }) };
        definitions[defName] = schema;
      }
    }
  }
  definitions[INT_OR_STRING] = INT_OR_STRING_SCHEMA;

  // Kinds that every group version serves, whose apiVersion the typed
  // package leaves open: upstream lists each group version for them.
  const gvs = [...groupVersions.values()].sort((a, b) => `${a.group}/${a.version}`.localeCompare(`${b.group}/${b.version}`));
  for (const kind of ['DeleteOptions', 'WatchEvent']) {
    const def = definitions[`io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`];
    if (def) def['x-kubernetes-group-version-kind'] = gvs.map((gv) => ({ group: gv.group, kind, version: gv.version }));
  }
  const status = definitions['io.k8s.apimachinery.pkg.apis.meta.v1.Status'];
  if (status) status['x-kubernetes-group-version-kind'] = [{ group: '', kind: 'Status', version: 'v1' }];

  const missing = applyPatchMetadata(definitions);
  if (missing.length) throw new Error(`gen-openapi: patch metadata names what the types lack: ${missing.join(', ')}`);

  // Every $ref must land: a dangling one would break kubectl explain.
  const dangling = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (!v || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v)) {
      if (k === '$ref' && typeof child === 'string' && !definitions[child.slice(REF_PREFIX.length)]) dangling.add(child);
      else walk(child);
    }
  };
  walk(definitions);
  if (dangling.size) throw new Error(`gen-openapi: dangling refs: ${[...dangling].join(', ')}`);

  return sortKeys(definitions) as Record<string, JsonSchema>;
}

function main(): void {
  const started = Date.now();
  const outArg = process.argv.indexOf('--out');
  const out = outArg > 0 && process.argv[outArg + 1]
    ? resolve(process.argv[outArg + 1]!)
    : join(repoRoot, 'generated', 'openapi-definitions.json');
  const definitions = generateDefinitions();
  mkdirSync(dirname(out), { recursive: true });
  // Write to a temporary name first: a reader never sees half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(definitions, null, 1)}\n`);
  renameSync(tmp, out);
  console.log(`gen-openapi: ${Object.keys(definitions).length} definitions → ${relative(repoRoot, out)} in ${Date.now() - started} ms`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

/**
 * The OpenAPI definitions of every built-in kind, as generated at build time
 * by scripts/gen-openapi.ts into generated/openapi-definitions.json, loaded
 * once on first use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonSchema, SchemaLookup } from './schema-lookup.js';

export const REF_PREFIX = '#/components/schemas/';
export const DEFINITIONS_FILE = join('generated', 'openapi-definitions.json');

export interface GroupVersionKind { group: string; version: string; kind: string }

/** The directory holding package.json: src/ under tsx and dist/src/ after tsc sit at different depths. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`openapi: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

let loaded: Readonly<Record<string, JsonSchema>> | undefined;
let byGvk: Map<string, string> | undefined;

const gvkKey = (group: string, version: string, kind: string) => `${group}/${version}/${kind}`;

/** All definitions by upstream name (`io.k8s.api.core.v1.Pod`, …). Do not mutate. */
export function definitions(): Readonly<Record<string, JsonSchema>> {
  if (loaded) return loaded;
  const file = join(repoRoot(), DEFINITIONS_FILE);
  if (!existsSync(file)) {
    throw new Error(`openapi: ${file} is missing; generate it with \`node --import tsx scripts/gen-openapi.ts\` (scripts/setup.sh does this on build)`);
  }
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`openapi: ${file} is not a map of definitions`);
  loaded = parsed as Record<string, JsonSchema>;
  return loaded;
}

function gvkIndex(): Map<string, string> {
  if (byGvk) return byGvk;
  const index = new Map<string, string>();
  for (const [name, def] of Object.entries(definitions())) {
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      // meta kinds (DeleteOptions, WatchEvent) list every group version; a kind's own package wins
      if (!index.has(gvkKey(gvk.group, gvk.version, gvk.kind)) || !name.startsWith('io.k8s.apimachinery.')) {
        index.set(gvkKey(gvk.group, gvk.version, gvk.kind), name);
      }
    }
  }
  byGvk = index;
  return index;
}

/** Upstream's definition name of a kind, e.g. ('apps','v1','Deployment') → 'io.k8s.api.apps.v1.Deployment'. */
export function definitionNameForKind(group: string, version: string, kind: string): string | undefined {
  return gvkIndex().get(gvkKey(group, version, kind));
}

/** The definition a `$ref` names, or undefined for a ref outside our definitions. */
export function refName(ref: string): string | undefined {
  if (ref.startsWith(REF_PREFIX)) return ref.slice(REF_PREFIX.length);
  if (ref.startsWith('#/definitions/')) return ref.slice('#/definitions/'.length);
  return undefined;
}

/** Follows `$ref` and a single-element `allOf` (upstream's way to describe a reference) to the schema named. */
export function resolveSchema(schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; hops < 16; hops++) {
    if (current.$ref) {
      const name = refName(current.$ref);
      const target = name ? definitions()[name] : undefined;
      if (!target) return current;
      current = target;
    } else if (current.allOf?.length === 1 && !current.properties && current.allOf[0]) {
      current = current.allOf[0];
    } else {
      return current;
    }
  }
  return current;
}

/**
 * The schema of `name` in an object schema, as declared on the property:
 * patch extensions (`x-kubernetes-patch-merge-key`…) live there, not on the
 * definition the property refers to. Resolve it for its structure.
 */
export function propertySchema(schema: JsonSchema, name: string): JsonSchema | undefined {
  return resolveSchema(schema).properties?.[name];
}

export const schemaLookup: SchemaLookup = {
  forKind(group, version, kind) {
    const name = definitionNameForKind(group, version, kind);
    return name ? definitions()[name] : undefined;
  },
  resolve: resolveSchema,
};

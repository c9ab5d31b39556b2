/** The slice of OpenAPI schema that bosun reads: structure for strict field
 *  validation and `kubectl explain`, and the patch extensions that strategic
 *  merge patch needs (as upstream publishes them in its spec). */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  $ref?: string;
  allOf?: JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }>;
}

export interface SchemaLookup {
  /** The schema of a kind's root object, or undefined for an unknown kind. */
  forKind(group: string, version: string, kind: string): JsonSchema | undefined;
  /** Follows `$ref` (and a single-element `allOf` wrapping one) to the schema it names. */
  resolve(schema: JsonSchema): JsonSchema;
}

/**
 * Field paths printed as upstream's `field.Path` prints them:
 * `spec.containers[0].ports[1].containerPort`, `metadata.labels[app]`.
 */

/** `parent.a.b`; an empty parent yields just `a.b`. */
export const child = (parent: string, ...names: string[]): string =>
  [parent, ...names].filter((n) => n !== '').join('.');

/** `parent[i]`. */
export const index = (parent: string, i: number): string => `${parent}[${i}]`;

/** `parent[key]` — upstream prints map keys unquoted. */
export const key = (parent: string, k: string): string => `${parent}[${k}]`;

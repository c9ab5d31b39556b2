import type { Pod, Volume } from 'kubernetes-types/core/v1';
import type { ObjectCache } from '../object-cache.js';
import type { PodRuntimeFacts } from '../field-path.js';

export interface VolumeContext {
  pod: Pod;
  /** `<rootDir>/pods/<uid>/volumes` */
  volumesDir: string;
  objects: ObjectCache;
  facts: PodRuntimeFacts;
  allocatable: { cpu: string; memory: string };
}

/** A volume plugin: makes the volume's directory (or file) on the host and returns its path. */
export interface VolumePlugin {
  /** Whether this plugin handles `volume`. */
  handles(volume: Volume): boolean;
  /** Idempotent; called again every resync so content (configMap, secret, downwardAPI) follows the API. */
  setUp(volume: Volume, ctx: VolumeContext): Promise<string>;
}

export class VolumeError extends Error {
  constructor(message: string) { super(message); this.name = 'VolumeError'; }
}

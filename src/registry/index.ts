export { startRegistry, type RegistryOptions, type RunningRegistry } from './registry.js';
export { pushImage, listTags } from './push.js';

export { Kubelet, type KubeletOptions } from './kubelet.js';
export { CriClient, CriError, type CriClientOptions } from './cri/client.js';
export { podLogDirectory, podLabels } from './sandbox-config.js';
export { containerLogPath } from './container-config.js';
export * from './labels.js';

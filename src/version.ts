import type { Info } from 'kubernetes-types/version';

/** The Kubernetes version bosun's API follows, and bosun's own. */
export const KUBERNETES_VERSION = { major: '1', minor: '32', patch: '0' };
export const BOSUN_VERSION = '0.1.0';

export function versionInfo(): Info {
  return {
    major: KUBERNETES_VERSION.major,
    minor: KUBERNETES_VERSION.minor,
    gitVersion: `v${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}.${KUBERNETES_VERSION.patch}+bosun-${BOSUN_VERSION}`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-11-25T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

import { stringify } from 'yaml';

export interface KubeconfigParams {
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  name?: string;
}

/** A kubeconfig with one cluster, user and context, credentials inline, as k3s writes it. */
export function kubeconfigYaml(p: KubeconfigParams): string {
  const name = p.name ?? 'default';
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: p.server, 'certificate-authority-data': b64(p.caPem) } }],
    users: [{ name, user: { 'client-certificate-data': b64(p.clientCertPem), 'client-key-data': b64(p.clientKeyPem) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  });
}

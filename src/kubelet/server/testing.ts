/**
 * Certificates for tests that run a KubeletServer next to a test API server:
 * a serving certificate from the server's cluster CA (as the agent gets one at
 * join) and the API server's kubelet client certificate, read from the data dir.
 */
import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CertificateAuthority, type KeyPairPem } from '../../server/pki.js';

export interface KubeletTestCertificates {
  caPem: string;
  /** The kubelet's serving certificate, for 127.0.0.1 and the node name. */
  serving: KeyPairPem;
  /** The API server's client certificate towards kubelets. */
  apiserverClient: KeyPairPem;
  authority: CertificateAuthority;
}

export async function kubeletTestCertificates(dataDir: string, nodeName: string): Promise<KubeletTestCertificates> {
  const tls = join(dataDir, 'server', 'tls');
  const read = (name: string) => readFile(join(tls, name), 'utf8');
  const caPem = await read('server-ca.crt');
  const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(await read('server-ca.key'))[0],
    { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  const authority = new CertificateAuthority({ cert: new x509.X509Certificate(caPem), key: key as unknown as CryptoKey });
  return {
    caPem,
    serving: await authority.issueServing(nodeName, ['127.0.0.1', nodeName]),
    apiserverClient: { certPem: await read('client-kube-apiserver-kubelet.crt'), keyPem: await read('client-kube-apiserver-kubelet.key') },
    authority,
  };
}

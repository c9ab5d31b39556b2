import { webcrypto, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface KeyPairPem { certPem: string; keyPem: string }

/** The cluster's TLS material, kept under `<data-dir>/server/tls`. */
export interface ClusterPki {
  ca: KeyPairPem;
  serving: KeyPairPem;
  /** cluster-admin client certificate (CN=system:admin, O=system:masters) for the kubeconfig. */
  admin: KeyPairPem;
  /** The API server's client certificate towards kubelets (CN=kube-apiserver-kubelet-client, O=system:masters). */
  kubeletClient: KeyPairPem;
  /** sha256 of the CA certificate PEM, as k3s puts in its `K10…` join tokens. */
  caHash: string;
  /** Signs further certificates with the cluster CA (nodes, etcd members). */
  authority: CertificateAuthority;
}

/** The CA hash of a `K10<hash>::…` token: sha256 of the CA certificate's PEM text, as k3s takes it. */
export const caHashOf = (caPem: string): string => createHash('sha256').update(caPem).digest('hex');

/** The cluster CA as a signer of leaf certificates. */
export class CertificateAuthority {
  constructor(private readonly signer: { cert: x509.X509Certificate; key: CryptoKey }) {}

  /** A client certificate: `CN=<commonName>, O=<org>…`. */
  issueClient(commonName: string, organizations: string[] = []): Promise<KeyPairPem> {
    return issue(this.signer, subjectOf(commonName, organizations), [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ]);
  }

  /** A serving certificate for these DNS names and IP addresses (and client use, as etcd peers need). */
  issueServing(commonName: string, sans: string[], opts: { clientAuth?: boolean } = {}): Promise<KeyPairPem> {
    const usages = [x509.ExtendedKeyUsage.serverAuth, ...(opts.clientAuth ? [x509.ExtendedKeyUsage.clientAuth] : [])];
    return issue(this.signer, subjectOf(commonName, []), [
      new x509.ExtendedKeyUsageExtension(usages),
      new x509.SubjectAlternativeNameExtension(sanNames(sans)),
    ]);
  }
}

const subjectOf = (cn: string, orgs: string[]) => [`CN=${cn}`, ...orgs.map((o) => `O=${o}`)].join(', ');

function sanNames(sans: string[]): Array<{ type: 'ip' | 'dns'; value: string }> {
  return [...new Set(sans)].map((s) => ({ type: isIp(s) ? 'ip' as const : 'dns' as const, value: s }));
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(pem)[0], EC, true, ['sign']) as Promise<CryptoKey>;
}

const serial = () => randomBytes(16).toString('hex').replace(/^[89a-f]/, '1');

async function issue(
  ca: { cert: x509.X509Certificate; key: CryptoKey },
  subject: string,
  extensions: x509.Extension[],
): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + TEN_YEARS_MS),
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...extensions,
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
}

async function readPair(dir: string, name: string): Promise<KeyPairPem | undefined> {
  const cert = join(dir, `${name}.crt`), key = join(dir, `${name}.key`);
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
}

async function writePair(dir: string, name: string, pair: KeyPairPem): Promise<void> {
  await writeFile(join(dir, `${name}.crt`), pair.certPem, { mode: 0o644 });
  await writeFile(join(dir, `${name}.key`), pair.keyPem, { mode: 0o600 });
}

/** SANs a serving certificate must carry; a changed list re-issues the certificate. */
function sansOf(cert: x509.X509Certificate): string[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return (ext?.names.toJSON() ?? []).map((n) => `${n.type}:${n.value}`).sort();
}

const isIp = (s: string) => /^[0-9.]+$/.test(s) || s.includes(':');

/**
 * Loads the cluster CA and certificates from `tlsDir`, creating what is
 * missing. The CA is made once and kept: a restart resumes the same cluster.
 * The serving certificate is re-issued when the wanted SANs change.
 */
export async function loadOrCreatePki(tlsDir: string, sans: string[]): Promise<ClusterPki> {
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });

  let ca = await readPair(tlsDir, 'server-ca');
  if (!ca) {
    const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=bosun-server-ca@${Math.floor(Date.now() / 1000)}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + TEN_YEARS_MS),
      signingAlgorithm: EC,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    ca = { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
    await writePair(tlsDir, 'server-ca', ca);
  }
  const caSigner = { cert: new x509.X509Certificate(ca.certPem), key: await importKey(ca.keyPem) };

  const wanted = [...new Set(sans)].map((s) => (isIp(s) ? `ip:${s}` : `dns:${s}`)).sort();
  let serving = await readPair(tlsDir, 'serving-kube-apiserver');
  if (!serving || JSON.stringify(sansOf(new x509.X509Certificate(serving.certPem))) !== JSON.stringify(wanted)) {
    serving = await issue(caSigner, 'CN=kube-apiserver', [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sanNames(sans)),
    ]);
    await writePair(tlsDir, 'serving-kube-apiserver', serving);
  }

  let admin = await readPair(tlsDir, 'client-admin');
  if (!admin) {
    admin = await issue(caSigner, 'CN=system:admin, O=system:masters', [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ]);
    await writePair(tlsDir, 'client-admin', admin);
  }

  let kubeletClient = await readPair(tlsDir, 'client-kube-apiserver-kubelet');
  if (!kubeletClient) {
    kubeletClient = await issue(caSigner, 'CN=kube-apiserver-kubelet-client, O=system:masters', [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ]);
    await writePair(tlsDir, 'client-kube-apiserver-kubelet', kubeletClient);
  }

  return { ca, serving, admin, kubeletClient, authority: new CertificateAuthority(caSigner), caHash: caHashOf(ca.certPem) };
}

/**
 * Installs a cluster CA received from another server (joining an HA
 * cluster) before `loadOrCreatePki`, which then signs with it. A different CA
 * already in place is an error: this data dir belongs to another cluster.
 */
export async function installClusterCa(tlsDir: string, ca: KeyPairPem): Promise<void> {
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  const current = await readPair(tlsDir, 'server-ca');
  if (current && current.certPem.trim() !== ca.certPem.trim()) {
    throw new Error(`${tlsDir} holds another cluster's CA; remove the data dir to join this cluster`);
  }
  if (!current) await writePair(tlsDir, 'server-ca', ca);
}

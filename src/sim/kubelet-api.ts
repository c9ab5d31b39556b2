import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createHash, webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Pod } from 'kubernetes-types/core/v1';
import { tryParseQuantity, quantityToNumber } from '../api/validation/quantity.js';
import type { ContainerStats, PodStats, Summary } from '../metrics/summary.js';
import { trackConnections } from '../util/http-server.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** Pod annotations that give a hollow pod its usage (split evenly over its containers), for `kubectl` users. */
export const CPU_USAGE_ANNOTATION = 'sim.bosun.io/cpu-usage';
export const MEMORY_USAGE_ANNOTATION = 'sim.bosun.io/memory-usage';

/** The only client the kubelet API serves: the API server's kubelet client certificate. */
export const KUBELET_CLIENT_CN = 'kube-apiserver-kubelet-client';

/** Synthetic resource usage of a pod. */
export interface PodUsage { cpuMillicores: number; memoryBytes: number }

/** A pod's usage from its annotations; undefined when it has none (or they do not parse). */
export function usageFromAnnotations(pod: Pod): PodUsage | undefined {
  const ann = pod.metadata?.annotations ?? {};
  const cpu = ann[CPU_USAGE_ANNOTATION] !== undefined ? tryParseQuantity(ann[CPU_USAGE_ANNOTATION]) : undefined;
  const mem = ann[MEMORY_USAGE_ANNOTATION] !== undefined ? tryParseQuantity(ann[MEMORY_USAGE_ANNOTATION]) : undefined;
  if (!cpu && !mem) return undefined;
  return { cpuMillicores: cpu ? quantityToNumber(cpu) * 1000 : 0, memoryBytes: mem ? Math.round(quantityToNumber(mem)) : 0 };
}

/** The Summary a kubelet would report for these pods and their usage (node usage = the pods' sum). */
export function hollowSummary(nodeName: string, pods: Array<{ pod: Pod; usage: PodUsage }>, nowMs = Date.now(), nodeStart?: string): Summary {
  const time = new Date(nowMs).toISOString();
  let nodeCpu = 0;
  let nodeMem = 0;
  const podStats: PodStats[] = pods.map(({ pod, usage }) => {
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    const n = Math.max(1, names.length);
    const cpuEach = Math.round((usage.cpuMillicores * 1e6) / n);
    const memEach = Math.round(usage.memoryBytes / n);
    nodeCpu += cpuEach * n;
    nodeMem += memEach * n;
    const containers: ContainerStats[] = names.map((name) => ({
      name, startTime: pod.status?.startTime,
      cpu: { time, usageNanoCores: cpuEach },
      memory: { time, workingSetBytes: memEach, usageBytes: memEach },
    }));
    return {
      podRef: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', uid: pod.metadata?.uid ?? '' },
      startTime: pod.status?.startTime,
      containers,
      cpu: { time, usageNanoCores: cpuEach * n },
      memory: { time, workingSetBytes: memEach * n },
    };
  });
  return {
    node: { nodeName, startTime: nodeStart, cpu: { time, usageNanoCores: nodeCpu }, memory: { time, workingSetBytes: nodeMem } },
    pods: podStats,
  };
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A throwaway self-signed serving certificate; the scraper pins its fingerprint (published on each Node). */
async function selfSigned(): Promise<{ certPem: string; keyPem: string; sha256: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=bosun-hollow-kubelet@${Math.floor(Date.now() / 1000)}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    signingAlgorithm: EC,
    keys,
    extensions: [
      // Its own trust anchor: the scraper trusts exactly this certificate (by the fingerprint on the Nodes).
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const der = Buffer.from(cert.rawData);
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: cert.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

export interface HollowKubeletApiOptions {
  /** The cluster CA: only client certificates it signed for `kube-apiserver-kubelet-client` are served. */
  clientCAPem: string;
  /** The Summary of a node of this simulator, or undefined when it is not one (404). */
  summary: (nodeName: string) => Summary | undefined;
}

/**
 * One HTTPS kubelet API on 127.0.0.1 for all hollow nodes of a simulator:
 * which node a request is for comes from the TLS server name (SNI) the
 * client sends, or else the Host header, both the node name. Serves
 * `/stats/summary` (and `/healthz`) only.
 */
export class HollowKubeletApi {
  private server?: Server;
  private connections?: { close(): Promise<void> };
  port = 0;
  /** sha256 (hex) of the serving certificate, for the Nodes' annotation. */
  certSha256 = '';

  constructor(private readonly opts: HollowKubeletApiOptions) {}

  async start(): Promise<void> {
    const tls = await selfSigned();
    this.certSha256 = tls.sha256;
    this.server = createServer({
      cert: tls.certPem, key: tls.keyPem, ca: this.opts.clientCAPem, requestCert: true, rejectUnauthorized: false,
    }, (req, res) => this.serve(req, res));
    // The scraper keeps its connections between rounds (15 s apart by default).
    this.server.keepAliveTimeout = 120_000;
    this.connections = trackConnections(this.server);
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await this.connections?.close();
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as TLSSocket;
    const text = (code: number, body: string) => {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    if (!socket.authorized) return text(401, 'Unauthorized');
    const cn = socket.getPeerCertificate().subject?.CN;
    if (cn !== KUBELET_CLIENT_CN) return text(403, `Forbidden (user=${String(cn)}, verb=get, resource=nodes, subresource=stats)`);
    const url = new URL(req.url ?? '/', 'https://hollow');
    const sni = (socket as TLSSocket & { servername?: string | false }).servername;
    const node = (typeof sni === 'string' && sni) || (req.headers.host ?? '').replace(/:\d+$/, '');
    if (req.method !== 'GET') return text(405, 'Method Not Allowed');
    if (url.pathname === '/healthz') return text(200, 'ok');
    if (url.pathname !== '/stats/summary') return text(404, '404 page not found');
    const summary = this.opts.summary(node);
    if (!summary) return text(404, `node "${node}" is not served here (or not heartbeating)`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(summary));
  }
}

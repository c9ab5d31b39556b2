import { connect, type TLSSocket } from 'node:tls';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Node } from 'kubernetes-types/core/v1';
import { kubeletTarget, type KubeletTarget } from './kubelet-address.js';
import { MetricsStore } from './store.js';
import type { Summary } from './summary.js';

/** metrics-server's `--metric-resolution`. */
export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;

export interface ScraperOptions {
  /** The nodes to scrape, as of now (the API server's own watch cache). */
  listNodes: () => Node[];
  /** The API server's kubelet client certificate; kubelets accept no other. */
  clientCertPem: string;
  clientKeyPem: string;
  /** The cluster CA, which a kubelet's serving certificate must chain to (unless pinned by fingerprint). */
  caPem: string;
  resolutionMs?: number;
  /** metrics-server's `--kubelet-insecure-tls`: do not verify kubelets' serving certificates. */
  insecureTLS?: boolean;
  /** Scrapes in flight at most. */
  concurrency?: number;
  log?: (m: string) => void;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * metrics-server's scraper, inside the API server: every resolution it asks
 * every node's kubelet for `/stats/summary` over TLS with the kubelet client
 * certificate, and keeps the latest round in `store`. It runs in every API
 * server (as metrics-server replicas each scrape on their own), not under
 * leader election: each server answers metrics.k8s.io from its own memory.
 */
export class Scraper {
  readonly store = new MetricsStore();
  readonly resolutionMs: number;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private readonly warned = new Map<string, string>();
  /** Completed rounds, for tests and logs. */
  rounds = 0;
  private roundWaiters: Array<() => void> = [];
  private log: (m: string) => void;
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
  /** Pinned serving certificates already fetched, by sha256. */
  private readonly pinnedPems = new Map<string, string>();

  constructor(private readonly opts: ScraperOptions) {
    this.resolutionMs = opts.resolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS;
    this.log = opts.log ?? (() => {});
  }

  /** `log` replaces the constructor's (the server's logger is known only at start). */
  start(log?: (m: string) => void): void {
    if (log) this.log = log;
    this.loop ??= this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.agent.destroy();
  }

  /** Resolves after the next complete round. */
  nextRound(): Promise<void> { return new Promise((r) => this.roundWaiters.push(r)); }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await this.scrapeAll(signal);
      } catch (err) {
        if (!signal.aborted) this.log(`metrics: scrape round failed: ${message(err)}`);
      }
      this.rounds++;
      for (const w of this.roundWaiters.splice(0)) w();
      await sleep(Math.max(0, this.resolutionMs - (Date.now() - started)), undefined, { signal }).catch(() => {});
    }
  }

  /** One round: all nodes in parallel (bounded), then the store is replaced at once. */
  async scrapeAll(signal?: AbortSignal): Promise<void> {
    const targets: KubeletTarget[] = [];
    for (const node of this.opts.listNodes()) {
      const t = kubeletTarget(node);
      if ('skip' in t) {
        // A hollow node without a kubelet API (a simulator started without the CA) is normal, not worth a line each.
        if (!t.quiet) this.warnOnce(node.metadata?.name ?? '', `not scraped: ${t.skip}`);
        continue;
      }
      targets.push(t);
    }
    const results: Array<{ summary: Summary; scrapedAt: number }> = [];
    let next = 0;
    const worker = async () => {
      while (next < targets.length && !signal?.aborted) {
        const t = targets[next++];
        try {
          const summary = await this.fetchSummary(t, signal);
          results.push({ summary, scrapedAt: Date.now() });
          this.warned.delete(t.node);
        } catch (err) {
          this.warnOnce(t.node, `scrape of https://${t.host}:${t.port}/stats/summary failed: ${message(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(targets.length, this.opts.concurrency ?? 16) }, worker));
    if (!signal?.aborted) this.store.replace(results, this.resolutionMs);
  }

  private warnOnce(node: string, text: string): void {
    if (this.warned.get(node) === text) return;
    this.warned.set(node, text);
    this.log(`metrics: node ${node}: ${text}`);
  }

  /**
   * GET /stats/summary over a keep-alive connection (one per kubelet; one
   * pool per hollow endpoint), so a round costs no TLS handshake per node.
   * A pinned certificate is fetched once with a bare handshake that sends
   * nothing, then trusted as the only CA for that endpoint — its
   * fingerprint checked again on every new connection.
   */
  private async fetchSummary(t: KubeletTarget, stop?: AbortSignal): Promise<Summary> {
    const timeoutMs = Math.max(1000, Math.min(10_000, this.resolutionMs * 0.9));
    // Bounded by the timeout, and cut short when the server stops.
    const signal = stop ? AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]) : AbortSignal.timeout(timeoutMs);
    let tls: Pick<RequestOptions, 'ca' | 'rejectUnauthorized' | 'servername' | 'checkServerIdentity'>;
    const pinned = t.pinnedSha256;
    if (pinned) {
      let pem = this.pinnedPems.get(pinned);
      if (!pem) {
        const socket = await this.handshake(t, signal);
        const raw = socket.getPeerCertificate().raw;
        socket.destroy();
        pem = `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
        this.pinnedPems.set(pinned, pem);
      }
      tls = {
        ca: pem, rejectUnauthorized: true,
        // No SNI: every node of the endpoint shares its connections; the Host header names the node.
        servername: undefined,
        checkServerIdentity: (_host, cert) => (cert.fingerprint256?.replace(/:/g, '').toLowerCase() === pinned
          ? undefined : new Error(`serving certificate sha256 ${cert.fingerprint256} is not the pinned ${pinned}`)),
      };
    } else {
      tls = { ca: this.opts.caPem, rejectUnauthorized: !this.opts.insecureTLS, servername: t.servername };
    }
    return await new Promise<Summary>((resolve, reject) => {
      const req = httpsRequest({
        host: t.host, port: t.port, agent: this.agent, cert: this.opts.clientCertPem, key: this.opts.clientKeyPem, ...tls,
        method: 'GET', path: '/stats/summary?only_cpu_and_memory=true',
        headers: { Host: `${t.servername}:${t.port}`, Accept: 'application/json', 'User-Agent': 'bosun-metrics-scraper' },
        signal,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) { reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`)); return; }
          try { resolve(JSON.parse(body) as Summary); } catch { reject(new Error('the kubelet sent a body that is not JSON')); }
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** A handshake that sends nothing, for a pinned certificate: its fingerprint must match. */
  private handshake(t: KubeletTarget, signal: AbortSignal): Promise<TLSSocket> {
    const pinned = t.pinnedSha256;
    return new Promise<TLSSocket>((resolve, reject) => {
      const socket = connect({
        host: t.host, port: t.port, servername: t.servername,
        cert: this.opts.clientCertPem, key: this.opts.clientKeyPem,
        // Checked by fingerprint below, before anything is sent.
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
      const fail = (err: Error) => { socket.destroy(); reject(err); };
      const onAbort = () => fail(new Error('TLS handshake timed out'));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err) => { signal.removeEventListener('abort', onAbort); fail(err); });
      socket.once('secureConnect', () => {
        signal.removeEventListener('abort', onAbort);
        const got = socket.getPeerCertificate().fingerprint256?.replace(/:/g, '').toLowerCase();
        if (got !== pinned) { fail(new Error(`serving certificate sha256 ${got ?? 'none'} is not the pinned ${pinned}`)); return; }
        resolve(socket);
      });
    });
  }
}

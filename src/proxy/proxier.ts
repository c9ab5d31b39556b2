/**
 * The node's service proxy (upstream kube-proxy in iptables mode): watches
 * Services, EndpointSlices and its own Node, and keeps the kernel's rules
 * equal to them. Changes are coalesced: at most one sync per
 * minSyncPeriod, and one every syncPeriod without changes; a full rewrite
 * at first, every fullSyncPeriod and after any failure, otherwise only the
 * changed services' chains and the shared ones (a partial sync).
 */
import type { Node, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Registry } from 'prom-client';
import { InformerFactory, endpointslices, keyOf, nodes, services, type Client, type Lister } from '../client/index.js';
import { setSysctl } from './iptables.js';
import { proxyMetrics, type ProxyMetrics } from './metrics.js';
import { endpointsFor, serviceKeyOfSlice, servicePortsOf } from './model.js';
import { DEFAULT_CHAIN_PREFIX, type ServicePortState } from './rules.js';
import { RuleSyncer, type SyncResult } from './syncer.js';

export interface ProxierOptions {
  client: Client;
  /** Shared informers (the agent's); a factory of the proxier's own otherwise. */
  informers?: InformerFactory;
  nodeName: string;
  /**
   * Addresses NodePorts answer on. When omitted: the Node's InternalIP and
   * ExternalIP addresses, or every local address while the Node has none
   * (upstream's --nodeport-addresses default).
   */
  nodeIPs?: string[];
  /** The cluster's pod CIDR (10.42.0.0/16): traffic to ClusterIPs from outside it is masqueraded. */
  clusterCIDR?: string;
  /** upstream --masquerade-all. */
  masqueradeAll?: boolean;
  /** upstream --iptables-masquerade-bit (14). */
  masqueradeBit?: number;
  /** Prefix of our chains, `KUBE` by default; 1–7 characters. */
  chainPrefix?: string;
  /** NodePorts on 127.0.0.1 too; sets net.ipv4.conf.all.route_localnet=1. Off by default. */
  localhostNodePorts?: boolean;
  /** A sync at least this often even without changes (upstream --iptables-sync-period, 30 s); partial, like any other. */
  syncPeriodMs?: number;
  /** Every chain rewritten at least this often (upstream's FullSyncPeriod, 1 h), and after any failure. */
  fullSyncPeriodMs?: number;
  /** At most one sync per this period, however many changes arrive (upstream --iptables-min-sync-period, 1 s). */
  minSyncPeriodMs?: number;
  metrics?: Registry;
  log?: (m: string) => void;
}

const NODE_ADDRESS_TYPES = new Set(['InternalIP', 'ExternalIP']);

export class Proxier {
  private readonly informers: InformerFactory;
  private readonly ownInformers: boolean;
  private readonly services: Lister<Service>;
  private readonly slices: Lister<EndpointSlice>;
  private readonly nodes: Lister<Node>;
  private readonly syncer: RuleSyncer;
  private readonly metrics?: ProxyMetrics;
  private readonly log: (m: string) => void;
  private readonly syncPeriodMs: number;
  private readonly minSyncPeriodMs: number;
  private readonly fullSyncPeriodMs: number;
  private wake?: () => void;
  private dirty = true;
  private nodeAddressKey = '';
  /** The last sync's outcome, for tests and status. */
  lastSync?: SyncResult & { at: number };
  lastError?: unknown;
  private syncWaiters: Array<() => void> = [];
  private syncCount = 0;

  constructor(private readonly opts: ProxierOptions) {
    this.log = opts.log ?? ((m) => console.error(`proxy: ${m}`));
    this.ownInformers = !opts.informers;
    this.informers = opts.informers ?? new InformerFactory(opts.client, { log: this.log });
    this.syncPeriodMs = opts.syncPeriodMs ?? 30_000;
    this.minSyncPeriodMs = opts.minSyncPeriodMs ?? 1000;
    this.fullSyncPeriodMs = opts.fullSyncPeriodMs ?? 3_600_000;
    this.metrics = opts.metrics ? proxyMetrics(opts.metrics) : undefined;
    this.syncer = new RuleSyncer({
      chainPrefix: opts.chainPrefix ?? DEFAULT_CHAIN_PREFIX,
      clusterCIDR: opts.clusterCIDR,
      masqueradeAll: opts.masqueradeAll ?? false,
      masqueradeBit: opts.masqueradeBit ?? 14,
      nodePortAddresses: opts.nodeIPs ?? [],
      localhostNodePorts: opts.localhostNodePorts ?? false,
    }, this.log);

    const svcInformer = this.informers.for(services);
    const sliceInformer = this.informers.for(endpointslices);
    // Only our own Node matters (its addresses); a cluster of thousands need not be cached here.
    const nodeInformer = this.informers.for(nodes, { fieldSelector: `metadata.name=${opts.nodeName}` });
    // A second Proxier on the same shared informers reuses the index (same function).
    try { sliceInformer.addIndex(SLICE_SERVICE_INDEX, (s) => { const k = serviceKeyOfSlice(s); return k ? [k] : []; }); } catch { /* exists */ }
    this.services = svcInformer.lister();
    this.slices = sliceInformer.lister();
    this.nodes = nodeInformer.lister();
    svcInformer.onChange(() => this.requestSync());
    sliceInformer.onChange(() => this.requestSync());
    nodeInformer.onChange((node) => {
      if (node.metadata?.name !== opts.nodeName || opts.nodeIPs) return;
      const key = this.nodeAddresses().join(',');
      if (key !== this.nodeAddressKey) this.requestSync();
    });
  }

  get chainPrefix(): string { return this.syncer.cfg.chainPrefix; }

  /** Marks the rules out of date; the loop syncs within minSyncPeriod. */
  requestSync(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Resolves after the next sync that starts from now has finished (successfully or not). */
  waitForSync(): Promise<void> {
    return new Promise((resolve) => { this.syncWaiters.push(resolve); this.requestSync(); });
  }

  /** Runs until `signal` aborts; the rules stay in place afterwards (cleanupProxyRules removes them). */
  async run(signal: AbortSignal): Promise<void> {
    if (this.opts.localhostNodePorts) await setSysctl('net.ipv4.conf.all.route_localnet', '1');
    if (this.ownInformers) this.informers.start(signal);
    try {
      await this.informers.waitForSync(signal);
    } catch {
      return; // aborted before the caches were whole
    }
    let lastStart = -Infinity;
    let lastFull = performance.now();
    while (!signal.aborted) {
      const sinceLast = performance.now() - lastStart;
      if (sinceLast < this.minSyncPeriodMs) await this.sleep(this.minSyncPeriodMs - sinceLast, signal, false);
      if (signal.aborted) break;
      const periodic = performance.now() - lastStart >= this.syncPeriodMs;
      if (this.dirty || periodic) {
        lastStart = performance.now();
        const waiters = this.syncWaiters;
        this.syncWaiters = [];
        this.dirty = false;
        // The first sync and one after a failure are full anyway (the syncer knows nothing to build on).
        const ok = await this.syncProxyRules(lastStart - lastFull >= this.fullSyncPeriodMs, periodic);
        if (ok && this.lastSync?.full) lastFull = lastStart;
        if (!ok) this.dirty = true; // retried after minSyncPeriod, as a full sync
        for (const w of waiters) w();
        continue;
      }
      await this.sleep(this.syncPeriodMs - (performance.now() - lastStart), signal, true);
    }
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Sleeps `ms`; a change request ends it early when `wakeable`. */
  private sleep(ms: number, signal: AbortSignal, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); signal.removeEventListener('abort', done); if (this.wake === done) this.wake = undefined; resolve(); };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
      if (wakeable) this.wake = done;
    });
  }

  /** The model: every port of every Service with its endpoints from the slices. */
  buildState(): ServicePortState[] {
    const states: ServicePortState[] = [];
    for (const svc of this.services.list()) {
      const ports = servicePortsOf(svc);
      if (ports.length === 0) continue;
      const slices = this.slices.byIndex(SLICE_SERVICE_INDEX, keyOf(svc));
      for (const port of ports) states.push({ port, endpoints: endpointsFor(port, slices, this.opts.nodeName) });
    }
    return states;
  }

  private nodeAddresses(): string[] {
    const node = this.nodes.get(this.opts.nodeName);
    return (node?.status?.addresses ?? []).filter((a) => NODE_ADDRESS_TYPES.has(a.type) && /^\d+(\.\d+){3}$/.test(a.address)).map((a) => a.address).sort();
  }

  /** One sync; returns whether it succeeded (failures are logged and counted). */
  private async syncProxyRules(full: boolean, checkJumps = false): Promise<boolean> {
    const started = performance.now();
    if (!this.opts.nodeIPs) {
      const addrs = this.nodeAddresses();
      const key = addrs.join(',');
      if (key !== this.nodeAddressKey) {
        this.nodeAddressKey = key;
        this.syncer.cfg.nodePortAddresses = addrs;
        full = true;
      }
    }
    try {
      const result = await this.syncer.sync(this.buildState(), { full, checkJumps });
      const seconds = (performance.now() - started) / 1000;
      this.lastSync = { ...result, at: Date.now() };
      this.lastError = undefined;
      this.syncCount++;
      if (this.metrics) {
        this.metrics.syncDuration.observe(seconds);
        (result.full ? this.metrics.syncFullDuration : this.metrics.syncPartialDuration).observe(seconds);
        this.metrics.lastSyncTimestamp.set(Date.now() / 1000);
        this.metrics.rulesTotal.set({ table: 'nat' }, result.natRules);
        this.metrics.rulesTotal.set({ table: 'filter' }, result.filterRules);
      }
      return true;
    } catch (err) {
      this.lastError = err;
      this.metrics?.restoreFailures.inc();
      this.log(`sync failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  /** How many syncs succeeded so far. */
  get syncs(): number { return this.syncCount; }
}

const SLICE_SERVICE_INDEX = 'bosun.proxy/service';

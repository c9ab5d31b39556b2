/**
 * One sync of the proxy's rules from a model of service ports: render,
 * restore, keep what was written for the next (partial) sync, and clear
 * stale UDP conntrack entries. Knows nothing of the API; the Proxier feeds
 * it from informers, the benchmark from made-up services.
 */
import { clearNodePort, clearNodePortEndpoint, clearServiceEndpoint, clearServiceIP } from './conntrack.js';
import { ensureJumps, existingServiceChains, restore } from './iptables.js';
import { endpointString, type EndpointInfo } from './model.js';
import { renderRestore, validateChainPrefix, type RuleConfig, type ServicePortRules, type ServicePortState } from './rules.js';

export interface SyncResult {
  full: boolean;
  durationMs: number;
  writtenChains: number;
  deletedChains: number;
  natRules: number;
  filterRules: number;
}

interface Applied { rules: ServicePortRules; state: ServicePortState }

export class RuleSyncer {
  /** What the last successful sync wrote, by service port; undefined forces the next sync to be full. */
  private applied?: Map<string, Applied>;
  private chains = new Set<string>();
  private jumpsEnsured = false;

  /**
   * `installJumps: false` leaves the built-in chains alone: our chains exist
   * but no traffic enters them (the benchmark's made-up services).
   */
  constructor(readonly cfg: RuleConfig, private readonly log: (m: string) => void = () => {}, private readonly opts: { installJumps?: boolean } = {}) {
    validateChainPrefix(cfg.chainPrefix);
  }

  /** Forgets what was written: the next sync rewrites everything (after a failure, or periodically). */
  invalidate(): void { this.applied = undefined; }

  /**
   * `checkJumps`: make sure the built-in chains still jump to ours even on a
   * partial sync (someone may have flushed them); full syncs always do.
   */
  async sync(states: readonly ServicePortState[], opts: { full?: boolean; conntrack?: boolean; checkJumps?: boolean } = {}): Promise<SyncResult> {
    const started = performance.now();
    const full = opts.full === true || this.applied === undefined;
    const previous = this.applied;
    const existing = full ? await existingServiceChains(this.cfg.chainPrefix) : this.chains;
    const plan = renderRestore(states, this.cfg, {
      previous: full ? undefined : new Map([...previous!].map(([k, v]) => [k, v.rules])),
      existingChains: existing,
    });
    try {
      for (const text of plan.restores) await restore(text);
      if ((full || opts.checkJumps || !this.jumpsEnsured) && this.opts.installJumps !== false) { await ensureJumps(this.cfg.chainPrefix); this.jumpsEnsured = true; }
    } catch (err) {
      this.applied = undefined;
      this.jumpsEnsured = false;
      throw err;
    }
    const applied = new Map<string, Applied>();
    const byKey = new Map(states.map((s) => [`${s.port.name}/${s.port.protocol}`, s]));
    for (const [k, rules] of plan.services) applied.set(k, { rules, state: byKey.get(k)! });
    this.applied = applied;
    this.chains = plan.chains;
    if (opts.conntrack !== false && previous) await this.clearStaleConntrack(previous, applied);
    return {
      full, durationMs: performance.now() - started,
      writtenChains: plan.writtenChains, deletedChains: plan.deletedChains, natRules: plan.natRules, filterRules: plan.filterRules,
    };
  }

  /**
   * Upstream's deleteUDPEndpointConnections and its first-endpoint clean-up:
   * UDP entries still pointing at an endpoint that no longer gets traffic,
   * and un-NATed entries made while a service had no endpoint.
   */
  private async clearStaleConntrack(before: Map<string, Applied>, after: Map<string, Applied>): Promise<void> {
    const jobs: Array<() => Promise<void>> = [];
    const udp = (a: Applied) => a.state.port.protocol === 'UDP';
    for (const [key, old] of before) {
      if (!udp(old)) continue;
      const now = after.get(key);
      const still = new Set((now?.rules.activeEndpoints ?? []).map(endpointString));
      for (const ep of old.rules.activeEndpoints) {
        if (still.has(endpointString(ep))) continue;
        jobs.push(...this.clearEndpoint(old, ep));
      }
    }
    for (const [key, now] of after) {
      if (!udp(now) || now.rules.activeEndpoints.length === 0) continue;
      const old = before.get(key);
      if (old && old.rules.activeEndpoints.length > 0) continue;
      const p = now.state.port;
      for (const ip of [p.clusterIP, ...p.externalIPs]) jobs.push(() => clearServiceIP(ip));
      if (p.nodePort !== undefined) jobs.push(() => clearNodePort(p.nodePort!));
    }
    // A few conntrack processes at a time: a deleted service with many endpoints must not fork dozens at once.
    for (let i = 0; i < jobs.length; i += 4) {
      const results = await Promise.allSettled(jobs.slice(i, i + 4).map((job) => job()));
      for (const r of results) if (r.status === 'rejected') this.log(`conntrack clean-up failed: ${String(r.reason)}`);
    }
  }

  private clearEndpoint(old: Applied, ep: EndpointInfo): Array<() => Promise<void>> {
    const p = old.state.port;
    const jobs = [p.clusterIP, ...p.externalIPs].map((ip) => () => clearServiceEndpoint(ip, ep.ip));
    if (p.nodePort !== undefined) jobs.push(() => clearNodePortEndpoint(p.nodePort!, ep.ip));
    return jobs;
  }
}

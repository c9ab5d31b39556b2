import { isIPv4 } from 'node:net';
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1';
import { internalError, invalid, type FieldError } from '../../api/status.js';
import { isHeadless, needsClusterIP, needsHealthCheck, needsNodePort } from '../../api/validation/service.js';
import type { KubeObject } from '../strategy.js';
import type { FinishHook, RegistryHooks, WriteOptions } from '../registry.js';
import { AllocationError, type Allocation, type AllocationOwner } from './allocation-set.js';
import type { IpAllocator } from './ip-allocator.js';
import type { PortAllocator } from './port-allocator.js';

/** Allocations younger than this are left alone by repair: their Service may be mid-create on another server. */
const REPAIR_GRACE_MS = 60_000;

interface Claims { ips: string[]; ports: number[] }

const ownerOf = (svc: Service): AllocationOwner => ({ namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '', uid: svc.metadata?.uid ?? '' });

/** The allocated cluster IPs of a spec (none for headless and ExternalName). */
function heldIPs(spec: ServiceSpec | undefined): string[] {
  if (!spec || !needsClusterIP(spec) || isHeadless(spec)) return [];
  return (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip) => isIPv4(ip));
}

/** Every node port a spec holds, health check port included. */
function heldPorts(spec: ServiceSpec | undefined): number[] {
  if (!spec || spec.type === 'ClusterIP' || spec.type === 'ExternalName') return [];
  const ports = new Set<number>();
  for (const p of spec.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
  if (needsHealthCheck(spec) && spec.healthCheckNodePort) ports.add(spec.healthCheckNodePort);
  return [...ports];
}

/**
 * Service IP and NodePort allocation, done by the services registry around
 * each write as upstream's service REST (pkg/registry/core/service/storage)
 * does: allocate before the object is validated and stored, release what a
 * failed write took, release what an update or delete gave up.
 */
export class ServiceAllocation {
  constructor(
    readonly ips: IpAllocator,
    readonly ports: PortAllocator,
    /** The address a LoadBalancer Service gets as its ingress on a single machine. */
    private readonly loadBalancerAddress: () => string,
  ) {}

  hooks(): RegistryHooks {
    return {
      beginCreate: (obj, opts) => this.beginCreate(obj as Service, opts),
      beginUpdate: (obj, old, opts) => this.beginUpdate(obj as Service, old as Service, opts),
      afterDelete: (obj) => this.releaseAll(obj as Service),
    };
  }

  private async beginCreate(svc: Service, opts: WriteOptions): Promise<FinishHook> {
    const claims: Claims = { ips: [], ports: [] };
    svc.spec ??= {};
    await this.guard(svc, claims, opts, async (errs) => {
      await this.allocateIPs(svc, claims, errs, opts);
      await this.allocatePorts(svc, new Set(), claims, errs, opts);
      this.setIngress(svc, undefined);
    });
    return (success) => success || opts.dryRun ? Promise.resolve() : this.release(claims, svc.metadata?.uid);
  }

  private async beginUpdate(svc: Service, old: Service, opts: WriteOptions): Promise<FinishHook> {
    const claims: Claims = { ips: [], ports: [] };
    const spec = (svc.spec ??= {});
    const oldIPs = heldIPs(old.spec);
    const oldPorts = heldPorts(old.spec);
    await this.guard(svc, claims, opts, async (errs) => {
      // A cluster IP is immutable (validation says so); only a service coming from ExternalName needs one now.
      if (oldIPs.length === 0 && !isHeadless(old.spec) && needsClusterIP(spec)) await this.allocateIPs(svc, claims, errs, opts);
      await this.allocatePorts(svc, new Set(oldPorts), claims, errs, opts);
      this.setIngress(svc, old);
    });
    const keptIPs = new Set(heldIPs(spec));
    const keptPorts = new Set(heldPorts(spec));
    const given: Claims = { ips: oldIPs.filter((ip) => !keptIPs.has(ip)), ports: oldPorts.filter((p) => !keptPorts.has(p)) };
    return (success) => opts.dryRun ? Promise.resolve() : this.release(success ? given : claims, svc.metadata?.uid);
  }

  /** Runs the allocation steps; on any error, gives back what they took and answers 422 (or 500 when a range is full). */
  private async guard(svc: Service, claims: Claims, opts: WriteOptions, steps: (errs: FieldError[]) => Promise<void>): Promise<void> {
    const errs: FieldError[] = [];
    try {
      await steps(errs);
    } catch (err) {
      if (!opts.dryRun) await this.release(claims, svc.metadata?.uid);
      if (err instanceof AllocationError) throw internalError(`failed to allocate a ${err.message.includes('port') ? 'nodePort' : 'serviceIP'}: ${err.message}`);
      throw err;
    }
    if (errs.length) {
      if (!opts.dryRun) await this.release(claims, svc.metadata?.uid);
      throw invalid('Service', '', svc.metadata?.name ?? '', errs);
    }
  }

  private async allocateIPs(svc: Service, claims: Claims, errs: FieldError[], opts: WriteOptions): Promise<void> {
    const spec = svc.spec!;
    if (!needsClusterIP(spec) || isHeadless(spec) || spec.clusterIP === 'None') return;
    // bosun's service CIDR is IPv4 only: a dual-stack preference falls back to it, a requirement cannot be met.
    if (spec.ipFamilyPolicy === 'PreferDualStack' && spec.ipFamilies) spec.ipFamilies = spec.ipFamilies.filter((f) => f === 'IPv4');
    if (spec.ipFamilies?.[0] === 'IPv6') { errs.push({ type: 'FieldValueInvalid', field: 'spec.ipFamilies[0]', message: 'Invalid value: "IPv6": not configured on this cluster' }); return; }
    if (spec.ipFamilyPolicy === 'RequireDualStack') { errs.push({ type: 'FieldValueInvalid', field: 'spec.ipFamilyPolicy', message: 'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services' }); return; }
    if (spec.ipFamilies?.length === 0 || !spec.ipFamilies) spec.ipFamilies = ['IPv4'];
    const requested = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    const owner = ownerOf(svc);
    if (requested.length === 0) {
      const ip = await this.ips.allocateNext(owner, opts.dryRun);
      if (!opts.dryRun) claims.ips.push(ip);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      return;
    }
    const ip = requested[0]!;
    // A malformed address is validation's to report, with its own message.
    if (!isIPv4(ip)) return;
    try {
      await this.ips.allocate(ip, owner, opts.dryRun);
      if (!opts.dryRun) claims.ips.push(ip);
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      errs.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: ${JSON.stringify(requested)}: failed to allocate IP ${ip}: ${err.message}` });
    }
  }

  /** Node ports for every port (and the health check port) that needs one; `held` are the old object's, kept as they are. */
  private async allocatePorts(svc: Service, held: Set<number>, claims: Claims, errs: FieldError[], opts: WriteOptions): Promise<void> {
    const spec = svc.spec!;
    if (spec.type === 'ClusterIP' || spec.type === 'ExternalName') return;
    const owner = ownerOf(svc);
    const mine = new Set<number>();
    const take = async (port: number, field: string): Promise<void> => {
      if (held.has(port) || mine.has(port)) return;
      try {
        await this.ports.allocate(port, owner, opts.dryRun);
        mine.add(port);
        if (!opts.dryRun) claims.ports.push(port);
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        errs.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${port}: ${err.message}` });
      }
    };
    const ports = spec.ports ?? [];
    // Requested ports first, so an automatic pick never takes a port asked for later in the list.
    for (const [i, p] of ports.entries()) if (p.nodePort) await take(p.nodePort, `spec.ports[${i}].nodePort`);
    if (needsHealthCheck(spec) && spec.healthCheckNodePort) await take(spec.healthCheckNodePort, 'spec.healthCheckNodePort');
    if (errs.length) return;
    const next = async (): Promise<number> => {
      const port = await this.ports.allocateNext(owner, opts.dryRun);
      if (!opts.dryRun) claims.ports.push(port);
      return port;
    };
    if (needsNodePort(spec)) {
      // One port number serves a port's TCP and UDP twins (`kubectl expose` of DNS does this).
      const byPort = new Map<number, number>();
      for (const p of ports) {
        if (p.nodePort) { byPort.set(p.port, p.nodePort); continue; }
        p.nodePort = byPort.get(p.port) ?? await next();
        byPort.set(p.port, p.nodePort);
      }
    }
    if (needsHealthCheck(spec) && !spec.healthCheckNodePort) spec.healthCheckNodePort = await next();
  }

  /** A LoadBalancer on one machine is reachable at the machine's address: say so in its status. */
  private setIngress(target: Service, old: Service | undefined): void {
    const svc = target as { -readonly [K in keyof Service]: Service[K] };
    if (svc.spec?.type === 'LoadBalancer') {
      if (!svc.status?.loadBalancer?.ingress?.length || old?.spec?.type !== 'LoadBalancer') {
        svc.status = { ...svc.status, loadBalancer: { ingress: [{ ip: this.loadBalancerAddress(), ipMode: 'VIP' }] } };
      }
    } else if (old?.spec?.type === 'LoadBalancer') {
      svc.status = { ...svc.status, loadBalancer: {} };
    }
  }

  private async release(claims: Claims, uid: string | undefined): Promise<void> {
    for (const ip of claims.ips) await this.ips.release(ip, uid);
    for (const port of claims.ports) await this.ports.release(port, uid);
  }

  /** Gives back everything a deleted Service held. */
  async releaseAll(svc: Service): Promise<void> {
    await this.release({ ips: heldIPs(svc.spec), ports: heldPorts(svc.spec) }, svc.metadata?.uid);
  }

  /**
   * Upstream's repair controllers in one pass: drop allocations whose Service
   * is gone or no longer holds them (a crash between allocating and storing
   * leaks them), and record allocations a stored Service holds without a key.
   * `lookup` reads a Service from the store.
   */
  async repair(lookup: (namespace: string, name: string) => Promise<KubeObject | undefined>, services: KubeObject[], log: (msg: string) => void, now = Date.now()): Promise<void> {
    const listed = new Map(services.map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o as Service]));
    const check = async (a: Allocation, holds: (svc: Service) => boolean, drop: () => Promise<void>): Promise<void> => {
      if (now - a.createdAt < REPAIR_GRACE_MS) return;
      const seen = listed.get(`${a.owner.namespace}/${a.owner.name}`);
      if (seen && seen.metadata?.uid === a.owner.uid && holds(seen)) return;
      // The list may be stale: only a fresh read may condemn an allocation.
      const svc = a.owner.uid ? await lookup(a.owner.namespace, a.owner.name) as Service | undefined : undefined;
      if (svc && svc.metadata?.uid === a.owner.uid && holds(svc)) return;
      await drop();
      log(`released leaked service allocation ${a.member} (${a.owner.namespace}/${a.owner.name})`);
    };
    for (const a of await this.ips.allocations.list()) {
      await check(a, (svc) => heldIPs(svc.spec).includes(a.member), () => this.ips.allocations.drop(a));
    }
    for (const a of await this.ports.allocations.list()) {
      await check(a, (svc) => heldPorts(svc.spec).includes(Number(a.member)), () => this.ports.allocations.drop(a));
    }
    for (const obj of services) {
      const svc = obj as Service;
      const owner = ownerOf(svc);
      for (const ip of heldIPs(svc.spec)) if (this.ips.contains(ip)) await this.ips.allocations.claim(ip, owner);
      for (const port of heldPorts(svc.spec)) if (this.ports.contains(port)) await this.ports.allocations.claim(String(port), owner);
    }
  }
}

import { isIPv4 } from 'node:net';
import type { Store } from '../../storage/store.js';
import { AllocationError, AllocationSet, claimAny, type AllocationOwner } from './allocation-set.js';

/** Store prefix of the service IP allocations: outside every resource prefix, so the watch cache skips it. */
export const SERVICE_IPS_PREFIX = '/registry/allocations/serviceips/';

export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';

const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/**
 * Cluster IPs from one IPv4 CIDR (pkg/registry/core/service/ipallocator).
 * Usable addresses exclude the network and broadcast addresses, as upstream.
 */
export class IpAllocator {
  readonly cidr: string;
  private readonly base: number;
  /** Number of usable addresses: network+1 .. broadcast-1. */
  readonly size: number;
  private readonly set: AllocationSet;

  constructor(store: Store, cidr = DEFAULT_SERVICE_CIDR) {
    const [ip, bitsText] = cidr.split('/');
    const bits = Number(bitsText);
    if (!ip || !isIPv4(ip) || !Number.isInteger(bits) || bits < 1 || bits > 30) throw new Error(`invalid IPv4 service CIDR ${cidr}`);
    const block = 2 ** (32 - bits);
    const network = toInt(ip) - (toInt(ip) % block);
    this.cidr = `${toIp(network)}/${bits}`;
    this.base = network + 1;
    this.size = block - 2;
    this.set = new AllocationSet(store, SERVICE_IPS_PREFIX);
  }

  /** The n-th usable address (0 is the first, which upstream gives the `kubernetes` Service). */
  ipAt(offset: number): string { return toIp(this.base + offset); }

  contains(ip: string): boolean {
    if (!isIPv4(ip)) return false;
    const off = toInt(ip) - this.base;
    return off >= 0 && off < this.size;
  }

  /** Upstream's static band: min(max(16, size/16), 256) addresses at the bottom. */
  private get band(): number { return Math.min(Math.max(16, Math.floor(this.size / 16)), 256, this.size); }

  async allocate(ip: string, owner: AllocationOwner, dryRun = false): Promise<void> {
    if (!this.contains(ip)) throw new AllocationError('NotInRange', `provided IP is not in the valid range. The range of valid IPs is ${this.cidr}`);
    if (!await this.set.claim(ip, owner, dryRun)) throw new AllocationError('Allocated', 'provided IP is already allocated');
  }

  allocateNext(owner: AllocationOwner, dryRun = false): Promise<string> {
    return claimAny(this.set, this.size, this.band, (o) => this.ipAt(o), owner, dryRun);
  }

  release(ip: string, uid?: string): Promise<void> { return this.set.release(ip, uid); }

  get allocations(): AllocationSet { return this.set; }
}

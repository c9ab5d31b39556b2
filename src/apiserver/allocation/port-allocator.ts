import type { Store } from '../../storage/store.js';
import { AllocationError, AllocationSet, claimAny, type AllocationOwner } from './allocation-set.js';

/** Store prefix of the NodePort allocations: outside every resource prefix, so the watch cache skips it. */
export const SERVICE_NODE_PORTS_PREFIX = '/registry/allocations/servicenodeports/';

export const DEFAULT_NODE_PORT_RANGE = '30000-32767';

/** Node ports from one range (pkg/registry/core/service/portallocator); one port serves every protocol. */
export class PortAllocator {
  readonly range: string;
  readonly base: number;
  readonly size: number;
  private readonly set: AllocationSet;

  constructor(store: Store, range = DEFAULT_NODE_PORT_RANGE) {
    const m = /^(\d+)(?:-(\d+)|\+(\d+))?$/.exec(range.trim());
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? (m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? lo + Number(m[3]) : lo) : NaN;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || hi < lo) throw new Error(`invalid node port range ${range}`);
    this.range = `${lo}-${hi}`;
    this.base = lo;
    this.size = hi - lo + 1;
    this.set = new AllocationSet(store, SERVICE_NODE_PORTS_PREFIX);
  }

  contains(port: number): boolean { return Number.isInteger(port) && port >= this.base && port < this.base + this.size; }

  /** Upstream's static band: min(max(16, size/32), 128) ports at the bottom. */
  private get band(): number { return Math.min(Math.max(16, Math.floor(this.size / 32)), 128, this.size); }

  async allocate(port: number, owner: AllocationOwner, dryRun = false): Promise<void> {
    if (!this.contains(port)) throw new AllocationError('NotInRange', `provided port is not in the valid range. The range of valid ports is ${this.range}`);
    if (!await this.set.claim(String(port), owner, dryRun)) throw new AllocationError('Allocated', 'provided port is already allocated');
  }

  async allocateNext(owner: AllocationOwner, dryRun = false): Promise<number> {
    return Number(await claimAny(this.set, this.size, this.band, (o) => String(this.base + o), owner, dryRun));
  }

  release(port: number, uid?: string): Promise<void> { return this.set.release(String(port), uid); }

  get allocations(): AllocationSet { return this.set; }
}

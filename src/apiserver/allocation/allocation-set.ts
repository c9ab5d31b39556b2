import type { Store } from '../../storage/store.js';
import { isStorageError } from '../../storage/store.js';

/** Who holds an allocation: enough to tell, on repair, whether the holder still exists. */
export interface AllocationOwner { namespace: string; name: string; uid: string }

interface StoredOwner extends AllocationOwner { createdAt: number }

export interface Allocation { member: string; owner: AllocationOwner; createdAt: number; revision: number }

export type AllocationErrorReason = 'Allocated' | 'NotInRange' | 'Full';

export class AllocationError extends Error {
  constructor(readonly reason: AllocationErrorReason, message: string) { super(message); this.name = 'AllocationError'; }
}

/**
 * A set of allocated members (IPs, ports) kept as one store key each under
 * `prefix`. `Store.create` is atomic, so two API servers on one etcd can
 * never hand out the same member: the loser gets AlreadyExists. The keys are
 * the allocation record; nothing is cached, so restarts lose nothing.
 */
export class AllocationSet {
  constructor(private readonly store: Store, readonly prefix: string) {}

  keyFor(member: string): string { return `${this.prefix}${member}`; }

  /** Claims `member` for `owner`; false when someone holds it. A dry run only checks. */
  async claim(member: string, owner: AllocationOwner, dryRun = false): Promise<boolean> {
    const key = this.keyFor(member);
    if (dryRun) return (await this.store.get(key)) === undefined;
    const value: StoredOwner = { namespace: owner.namespace, name: owner.name, uid: owner.uid, createdAt: Date.now() };
    try {
      await this.store.create(key, JSON.stringify(value));
      return true;
    } catch (err) {
      if (isStorageError(err, 'AlreadyExists')) return false;
      throw err;
    }
  }

  /** Frees `member` if `uid` (when given) still holds it: never someone else's claim. */
  async release(member: string, uid?: string): Promise<void> {
    const key = this.keyFor(member);
    const kv = await this.store.get(key);
    if (!kv) return;
    if (uid !== undefined && parseOwner(kv.value)?.uid !== uid) return;
    try {
      await this.store.delete(key, { expectedRevision: kv.modRevision });
    } catch (err) {
      if (!isStorageError(err, 'NotFound') && !isStorageError(err, 'Conflict')) throw err;
    }
  }

  /** Drops one allocation only if it is unchanged since it was read (repair). */
  async drop(a: Allocation): Promise<void> {
    try {
      await this.store.delete(this.keyFor(a.member), { expectedRevision: a.revision });
    } catch (err) {
      if (!isStorageError(err, 'NotFound') && !isStorageError(err, 'Conflict')) throw err;
    }
  }

  async isTaken(member: string): Promise<boolean> {
    return (await this.store.get(this.keyFor(member))) !== undefined;
  }

  async list(): Promise<Allocation[]> {
    const out: Allocation[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.store.list(this.prefix, { limit: 5000, startAfter });
      for (const kv of page.items) {
        const owner = parseOwner(kv.value);
        out.push({ member: kv.key.slice(this.prefix.length), owner: owner ?? { namespace: '', name: '', uid: '' }, createdAt: owner?.createdAt ?? 0, revision: kv.modRevision });
      }
      if (!page.more || page.items.length === 0) return out;
      startAfter = page.items[page.items.length - 1]!.key;
    }
  }

  async members(): Promise<Set<string>> {
    return new Set((await this.list()).map((a) => a.member));
  }
}

function parseOwner(value: string): StoredOwner | undefined {
  try {
    const v = JSON.parse(value) as Partial<StoredOwner>;
    if (typeof v.uid === 'string' && typeof v.name === 'string' && typeof v.namespace === 'string') {
      return { namespace: v.namespace, name: v.name, uid: v.uid, createdAt: typeof v.createdAt === 'number' ? v.createdAt : 0 };
    }
  } catch { /* a foreign value: treated as ownerless */ }
  return undefined;
}

/**
 * Picks a free offset in [0, size) and claims it. As upstream's allocators
 * (KEP-3070/3668), dynamic picks come from above the first `band` offsets
 * first, so that addresses people request by hand (10.43.0.10 for DNS) stay
 * free; the band is used only when the rest is full.
 */
export async function claimAny(
  set: AllocationSet, size: number, band: number, memberOf: (offset: number) => string,
  owner: AllocationOwner, dryRun: boolean,
): Promise<string> {
  const upper = size - band;
  // Random probes: cheap while the range is sparse, which it nearly always is.
  for (let i = 0; i < 32 && upper > 0; i++) {
    const member = memberOf(band + Math.floor(Math.random() * upper));
    if (await set.claim(member, owner, dryRun)) return member;
  }
  const taken = await set.members();
  for (const [from, count] of [[band, upper], [0, band]] as const) {
    if (count <= 0) continue;
    const start = Math.floor(Math.random() * count);
    for (let i = 0; i < count; i++) {
      const member = memberOf(from + ((start + i) % count));
      if (taken.has(member)) continue;
      if (await set.claim(member, owner, dryRun)) return member;
    }
  }
  throw new AllocationError('Full', 'range is full');
}

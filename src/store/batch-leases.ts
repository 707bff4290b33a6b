/**
 * Write leases of many users at once, for batch steps on servers without atomic updates
 * (FerretDB v1): bulk enrollment and the repair of pending keys. One `tryAcquire` round trip
 * covers the whole batch; the users whose lease another writer holds are retried until a
 * deadline and then returned as held.
 */
import type { ObjectId } from 'mongodb';
import type { StoreContext } from './context.js';
import type { Lease } from './lease.js';
import { userLeaseKey } from './user-writes.js';

/** Maximum pause between two tries of held user leases, in milliseconds. */
const MAX_PAUSE_MS = 500;

/**
 * How long a user lease must have been expired before {@link deleteExpiredUserLeases} deletes
 * it, in milliseconds. A process that read the lease as expired inserts the next generation one
 * round trip later, and hosts' clocks differ. Deleting the lease under such a process would let
 * a third one start a new chain beside it (lease.ts). Five minutes is far above a round trip and
 * the skew of clocks kept in sync, which leases already require.
 */
export const EXPIRED_USER_LEASE_MARGIN_MS = 5 * 60_000;

/** Leases acquired by {@link acquireUserLeases} and the users still held by other writers. */
export interface UserLeases {
  /** The acquired leases; release them with `context.leases.releaseAll`. */
  leases: Lease[];
  /** Users whose lease this call holds. */
  acquired: ObjectId[];
  /** Users whose lease stayed held by another writer until the deadline. */
  held: ObjectId[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Deletes the user leases that expired more than {@link EXPIRED_USER_LEASE_MARGIN_MS} ago and
 * returns how many. Crashed writers leave them behind. FerretDB v1 has no TTL index, and
 * otherwise only a later writer of the same user prunes one.
 */
export async function deleteExpiredUserLeases(context: StoreContext): Promise<number> {
  // NOTE: a process that stalls for longer than the margin between reading an expired lease and
  // inserting its successor can still race a writer that starts after this delete.
  const cutoff = new Date(Date.now() - EXPIRED_USER_LEASE_MARGIN_MS);
  const result = await context.leases.collection.deleteMany({
    key: { $regex: /^user:/ },
    expiresAt: { $lt: cutoff },
  });
  return result.deletedCount;
}

/**
 * Acquires the write leases of `ids` for `ttlMs`, retrying held ones for up to `waitMs`
 * (0 tries once). Logs each lease taken over from a writer that let it expire.
 */
export async function acquireUserLeases(
  context: StoreContext,
  ids: readonly ObjectId[],
  ttlMs: number,
  waitMs: number,
): Promise<UserLeases> {
  const result: UserLeases = { leases: [], acquired: [], held: [...ids] };
  const deadline = Date.now() + waitMs;
  let pauseMs = 10;

  while (result.held.length > 0) {
    const keys = result.held.map(userLeaseKey);
    const { acquired, expired } = await context.leases.tryAcquire(keys, ttlMs);
    for (const [key, holder] of expired) {
      context.logger.warn(
        { leaseKey: key, previousOwner: holder.owner, expiredAt: holder.expiresAt },
        'took over an expired user lease',
      );
    }

    const stillHeld: ObjectId[] = [];
    for (const id of result.held) {
      const lease = acquired.get(userLeaseKey(id));
      if (lease === undefined) {
        stillHeld.push(id);
      } else {
        result.leases.push(lease);
        result.acquired.push(id);
      }
    }
    result.held = stillHeld;

    if (result.held.length === 0 || Date.now() >= deadline) break;
    await sleep(Math.min(pauseMs, Math.max(0, deadline - Date.now())));
    pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
  }
  return result;
}

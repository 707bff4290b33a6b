/**
 * The migration lock: a lease on the key `migrations` (lease.ts). The holder renews it every
 * third of its TTL. A lock left by a killed process expires after its TTL, and the next process
 * takes it over. Before each write a migration awaits {@link MigrationLock.ensure}, which fails
 * once a renewal found the lock expired or taken over by another process, so a process that
 * stalled past its TTL stops instead of writing next to the new holder.
 */
import type { StoreContext } from '../context.js';
import { MigrationFailedError, MigrationLockedError } from '../errors.js';
import type { Lease } from '../lease.js';

/** Lease key of the migration lock. */
export const MIGRATION_LOCK_KEY = 'migrations';
/** Default lifetime of the migration lock, in milliseconds. */
export const DEFAULT_LOCK_TTL_MS = 60_000;
/** Default wait for a migration lock another process holds, in milliseconds. */
export const DEFAULT_LOCK_WAIT_MS = 60_000;

/** The migration lock as held by this process. */
export class MigrationLock {
  private confirmedAt: number;

  private constructor(
    private readonly context: StoreContext,
    private readonly lease: Lease,
    private readonly ttlMs: number,
  ) {
    this.confirmedAt = lease.document.acquiredAt.getTime();
  }

  /**
   * Waits up to `waitMs` for the lock, then throws `MigrationLockedError` naming the holder.
   * Logs a warning with the previous owner when it takes over an expired lock.
   */
  static async acquire(
    context: StoreContext,
    ttlMs: number,
    waitMs: number,
  ): Promise<MigrationLock> {
    const { lease, takenOver } = await context.leases.acquire(MIGRATION_LOCK_KEY, {
      ttlMs,
      waitMs,
      onHeld: (holder) => new MigrationLockedError(holder.owner, holder.expiresAt),
    });
    const owner = lease.document.owner;
    if (takenOver !== undefined) {
      context.logger.warn(
        { previousOwner: takenOver.owner, expiredAt: takenOver.expiresAt, owner },
        'took over the migration lock of a process that did not release it',
      );
    }

    const lock = new MigrationLock(context, lease, ttlMs);
    lease.startRenewal(Math.max(1, Math.floor(ttlMs / 3)), (error) => {
      context.logger.warn({ err: error, owner }, 'migration lock renewal failed');
    });
    return lock;
  }

  /** Lease owner of this process, `host:pid:random`. */
  get owner(): string {
    return this.lease.document.owner;
  }

  /**
   * Resolves while this process holds the lock. Renews it first when the last confirmation is
   * older than a third of the TTL, because the background renewal may not have run during a
   * long synchronous step. Rejects with `MigrationFailedError` once a renewal failed.
   */
  async ensure(): Promise<void> {
    if (this.lease.valid && Date.now() - this.confirmedAt < this.ttlMs / 3) return;

    const renewedAt = Date.now();
    if (this.lease.valid && (await this.lease.renew())) {
      this.confirmedAt = renewedAt;
      return;
    }
    throw new MigrationFailedError(
      `the migration lock of ${this.owner} expired or was taken over by another process, so ` +
        'this process stopped before its next write; check for another migrating process, ' +
        'then rerun the migration',
    );
  }

  /** Stops renewal and releases the lock, so a waiting process need not wait for the TTL. */
  async release(): Promise<void> {
    try {
      await this.lease.release();
    } catch (error) {
      this.context.logger.warn(
        { err: error, owner: this.owner },
        'releasing the migration lock failed; it expires after its TTL',
      );
    }
  }
}

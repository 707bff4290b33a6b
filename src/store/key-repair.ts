/**
 * Resolution of `pending` entries in `pqcKeys`, which a process leaves when it stops between
 * inserting the entry and marking it current. An entry the user document references becomes
 * current, and any older current entry of that user is retired. An entry no user references is
 * deleted, because its user update never happened or lost a race.
 *
 * Writers that run at the same time stay correct: the deletes and updates here only match
 * entries that are still pending, and a writer whose user update succeeded inserts its entry
 * again as current if this step deleted it first. On FerretDB, where updates are not atomic,
 * each batch of users is resolved under their write leases.
 */
import type { ObjectId } from 'mongodb';
import { acquireUserLeases } from './batch-leases.js';
import type { StoreContext } from './context.js';
import type { Lease } from './lease.js';
import type { PqcKeyDocument } from './schema.js';

/** Users resolved per round trip. */
const REPAIR_BATCH_SIZE = 200;

/** Options of {@link repairPendingKeys}. */
export interface RepairOptions {
  /**
   * Milliseconds an entry must have been pending before it is resolved, so that a repair
   * started during live enrollments leaves their fresh entries alone. Default 0.
   */
  minAgeMs?: number;
}

/** Counts of what {@link repairPendingKeys} changed. */
export interface RepairReport {
  /** Pending entries the user references, now current. */
  promoted: number;
  /** Pending entries no user references, deleted. */
  discarded: number;
  /** Older current entries of promoted users, now retired. */
  retired: number;
  /** Pending entries left as they were because another writer held the user's lease. */
  skipped: number;
}

function groupByUser(entries: readonly PqcKeyDocument[]): Map<string, PqcKeyDocument[]> {
  const groups = new Map<string, PqcKeyDocument[]>();
  for (const entry of entries) {
    const key = entry.userId.toHexString();
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return groups;
}

/** Resolves every pending entry created at least `minAgeMs` ago; safe to repeat. */
export async function repairPendingKeys(
  context: StoreContext,
  options: RepairOptions = {},
): Promise<RepairReport> {
  const report: RepairReport = { promoted: 0, discarded: 0, retired: 0, skipped: 0 };
  const cutoff = new Date(Date.now() - (options.minAgeMs ?? 0));
  const pending = await context.pqcKeys
    .find({ status: 'pending', createdAt: { $lte: cutoff } })
    .toArray();
  if (pending.length === 0) return report;

  const groups = [...groupByUser(pending).values()];
  for (let start = 0; start < groups.length; start += REPAIR_BATCH_SIZE) {
    await repairBatch(context, groups.slice(start, start + REPAIR_BATCH_SIZE), report);
  }

  context.logger.info({ ...report }, 'resolved pending key entries');
  return report;
}

async function repairBatch(
  context: StoreContext,
  groups: readonly PqcKeyDocument[][],
  report: RepairReport,
): Promise<void> {
  let userIds: ObjectId[] = groups.map((entries) => entries[0]!.userId);
  let leases: Lease[] = [];

  if (!context.server.atomicUpdates) {
    const leaseResult = await acquireUserLeases(
      context,
      userIds,
      context.userLeaseTtlMs,
      context.userLeaseWaitMs,
    );
    leases = leaseResult.leases;
    userIds = leaseResult.acquired;
    const heldIds = new Set(leaseResult.held.map((id) => id.toHexString()));
    for (const entries of groups) {
      if (heldIds.has(entries[0]!.userId.toHexString())) report.skipped += entries.length;
    }
    if (leaseResult.held.length > 0) {
      context.logger.warn(
        { users: leaseResult.held.length },
        'pending key entries of users whose lease stayed held were left for the next repair',
      );
    }
  }

  try {
    await resolveEntries(context, groups, userIds, report);
  } finally {
    await context.leases.releaseAll(leases);
  }
}

async function resolveEntries(
  context: StoreContext,
  groups: readonly PqcKeyDocument[][],
  userIds: readonly ObjectId[],
  report: RepairReport,
): Promise<void> {
  if (userIds.length === 0) return;

  const users = await context.users
    .find({ _id: { $in: [...userIds] } }, { projection: { pqcKeyId: 1 } })
    .toArray();
  const referenced = new Map(users.map((user) => [user._id.toHexString(), user.pqcKeyId]));
  const included = new Set(userIds.map((id) => id.toHexString()));

  const promoted: PqcKeyDocument[] = [];
  const discarded: string[] = [];
  for (const entries of groups) {
    const user = entries[0]!.userId.toHexString();
    if (!included.has(user)) continue;
    for (const entry of entries) {
      if (referenced.get(user) === entry._id) promoted.push(entry);
      else discarded.push(entry._id);
    }
  }

  if (promoted.length > 0) {
    const result = await context.pqcKeys.updateMany(
      { _id: { $in: promoted.map((entry) => entry._id) }, status: 'pending' },
      { $set: { status: 'current' } },
    );
    report.promoted += result.modifiedCount;
    report.retired += await retireSuperseded(context, promoted);
  }
  if (discarded.length > 0) {
    const result = await context.pqcKeys.deleteMany({
      _id: { $in: discarded },
      status: 'pending',
    });
    report.discarded += result.deletedCount;
  }
}

/**
 * Retires the current entries that a promoted entry replaced: those of the same user created
 * before it. A rotation that stopped after its user update leaves such an entry behind. Entries
 * created later belong to a rotation that followed, so they stay current.
 */
async function retireSuperseded(
  context: StoreContext,
  promoted: readonly PqcKeyDocument[],
): Promise<number> {
  const newest = new Map(promoted.map((entry) => [entry.userId.toHexString(), entry]));
  const candidates = await context.pqcKeys
    .find(
      {
        userId: { $in: promoted.map((entry) => entry.userId) },
        status: 'current',
        _id: { $nin: promoted.map((entry) => entry._id) },
      },
      { projection: { userId: 1, createdAt: 1 } },
    )
    .toArray();

  const superseded = candidates.filter((candidate) => {
    const replacement = newest.get(candidate.userId.toHexString());
    return replacement !== undefined && candidate.createdAt < replacement.createdAt;
  });
  if (superseded.length === 0) return 0;

  const result = await context.pqcKeys.updateMany(
    { _id: { $in: superseded.map((entry) => entry._id) }, status: 'current' },
    { $set: { status: 'retired', retiredAt: new Date() } },
  );
  return result.modifiedCount;
}

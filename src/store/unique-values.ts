/**
 * Uniqueness of `qynAuthUserId` on servers without partial indexes.
 *
 * On MongoDB a unique index partial on `{ qynAuthUserId: { $type: "string" } }` admits any number
 * of users without the field, or with an explicit null that the Portal Backend's model may write.
 * FerretDB v1.24 has no partial indexes, and its SQLite backend indexes an explicit null as a
 * value, so a plain unique index would reject the second Portal signup. There the store claims
 * each value with an insert into a collection keyed by the value instead; the unique `_id` makes
 * the claim atomic. Key ids need no such collection: `pqcKeys` is keyed by key id already.
 */
import type { Collection, ObjectId } from 'mongodb';
import type { StoreContext } from './context.js';
import { StoreConflictError } from './errors.js';
import { isDuplicateKey } from './lease.js';
import { COLLECTIONS } from './schema.js';

/** A claim of one `qynAuthUserId` value by one user. */
export interface QynAuthUserIdClaim {
  _id: string;
  userId: ObjectId;
  claimedAt: Date;
}

/** Returns whether the store keeps `qynAuthUserId` unique through claims. */
export function usesClaims(context: StoreContext): boolean {
  return !context.server.partialIndexes;
}

function claims(context: StoreContext): Collection<QynAuthUserIdClaim> {
  return context.db.collection<QynAuthUserIdClaim>(COLLECTIONS.qynAuthUserIds);
}

/**
 * Claims `value` for `userId`. Throws `StoreConflictError` when another user holds it; claiming a
 * value the same user already holds succeeds. Does nothing on servers with partial indexes.
 */
export async function claimQynAuthUserId(
  context: StoreContext,
  value: string,
  userId: ObjectId,
): Promise<void> {
  if (!usesClaims(context)) return;

  try {
    await claims(context).insertOne({ _id: value, userId, claimedAt: new Date() });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;

    const holder = await claims(context).findOne({ _id: value });
    if (holder !== null && holder.userId.equals(userId)) return;
    throw new StoreConflictError(
      `qynAuthUserId ${JSON.stringify(value)} already belongs to user ` +
        `${holder?.userId.toHexString() ?? 'unknown'}; use another id`,
      { cause: error },
    );
  }
}

/** Removes the claim of `value` by `userId`, after a failed insert or when the value is unset. */
export async function releaseQynAuthUserId(
  context: StoreContext,
  value: string,
  userId: ObjectId,
): Promise<void> {
  if (!usesClaims(context)) return;
  await claims(context).deleteOne({ _id: value, userId });
}

/** Differences found and fixed by {@link syncQynAuthUserIdClaims}. */
export interface ClaimSyncReport {
  /** Claims inserted for users that had none. */
  added: number;
  /** Claims removed because no user holds the value any more. */
  removed: number;
  /** Values held by more than one user; these are left for an operator to resolve. */
  duplicates: string[];
}

/**
 * Makes the claims match the users: one claim per string `qynAuthUserId`, none for values no
 * user holds. Run by migration 001 `up` and safe to repeat.
 */
export async function syncQynAuthUserIdClaims(context: StoreContext): Promise<ClaimSyncReport> {
  const holders = new Map<string, ObjectId[]>();
  const cursor = context.users.find(
    { qynAuthUserId: { $type: 'string' } },
    { projection: { _id: 1, qynAuthUserId: 1 } },
  );
  for await (const user of cursor) {
    const value = user.qynAuthUserId as string;
    holders.set(value, [...(holders.get(value) ?? []), user._id]);
  }

  const report: ClaimSyncReport = { added: 0, removed: 0, duplicates: [] };
  const existing = new Map<string, ObjectId>();
  for await (const claim of claims(context).find({})) existing.set(claim._id, claim.userId);

  const stale = [...existing].filter(([value, userId]) => {
    const users = holders.get(value);
    return users === undefined || !users.some((id) => id.equals(userId));
  });
  if (stale.length > 0) {
    const result = await claims(context).deleteMany({ _id: { $in: stale.map(([value]) => value) } });
    report.removed = result.deletedCount;
    for (const [value] of stale) existing.delete(value);
  }

  const missing: QynAuthUserIdClaim[] = [];
  for (const [value, users] of holders) {
    if (users.length > 1) report.duplicates.push(value);
    const [first] = users;
    if (users.length === 1 && first !== undefined && !existing.has(value)) {
      missing.push({ _id: value, userId: first, claimedAt: new Date() });
    }
  }
  if (missing.length > 0) {
    const result = await claims(context).insertMany(missing, { ordered: false });
    report.added = result.insertedCount;
  }
  return report;
}

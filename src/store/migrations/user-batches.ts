/**
 * Batched read-modify-write of many user documents, safe next to the store's own writers.
 *
 * On MongoDB each write is an `updateOne` whose filter repeats the values the plan read, so a
 * concurrent change makes it match nothing, and the batch is then read and planned again. On
 * FerretDB v1 an update is not atomic and a filter other than `{ _id }` scans the collection, so
 * there the batch holds the users' write leases (the ones `updateUser` in user-writes.ts takes),
 * reads each user by `_id` and writes with `{ _id }` filters. Plans must be idempotent: they see
 * the current document and return only what is still missing, because a batch may be planned
 * more than once.
 */
import type {
  AnyBulkWriteOperation,
  Collection,
  Document,
  Filter,
  ObjectId,
  UpdateFilter,
} from 'mongodb';
import type { StoreContext } from '../context.js';
import { StoreConflictError } from '../errors.js';
import type { Lease } from '../lease.js';
import type { UserDocument } from '../schema.js';
import type { UserChange } from '../user-writes.js';
import { userLeaseKey } from '../user-writes.js';

/** Point reads in flight at once on FerretDB. */
const FERRETDB_READ_CONCURRENCY = 8;
/** Maximum read-plan-write rounds of a batch on MongoDB before a conflict error. */
const MAX_CONDITIONAL_ROUNDS = 20;
/** Longest pause between two tries of held user leases, in milliseconds. */
const MAX_LEASE_PAUSE_MS = 200;

/** Computes the change one user still needs, or null when it needs none. */
export type UserBatchPlanner = (user: UserDocument) => UserChange | null;

/** Options of {@link updateUserBatch}. */
export interface UserBatchOptions {
  /** Computes each user's change from its current document. */
  plan: UserBatchPlanner;
  /** Every top-level field the plan reads; only these are fetched. */
  readFields: readonly string[];
  /** Awaited before every write; rejects to stop, for example when the migration lock was lost. */
  beforeWrite: () => Promise<void>;
  /**
   * Runs after the users were read and planned and before they are written, with the users
   * that have a change. Used to save values before they are removed.
   */
  beforeUserWrite?: (users: readonly UserDocument[]) => Promise<void>;
}

/** Summed counts of {@link bulkWriteChunked}. */
export interface BulkWriteCounts {
  matchedCount: number;
  modifiedCount: number;
  deletedCount: number;
  upsertedCount: number;
}

interface PlannedWrite {
  user: UserDocument;
  update: UpdateFilter<UserDocument>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `operations` as unordered `bulkWrite` calls of at most the server's `maxWriteStatements`
 * each. Resolves with the summed counts.
 */
export async function bulkWriteChunked<T extends Document>(
  context: StoreContext,
  collection: Collection<T>,
  operations: readonly AnyBulkWriteOperation<T>[],
): Promise<BulkWriteCounts> {
  const total: BulkWriteCounts = {
    matchedCount: 0,
    modifiedCount: 0,
    deletedCount: 0,
    upsertedCount: 0,
  };
  const size = context.server.maxWriteStatements;

  for (let start = 0; start < operations.length; start += size) {
    const chunk = operations.slice(start, start + size);
    const result = await collection.bulkWrite(chunk, { ordered: false });
    total.matchedCount += result.matchedCount;
    total.modifiedCount += result.modifiedCount;
    total.deletedCount += result.deletedCount;
    total.upsertedCount += result.upsertedCount;
  }
  return total;
}

/** Returns the `$set` / `$unset` update of `change`, or null when it changes nothing. */
export function toUpdate(change: UserChange | null): UpdateFilter<UserDocument> | null {
  if (change === null) return null;

  const update: Record<string, unknown> = {};
  const set = change.set ?? {};
  if (Object.keys(set).length > 0) update.$set = set;
  const unset = change.unset ?? [];
  if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((field) => [field, '']));
  return Object.keys(update).length === 0 ? null : (update as UpdateFilter<UserDocument>);
}

/** Returns a filter that matches `user` only while `fields` still have the values read. */
function guardFilter(user: UserDocument, fields: readonly string[]): Filter<UserDocument> {
  const filter: Record<string, unknown> = { _id: user._id };
  for (const field of fields) {
    const value = (user as unknown as Record<string, unknown>)[field];
    if (value === undefined) filter[field] = { $exists: false };
    else if (value === null) filter[field] = { $type: 'null' };
    else filter[field] = { $eq: value };
  }
  return filter as Filter<UserDocument>;
}

/**
 * Reads the users with `ids`. On MongoDB one `$in` query uses the `_id` index. FerretDB pushes
 * only a filter of exactly `{ _id }` down to SQLite and scans the collection for `$in`, so
 * there the users are read one by one, a few at a time.
 */
async function readUsers(
  context: StoreContext,
  ids: readonly ObjectId[],
  projection: Document,
): Promise<UserDocument[]> {
  if (context.server.kind !== 'ferretdb') {
    return context.users.find({ _id: { $in: [...ids] } }, { projection }).toArray();
  }

  const users: UserDocument[] = [];
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next]!;
      next += 1;
      const user = await context.users.findOne({ _id: id }, { projection });
      if (user !== null) users.push(user);
    }
  };
  const readers = Math.min(FERRETDB_READ_CONCURRENCY, ids.length);
  await Promise.all(Array.from({ length: readers }, reader));
  return users;
}

async function readAndPlan(
  context: StoreContext,
  ids: readonly ObjectId[],
  options: UserBatchOptions,
): Promise<PlannedWrite[]> {
  const projection: Document = { _id: 1 };
  for (const field of options.readFields) projection[field] = 1;

  const writes: PlannedWrite[] = [];
  for (const user of await readUsers(context, ids, projection)) {
    const update = toUpdate(options.plan(user));
    if (update !== null) writes.push({ user, update });
  }
  return writes;
}

async function writeConditionally(
  context: StoreContext,
  ids: readonly ObjectId[],
  options: UserBatchOptions,
): Promise<number> {
  let pending = ids;
  let modified = 0;

  for (let round = 1; round <= MAX_CONDITIONAL_ROUNDS; round += 1) {
    const writes = await readAndPlan(context, pending, options);
    if (writes.length === 0) return modified;

    await options.beforeUserWrite?.(writes.map((write) => write.user));
    await options.beforeWrite();
    const operations = writes.map((write) => ({
      updateOne: { filter: guardFilter(write.user, options.readFields), update: write.update },
    }));
    const result = await bulkWriteChunked(context, context.users, operations);
    modified += result.modifiedCount;
    if (result.matchedCount === writes.length) return modified;

    // Some users changed after the read. Plan the batch again on a fresh read, where users
    // already written plan no change.
    pending = writes.map((write) => write.user._id);
    const changed = writes.length - result.matchedCount;
    context.logger.debug({ round, changed }, 'users changed concurrently; planning again');
  }

  throw new StoreConflictError(
    `users kept changing during ${MAX_CONDITIONAL_ROUNDS} rounds of a batched update; retry later`,
  );
}

async function writeAcquired(
  context: StoreContext,
  acquired: ReadonlyMap<string, Lease>,
  byKey: ReadonlyMap<string, ObjectId>,
  options: UserBatchOptions,
): Promise<number> {
  try {
    const ids = [...acquired.keys()].map((key) => byKey.get(key)!);
    const writes = await readAndPlan(context, ids, options);
    if (writes.length === 0) return 0;

    await options.beforeUserWrite?.(writes.map((write) => write.user));
    await options.beforeWrite();
    // NOTE: the leases last the context's userLeaseTtlMs (default 10 s) and are not renewed, so
    // a batch whose writes take longer may overlap a store writer that took an expired lease
    // over. Lower the batch size on a server where one batch comes close to that.
    const operations = writes.map((write) => ({
      updateOne: { filter: { _id: write.user._id }, update: write.update },
    }));
    return (await bulkWriteChunked(context, context.users, operations)).modifiedCount;
  } finally {
    await context.leases.releaseAll(acquired.values());
  }
}

async function writeUnderLeases(
  context: StoreContext,
  ids: readonly ObjectId[],
  options: UserBatchOptions,
): Promise<number> {
  const byKey = new Map(ids.map((id) => [userLeaseKey(id), id]));
  const deadline = Date.now() + context.userLeaseWaitMs;
  let pauseMs = 10;
  let modified = 0;

  for (;;) {
    const keys = [...byKey.keys()];
    const attempt = await context.leases.tryAcquire(keys, context.userLeaseTtlMs);
    const { acquired, holders, expired } = attempt;
    if (expired.size > 0) {
      const previousOwners = [...new Set([...expired.values()].map((lease) => lease.owner))];
      context.logger.warn({ count: expired.size, previousOwners }, 'took over expired user leases');
    }

    if (acquired.size > 0) modified += await writeAcquired(context, acquired, byKey, options);
    for (const key of acquired.keys()) byKey.delete(key);
    if (byKey.size === 0) return modified;

    if (Date.now() >= deadline) {
      const [holder] = holders.values();
      const example = holder === undefined ? '' : ` such as ${holder.owner}`;
      throw new StoreConflictError(
        `${byKey.size} users stayed locked by other writers${example} for ` +
          `${context.userLeaseWaitMs} ms; retry later`,
      );
    }
    await sleep(pauseMs / 2 + (Math.random() * pauseMs) / 2);
    pauseMs = Math.min(pauseMs * 2, MAX_LEASE_PAUSE_MS);
  }
}

/**
 * Applies `options.plan` to the users with `ids` and resolves with the number of documents
 * modified. Rejects with `StoreConflictError` when other writers hold users longer than the
 * context's lease wait (FerretDB) or keep changing them (MongoDB), and with whatever
 * `beforeWrite` or `beforeUserWrite` rejects with.
 */
export async function updateUserBatch(
  context: StoreContext,
  ids: readonly ObjectId[],
  options: UserBatchOptions,
): Promise<number> {
  if (ids.length === 0) return 0;
  return context.server.atomicUpdates
    ? writeConditionally(context, ids, options)
    : writeUnderLeases(context, ids, options);
}

/**
 * The writes of one bulk enrollment batch, in few round trips: pending history entries with one
 * unordered `insertMany`, the user updates with unordered `bulkWrite`, then one `updateMany`
 * that marks the winners' entries current and one `deleteMany` for the losers' entries.
 *
 * On MongoDB each user update is guarded by its filter (`_id` and no key yet), which is atomic.
 * On FerretDB v1 updates are not atomic and only an exact `{ _id }` filter uses the index, so
 * the batch holds the users' write leases instead, checks under them which users still lack a
 * key, and updates by `_id` alone.
 */
import { MongoBulkWriteError } from 'mongodb';
import type { AnyBulkWriteOperation, ObjectId } from 'mongodb';
import { acquireUserLeases } from './batch-leases.js';
import type { StoreContext } from './context.js';
import type { KeyRecord } from './key-records.js';
import { readKeyIds, WITHOUT_KEY } from './key-records.js';
import type { UserKeyPairs } from './key-source.js';
import type { Lease } from './lease.js';
import type { UserDocument } from './schema.js';

/** A user of a batch and the key pairs generated for them. */
export interface BatchUser {
  userId: ObjectId;
  email: string;
  pairs: UserKeyPairs;
  record: KeyRecord;
}

/** The users of a batch, sorted by outcome. */
export interface BatchOutcome {
  /** Users now referencing their new key pair. */
  enrolled: BatchUser[];
  /** Users another writer enrolled (or deleted) after the batch read them. */
  conflicts: BatchUser[];
  /** Users whose write lease another writer held; nothing was written for them. */
  leaseHeld: BatchUser[];
  /** Users whose history entry the server rejected; nothing else was written for them. */
  failed: BatchUser[];
}

/** Milliseconds spent in each kind of write, summed over batches. */
export interface WriteTimings {
  /** Acquiring and releasing user leases (FerretDB only). */
  leaseMs: number;
  /** Reading which users still lack a key, under the leases or after lost guards. */
  checkMs: number;
  /** Inserting pending entries and marking them current or deleting them. */
  historyMs: number;
  /** Updating the user documents. */
  userWriteMs: number;
}

/** Settings of {@link writeBatch}. */
export interface BatchSettings {
  /** Driver `timeoutMS` of every operation. */
  operationTimeoutMs: number;
  /** Lifetime of the batch's user leases, in milliseconds. */
  leaseTtlMs: number;
  /** Milliseconds to retry held user leases; 0 tries once. */
  leaseWaitMs: number;
  /** Receives the time of each kind of write. */
  timings: WriteTimings;
  /** Receives the step about to run, for error messages. */
  onStep: (step: string) => void;
}

async function timed<T>(
  timings: WriteTimings,
  field: keyof WriteTimings,
  action: () => Promise<T>,
): Promise<T> {
  const start = performance.now();
  try {
    return await action();
  } finally {
    timings[field] += performance.now() - start;
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}

/** Writes the keys of `users`; see the module comment for the steps. */
export async function writeBatch(
  context: StoreContext,
  users: readonly BatchUser[],
  settings: BatchSettings,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { enrolled: [], conflicts: [], leaseHeld: [], failed: [] };
  let working = [...users];
  let leases: Lease[] = [];
  let written = false;

  try {
    if (!context.server.atomicUpdates) {
      settings.onStep('acquiring user leases');
      const leaseResult = await timed(settings.timings, 'leaseMs', () =>
        acquireUserLeases(
          context,
          working.map((user) => user.userId),
          settings.leaseTtlMs,
          settings.leaseWaitMs,
        ),
      );
      leases = leaseResult.leases;
      const heldIds = new Set(leaseResult.held.map((id) => id.toHexString()));
      outcome.leaseHeld = working.filter((user) => heldIds.has(user.userId.toHexString()));
      working = working.filter((user) => !heldIds.has(user.userId.toHexString()));

      settings.onStep('checking which users still lack keys');
      const stillWithout = await timed(settings.timings, 'checkMs', () =>
        usersWithoutKey(context, working, settings),
      );
      const lacksKey = (user: BatchUser): boolean => stillWithout.has(user.userId.toHexString());
      outcome.conflicts.push(...working.filter((user) => !lacksKey(user)));
      working = working.filter(lacksKey);
    }

    settings.onStep('inserting pending key entries');
    const rejected = await timed(settings.timings, 'historyMs', () =>
      insertPending(context, working, settings),
    );
    outcome.failed = working.filter((_, index) => rejected.has(index));
    working = working.filter((_, index) => !rejected.has(index));

    settings.onStep('updating users');
    const { won, lost } = await updateUsers(context, working, settings);
    outcome.enrolled = won;
    outcome.conflicts.push(...lost);

    settings.onStep('marking key entries current');
    await timed(settings.timings, 'historyMs', () => settleEntries(context, won, lost, settings));
    written = true;
    return outcome;
  } finally {
    // After a failure the server may be gone, and the release would first wait for server
    // selection. It runs in the background then, and the leases expire if it fails.
    const release = leases.length > 0 ? releaseLeases(context, leases, settings.timings) : undefined;
    if (written) await release;
  }
}

/** Returns the hex ids of `users` whose document exists and has no key pair. */
async function usersWithoutKey(
  context: StoreContext,
  users: readonly BatchUser[],
  settings: BatchSettings,
): Promise<Set<string>> {
  const keyIds = await readKeyIds(
    context,
    users.map((user) => user.userId),
    settings.operationTimeoutMs,
  );
  return new Set([...keyIds].filter(([, keyId]) => keyId === null).map(([id]) => id));
}

/** Inserts the pending entries; returns the indexes of `users` whose insert was rejected. */
async function insertPending(
  context: StoreContext,
  users: readonly BatchUser[],
  settings: BatchSettings,
): Promise<Set<number>> {
  if (users.length === 0) return new Set();
  try {
    await context.pqcKeys.insertMany(
      users.map((user) => user.record.history),
      { ordered: false, timeoutMS: settings.operationTimeoutMs },
    );
    return new Set();
  } catch (error) {
    const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
    if (writeErrors.length === 0) throw error;

    for (const writeError of writeErrors) {
      context.logger.error(
        { userId: users[writeError.index]?.userId, code: writeError.code },
        'pending key entry rejected; the user is left without keys for a rerun',
      );
    }
    return new Set(writeErrors.map((writeError) => writeError.index));
  }
}

/** Updates the users and returns which now reference their new key and which do not. */
async function updateUsers(
  context: StoreContext,
  users: readonly BatchUser[],
  settings: BatchSettings,
): Promise<{ won: BatchUser[]; lost: BatchUser[] }> {
  if (users.length === 0) return { won: [], lost: [] };
  const guarded = context.server.atomicUpdates;
  const perCommand = context.server.maxWriteStatements;

  let matched = 0;
  await timed(settings.timings, 'userWriteMs', async () => {
    for (const chunk of chunks(users, perCommand)) {
      const operations: AnyBulkWriteOperation<UserDocument>[] = chunk.map((user) => ({
        updateOne: {
          filter: guarded ? { _id: user.userId, ...WITHOUT_KEY } : { _id: user.userId },
          update: { $set: user.record.userFields },
        },
      }));
      matched += await bulkUpdate(context, operations, settings);
    }
  });
  if (matched === users.length) return { won: [...users], lost: [] };

  // Some guards did not match: read which users reference the key written for them.
  const referenced = await timed(settings.timings, 'checkMs', () =>
    readKeyIds(
      context,
      users.map((user) => user.userId),
      settings.operationTimeoutMs,
    ),
  );
  const won = users.filter(
    (user) => referenced.get(user.userId.toHexString()) === user.record.keyId,
  );
  return { won, lost: users.filter((user) => !won.includes(user)) };
}

/** Runs one unordered bulkWrite and returns its matched count, also when some writes failed. */
async function bulkUpdate(
  context: StoreContext,
  operations: AnyBulkWriteOperation<UserDocument>[],
  settings: BatchSettings,
): Promise<number> {
  try {
    const result = await context.users.bulkWrite(operations, {
      ordered: false,
      timeoutMS: settings.operationTimeoutMs,
    });
    return result.matchedCount;
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError) || [error.writeErrors].flat().length === 0) {
      throw error;
    }
    context.logger.error(
      { err: error, failedUpdates: [error.writeErrors].flat().length },
      'some user updates were rejected; those users are left without keys for a rerun',
    );
    return error.result.matchedCount;
  }
}

/**
 * Marks the winners' entries current and deletes the losers' pending entries. Under leases
 * (FerretDB) the winners' entries are updated by `_id` in chunks, because there an `updateMany`
 * over `$in` scans the whole of `pqcKeys`. The leases keep the repair step away meanwhile.
 */
async function settleEntries(
  context: StoreContext,
  won: readonly BatchUser[],
  lost: readonly BatchUser[],
  settings: BatchSettings,
): Promise<void> {
  const timeoutMS = settings.operationTimeoutMs;
  if (won.length > 0 && !context.server.atomicUpdates) {
    for (const chunk of chunks(won, context.server.maxWriteStatements)) {
      await context.pqcKeys.bulkWrite(
        chunk.map((user) => ({
          updateOne: {
            filter: { _id: user.record.keyId },
            update: { $set: { status: 'current' as const } },
          },
        })),
        { ordered: false, timeoutMS },
      );
    }
  } else if (won.length > 0) {
    await context.pqcKeys.updateMany(
      { _id: { $in: won.map((user) => user.record.keyId) }, status: 'pending' },
      { $set: { status: 'current' } },
      { timeoutMS },
    );
  }

  if (lost.length > 0) {
    await context.pqcKeys.deleteMany(
      { _id: { $in: lost.map((user) => user.record.keyId) }, status: 'pending' },
      { timeoutMS },
    );
  }
}

/** Releases the batch's leases; a failure is logged, because the leases expire on their own. */
async function releaseLeases(
  context: StoreContext,
  leases: readonly Lease[],
  timings: WriteTimings,
): Promise<void> {
  try {
    await timed(timings, 'leaseMs', () => context.leases.releaseAll(leases));
  } catch (error) {
    context.logger.warn(
      { err: error, leases: leases.length },
      'could not release user leases; they expire after their TTL',
    );
  }
}

/**
 * The reversible part of migration 001: `down` saves each user's PQC fields into
 * `pqcMigrationBackup` before it removes them, and the next `up` puts back what is missing.
 *
 * A backup entry is keyed by the user's `_id` and contains the removed values as they were stored,
 * so BSON dates stay dates. The key fields (`PQC_KEY_FIELDS`) describe one key pair and move as
 * a group: a backup never mixes fields of two key pairs, and a restore writes them only to a user
 * who has none. A user who got a new key pair between `down` and `up` keeps it. The entry then
 * stays, flagged with `conflict`, and is reported. Users whose only PQC fields are the defaults
 * need no entry, because `up` writes the same defaults again.
 */
import type { AnyBulkWriteOperation, Collection, Document, Filter, ObjectId } from 'mongodb';
import type { StoreContext } from '../context.js';
import { COLLECTIONS, FIELD_DEFAULTS, PQC_FIELDS, PQC_KEY_FIELDS } from '../schema.js';
import type { UserDocument } from '../schema.js';
import type { UserChange } from '../user-writes.js';
import type { MigrationRun } from './index.js';
import { bulkWriteChunked, updateUserBatch } from './user-batches.js';

/** A field migration 001 `down` removes. */
export type PqcField = (typeof PQC_FIELDS)[number];

/** A document of `pqcMigrationBackup`: the PQC fields `down` removed from one user. */
export interface PqcFieldBackup {
  /** The user's `_id`. */
  _id: ObjectId;
  /** Id of the migration whose `down` saved it. */
  migration: string;
  /** The removed values, as stored. */
  fields: Partial<Pick<UserDocument, PqcField>>;
  /** When `down` last wrote the entry. */
  savedAt: Date;
  /** Set by `up` when the user got a different key pair after `down`; the user's keys were kept. */
  conflict?: { currentKeyId: string | null; detectedAt: Date };
}

/** Counts of {@link backUpAndRemovePqcFields}. */
export interface RemovalReport {
  /** Users whose PQC fields were removed. */
  usersChanged: number;
  /** Backup entries written or merged. */
  backupsWritten: number;
}

/** Counts and ids of {@link restorePqcFields}. */
export interface RestoreReport {
  /** Users who got saved fields back. */
  restored: number;
  /** Users who had every saved value already, for example when a rerun follows a crash. */
  alreadyPresent: number;
  /** Users who got another key pair after `down`; their new keys were kept. */
  keyConflicts: number;
  /** Up to 100 ids of users with a key conflict, as hex strings. */
  keyConflictUserIds: string[];
  /** Entries removed because their user no longer exists. */
  orphanedEntries: number;
}

type RestoreOutcome = 'restored' | 'present' | 'conflict';

/** Most user ids listed in a report; counts stay exact. */
const MAX_LISTED_IDS = 100;

const FLAG_FIELDS = ['pqcEnabled', 'classicalFallback'] as const;

function backups(context: StoreContext): Collection<PqcFieldBackup> {
  return context.db.collection<PqcFieldBackup>(COLLECTIONS.migrationBackup);
}

function field(user: UserDocument, name: string): unknown {
  return (user as unknown as Record<string, unknown>)[name];
}

function hasValue(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function hasKeyFields(user: UserDocument): boolean {
  return PQC_KEY_FIELDS.some((name) => hasValue(field(user, name)));
}

/** Returns whether `down` must save `user`'s fields: keys, or flags other than the defaults. */
function needsBackup(user: UserDocument): boolean {
  if (hasKeyFields(user)) return true;
  return FLAG_FIELDS.some((name) => {
    const value = field(user, name);
    return value !== undefined && value !== FIELD_DEFAULTS[name];
  });
}

/** Returns the update that merges `user`'s current PQC fields into its backup entry. */
function backupUpdate(
  migration: string,
  user: UserDocument,
  now: Date,
): AnyBulkWriteOperation<PqcFieldBackup> {
  const set: Document = { migration, savedAt: now };
  const unset: Document = { conflict: '' };

  // Flags merge one by one. Key fields are replaced as a group when the user has keys and left
  // alone otherwise, so a rerun after a crash never replaces saved keys with nothing.
  for (const name of FLAG_FIELDS) {
    const value = field(user, name);
    if (hasValue(value)) set[`fields.${name}`] = value;
  }
  if (hasKeyFields(user)) {
    for (const name of PQC_KEY_FIELDS) {
      const value = field(user, name);
      if (hasValue(value)) set[`fields.${name}`] = value;
      else unset[`fields.${name}`] = '';
    }
  }

  const update = { $set: set, $unset: unset };
  return { updateOne: { filter: { _id: user._id }, update, upsert: true } };
}

async function idsMatching<T extends { _id: ObjectId }>(
  collection: Collection<T>,
  filter: Filter<T>,
): Promise<ObjectId[]> {
  const documents = await collection.find(filter, { projection: { _id: 1 } }).toArray();
  return documents.map((document) => document._id);
}

/**
 * Saves the PQC fields of every user who has keys or non-default flags into the backup, then
 * unsets every PQC field, batch by batch. Each batch writes its backup entries before it
 * removes anything, so a crash loses no value.
 */
export async function backUpAndRemovePqcFields(
  run: MigrationRun,
  migration: string,
): Promise<RemovalReport> {
  const { context } = run;
  const filter = { $or: PQC_FIELDS.map((name) => ({ [name]: { $exists: true } })) };
  const ids = await idsMatching(context.users, filter);
  const report: RemovalReport = { usersChanged: 0, backupsWritten: 0 };

  const plan = (user: UserDocument): UserChange | null => {
    const present = PQC_FIELDS.filter((name) => field(user, name) !== undefined);
    return present.length === 0 ? null : { unset: present };
  };
  const saveBackups = async (users: readonly UserDocument[]): Promise<void> => {
    const saved = users.filter(needsBackup);
    if (saved.length === 0) return;

    await run.ensureLock();
    const now = new Date();
    const operations = saved.map((user) => backupUpdate(migration, user, now));
    await bulkWriteChunked(context, backups(context), operations);
    report.backupsWritten += saved.length;
  };

  for (let start = 0; start < ids.length; start += run.batchSize) {
    const batch = ids.slice(start, start + run.batchSize);
    const options = {
      readFields: PQC_FIELDS,
      beforeWrite: run.ensureLock,
      plan,
      beforeUserWrite: saveBackups,
    };
    report.usersChanged += await updateUserBatch(context, batch, options);
  }
  return report;
}

/** Returns the number of backup entries flagged with a key conflict by an earlier `up`. */
export async function countConflicts(context: StoreContext): Promise<number> {
  return backups(context).countDocuments({ conflict: { $exists: true } });
}

function planRestore(
  user: UserDocument,
  saved: PqcFieldBackup['fields'],
): { change: UserChange | null; outcome: RestoreOutcome } {
  const set: Record<string, unknown> = {};
  let conflict = false;
  const savedKeys = PQC_KEY_FIELDS.filter((name) => hasValue(saved[name]));

  if (savedKeys.length > 0 && !hasKeyFields(user)) {
    for (const name of savedKeys) set[name] = saved[name];
  } else if (savedKeys.length > 0 && user.pqcKeyId === saved.pqcKeyId) {
    for (const name of savedKeys) {
      if (field(user, name) === undefined) set[name] = saved[name];
    }
  } else if (savedKeys.length > 0) {
    conflict = true;
  }
  for (const name of FLAG_FIELDS) {
    if (hasValue(saved[name]) && field(user, name) === undefined) set[name] = saved[name];
  }

  const changed = Object.keys(set).length > 0;
  const change = changed ? { set: set as Partial<UserDocument> } : null;
  let outcome: RestoreOutcome = changed ? 'restored' : 'present';
  if (conflict) outcome = 'conflict';
  return { change, outcome };
}

/**
 * Puts back the saved PQC fields that users are missing, then removes their backup entries.
 * Entries of users with a key conflict stay, flagged, and are counted in the report.
 */
export async function restorePqcFields(
  run: MigrationRun,
  migration: string,
): Promise<RestoreReport> {
  const { context } = run;
  const report: RestoreReport = {
    restored: 0,
    alreadyPresent: 0,
    keyConflicts: 0,
    keyConflictUserIds: [],
    orphanedEntries: 0,
  };
  const ids = await idsMatching(backups(context), { migration, conflict: { $exists: false } });

  for (let start = 0; start < ids.length; start += run.batchSize) {
    const batch = ids.slice(start, start + run.batchSize);
    const entries = await backups(context)
      .find({ _id: { $in: batch } })
      .toArray();
    const saved = new Map(entries.map((entry) => [entry._id.toHexString(), entry]));
    const outcomes = new Map<string, { outcome: RestoreOutcome; currentKeyId: string | null }>();

    const plan = (user: UserDocument): UserChange | null => {
      const entry = saved.get(user._id.toHexString());
      if (entry === undefined) return null;
      const { change, outcome } = planRestore(user, entry.fields);
      outcomes.set(user._id.toHexString(), { outcome, currentKeyId: user.pqcKeyId ?? null });
      return change;
    };
    const userIds = entries.map((entry) => entry._id);
    const options = { readFields: PQC_FIELDS, beforeWrite: run.ensureLock, plan };
    await updateUserBatch(context, userIds, options);
    await settleEntries(run, entries, outcomes, report);
  }
  return report;
}

/** Deletes the entries that were restored or lost their user, and flags the conflicts. */
async function settleEntries(
  run: MigrationRun,
  entries: readonly PqcFieldBackup[],
  outcomes: ReadonlyMap<string, { outcome: RestoreOutcome; currentKeyId: string | null }>,
  report: RestoreReport,
): Promise<void> {
  const operations: AnyBulkWriteOperation<PqcFieldBackup>[] = [];
  const detectedAt = new Date();

  for (const entry of entries) {
    const id = entry._id.toHexString();
    const result = outcomes.get(id);
    if (result?.outcome === 'conflict') {
      report.keyConflicts += 1;
      if (report.keyConflictUserIds.length < MAX_LISTED_IDS) report.keyConflictUserIds.push(id);
      const conflict = { currentKeyId: result.currentKeyId, detectedAt };
      const update = { $set: { conflict } };
      operations.push({ updateOne: { filter: { _id: entry._id }, update } });
      continue;
    }

    if (result === undefined) report.orphanedEntries += 1;
    else if (result.outcome === 'restored') report.restored += 1;
    else report.alreadyPresent += 1;
    operations.push({ deleteOne: { filter: { _id: entry._id } } });
  }

  if (operations.length === 0) return;
  await run.ensureLock();
  await bulkWriteChunked(run.context, backups(run.context), operations);
}

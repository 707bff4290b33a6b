/**
 * Migration 001: the PQC fields on `users`, their indexes, and the indexes of `pqcKeys`.
 *
 * `up` runs these steps, each safe to rerun:
 * 1. It puts back the PQC fields an earlier `down` saved (pqc-field-backup.ts).
 * 2. It sets `pqcEnabled: false` and `classicalFallback: true` where a field is missing, and
 *    removes explicit nulls from `pqcKeyId` and `qynAuthUserId`, because "no value" is an absent
 *    field. It never writes a null and never touches the Portal Backend's fields.
 * 3. It builds the indexes. On MongoDB, `pqcKeyId` and `qynAuthUserId` get unique indexes partial
 *    on `{ $type: "string" }`, so any number of users without them, or with a null the Portal
 *    Backend's model writes, are admitted. FerretDB v1.24 has no partial indexes and indexes an
 *    explicit null as a value, so a plain unique index would reject the second null. There both
 *    indexes are plain, `qynAuthUserId` stays unique through claim documents (unique-values.ts)
 *    and key ids through `pqcKeys._id`.
 * 4. On FerretDB, it makes the claims match the users and reports values shared by users.
 *
 * `down` saves the PQC fields into `pqcMigrationBackup`, unsets them and drops the indexes on the
 * removed fields. It keeps `qynAuthUserId`, `consentRecords`, the `qynAuthUserId` index and the
 * claims, because QynAuth's user records depend on them and a rollback without that index would
 * let two users share an id. It never touches `pqcKeys`, the key history, or its indexes.
 */
import { MongoServerError } from 'mongodb';
import type { Collection, Document } from 'mongodb';
import type { StoreContext } from '../context.js';
import { MigrationFailedError } from '../errors.js';
import { DUPLICATE_KEY } from '../lease.js';
import { FIELD_DEFAULTS, UNIQUE_OPTIONAL_FIELDS } from '../schema.js';
import type { UserDocument } from '../schema.js';
import { syncQynAuthUserIdClaims, usesClaims } from '../unique-values.js';
import type { UserChange } from '../user-writes.js';
import type { Migration, MigrationRun, MigrationSummary } from './index.js';
import { dropIndex, ensureIndexes } from './indexes.js';
import type { IndexSpec } from './indexes.js';
import { backUpAndRemovePqcFields, countConflicts, restorePqcFields } from './pqc-field-backup.js';
import { updateUserBatch } from './user-batches.js';

/** Id of this migration. */
export const ADD_PQC_FIELDS_ID = '001-add-pqc-fields';

/** Names of the indexes this migration builds on `users`. */
export const USER_INDEX_NAMES = {
  pqcKeyId: 'pqcKeyId_1',
  qynAuthUserId: 'qynAuthUserId_1',
  flags: 'pqcEnabled_1_classicalFallback_1',
} as const;

/** Most shared `qynAuthUserId` values listed in the summary and the log; the count is exact. */
const MAX_LISTED_VALUES = 100;

/** Names of the indexes this migration builds on `pqcKeys`. */
export const KEY_INDEX_NAMES = { userId: 'userId_1', status: 'status_1' } as const;

const FLAG_INDEX: IndexSpec = {
  name: USER_INDEX_NAMES.flags,
  key: { pqcEnabled: 1, classicalFallback: 1 },
};

function userIndexes(context: StoreContext): IndexSpec[] {
  // NOTE: the partial unique indexes are only built on MongoDB. The tests start FerretDB, which
  // cannot build them, so this branch runs only when MONGODB_URI points at a MongoDB server.
  const unique = (name: string, fieldName: string): IndexSpec => {
    const key = { [fieldName]: 1 as const };
    if (!context.server.partialIndexes) return { name, key };
    const partialFilterExpression = { [fieldName]: { $type: 'string' } };
    return { name, key, unique: true, partialFilterExpression };
  };
  return [
    unique(USER_INDEX_NAMES.pqcKeyId, 'pqcKeyId'),
    unique(USER_INDEX_NAMES.qynAuthUserId, 'qynAuthUserId'),
    FLAG_INDEX,
  ];
}

const KEY_INDEXES: IndexSpec[] = [
  { name: KEY_INDEX_NAMES.userId, key: { userId: 1 } },
  { name: KEY_INDEX_NAMES.status, key: { status: 1 } },
];

/** Returns the defaults `user` is missing and the explicit nulls to remove. */
function planDefaults(user: UserDocument): UserChange | null {
  const set: Partial<UserDocument> = {};
  if (user.pqcEnabled === undefined) set.pqcEnabled = FIELD_DEFAULTS.pqcEnabled;
  if (user.classicalFallback === undefined) {
    set.classicalFallback = FIELD_DEFAULTS.classicalFallback;
  }
  const unset = UNIQUE_OPTIONAL_FIELDS.filter((name) => user[name] === null);

  if (Object.keys(set).length === 0 && unset.length === 0) return null;
  return { set, unset };
}

async function applyDefaults(run: MigrationRun): Promise<number> {
  const { context } = run;
  const filter = {
    $or: [
      { pqcEnabled: { $exists: false } },
      { classicalFallback: { $exists: false } },
      ...UNIQUE_OPTIONAL_FIELDS.map((name) => ({ [name]: { $type: 'null' as const } })),
    ],
  };
  const missing = await context.users.find(filter, { projection: { _id: 1 } }).toArray();
  const ids = missing.map((user) => user._id);

  let changed = 0;
  for (let start = 0; start < ids.length; start += run.batchSize) {
    changed += await updateUserBatch(context, ids.slice(start, start + run.batchSize), {
      readFields: ['pqcEnabled', 'classicalFallback', ...UNIQUE_OPTIONAL_FIELDS],
      beforeWrite: run.ensureLock,
      plan: planDefaults,
    });
  }
  return changed;
}

async function buildIndexes(run: MigrationRun): Promise<string[]> {
  const { context } = run;
  if (!context.server.partialIndexes) {
    context.logger.info(
      { server: context.server.kind, indexes: Object.values(USER_INDEX_NAMES) },
      'server has no partial indexes: pqcKeyId and qynAuthUserId get plain indexes, ' +
        'qynAuthUserId stays unique through claims and key ids through pqcKeys',
    );
  }

  await run.ensureLock();
  const users = context.users as unknown as Collection<Document>;
  try {
    const built = await ensureIndexes(users, userIndexes(context), context.logger);
    const keys = context.pqcKeys as unknown as Collection<Document>;
    return [...built, ...(await ensureIndexes(keys, KEY_INDEXES, context.logger))];
  } catch (error) {
    if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) {
      throw new MigrationFailedError(
        'a unique index could not be built because users share a pqcKeyId or qynAuthUserId ' +
          `(${error.message}); list them with checkUserRules (rule duplicate-unique-field), ` +
          'resolve them, then rerun',
        { cause: error },
      );
    }
    throw error;
  }
}

async function up(run: MigrationRun): Promise<MigrationSummary> {
  const { context } = run;
  const restore = await restorePqcFields(run, ADD_PQC_FIELDS_ID);
  if (restore.keyConflicts > 0) {
    context.logger.warn(
      { count: restore.keyConflicts, userIds: restore.keyConflictUserIds },
      'users got new keys after the rollback; kept the new keys and flagged their saved ones',
    );
  }

  const defaultsWritten = await applyDefaults(run);
  const indexesBuilt = await buildIndexes(run);

  let duplicates: string[] = [];
  if (usesClaims(context)) {
    await run.ensureLock();
    duplicates = (await syncQynAuthUserIdClaims(context)).duplicates;
    if (duplicates.length > 0) {
      context.logger.warn(
        { count: duplicates.length, values: duplicates.slice(0, MAX_LISTED_VALUES) },
        'several users share these qynAuthUserId values; claims keep them unique only once ' +
          'resolved',
      );
    }
  }

  return {
    ...restore,
    defaultsWritten,
    indexesBuilt,
    duplicateQynAuthUserIdCount: duplicates.length,
    duplicateQynAuthUserIds: duplicates.slice(0, MAX_LISTED_VALUES),
  };
}

async function down(run: MigrationRun): Promise<MigrationSummary> {
  const { context } = run;
  const conflicts = await countConflicts(context);
  if (conflicts > 0 && !run.force) {
    throw new MigrationFailedError(
      `${conflicts} backup entries in pqcMigrationBackup contain keys that users replaced ` +
        'after the last rollback, and a new rollback would save the current keys over them. ' +
        'Inspect the entries with a conflict field, or pass force to overwrite them',
    );
  }

  const removal = await backUpAndRemovePqcFields(run, ADD_PQC_FIELDS_ID);

  await run.ensureLock();
  const users = context.users as unknown as Collection<Document>;
  const indexesDropped: string[] = [];
  for (const name of [USER_INDEX_NAMES.pqcKeyId, USER_INDEX_NAMES.flags]) {
    if (await dropIndex(users, name)) indexesDropped.push(name);
  }
  return { ...removal, indexesDropped };
}

/** Migration 001: adds the PQC fields' defaults and indexes; reversible through a backup. */
export const addPqcFields: Migration = {
  id: ADD_PQC_FIELDS_ID,
  description: 'add PQC field defaults and indexes to users, and indexes to pqcKeys',
  up,
  down,
};

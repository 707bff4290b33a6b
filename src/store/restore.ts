/**
 * Restore of a backup file written by backup.ts.
 *
 * Restore reads the whole file once to check it before writing anything. It then loads each
 * collection into a staging collection, compares the counts and builds the indexes there. Only
 * then does it rename the staging collection over the target, so a reader never sees a
 * half-restored collection.
 */
import { randomUUID } from 'node:crypto';
import { MongoServerError } from 'mongodb';
import type { Db, Document } from 'mongodb';
import type { StoreContext } from './context.js';
import { DatabaseError, StoreConflictError, StoreNotFoundError } from './errors.js';
import {
  asStoreErrors,
  collectionNames,
  DEFAULT_BACKUP_BATCH_SIZE,
  InvalidBackupError,
  scanBackup,
} from './backup-file.js';
import type { BackupCollectionHeader, BackupHeader } from './backup-file.js';
import { dropRestoreLeftovers } from './restore-leftovers.js';

/** MongoDB's error code for a feature the server does not implement (NotImplemented). */
const NOT_IMPLEMENTED = 238;

/** Options of {@link restoreDatabase}. */
export interface RestoreOptions {
  /** Path of the backup file. */
  file: string;
  /** Collections to restore. Default: every collection in the file. */
  collections?: readonly string[];
  /** Replace target collections that contain documents. Default false: such a target fails. */
  replace?: boolean;
  /** Documents per `insertMany`. Default 1000. */
  batchSize?: number;
}

/** One restored collection. */
export interface RestoredCollection {
  name: string;
  /** Documents restored. */
  count: number;
  /** Indexes built, by name. */
  indexesBuilt: string[];
  /** Indexes the server cannot build, such as partial or TTL indexes on FerretDB v1. */
  indexesSkipped: { name: string; reason: string }[];
}

/** Result of {@link restoreDatabase}. */
export interface RestoreReport {
  /** Header of the file restored. */
  header: BackupHeader;
  collections: RestoredCollection[];
}

async function checkTargets(db: Db, names: readonly string[]): Promise<void> {
  const occupied: string[] = [];
  for (const name of names) {
    if ((await db.collection(name).countDocuments({}, { limit: 1 })) > 0) occupied.push(name);
  }
  if (occupied.length > 0) {
    throw new StoreConflictError(
      `collections ${occupied.join(', ')} of ${db.databaseName} contain documents; restore ` +
        'into an empty database, or pass replace to overwrite them',
    );
  }
}

async function loadStaging(
  context: StoreContext,
  file: string,
  staging: ReadonlyMap<string, string>,
  batchSize: number,
): Promise<void> {
  for (const name of staging.values()) await context.db.createCollection(name);

  const pending = new Map<string, Document[]>();
  const flush = async (name: string): Promise<void> => {
    const documents = pending.get(name) ?? [];
    pending.set(name, []);
    if (documents.length === 0) return;
    await context.db.collection(staging.get(name)!).insertMany(documents);
  };

  await scanBackup(file, async (collection, document) => {
    if (!staging.has(collection)) return;
    const documents = pending.get(collection) ?? [];
    documents.push(document);
    pending.set(collection, documents);
    if (documents.length >= batchSize) await flush(collection);
  });
  for (const name of staging.keys()) await flush(name);
}

async function buildStagingIndexes(
  context: StoreContext,
  source: BackupCollectionHeader,
  stagingName: string,
): Promise<Pick<RestoredCollection, 'indexesBuilt' | 'indexesSkipped'>> {
  const indexesBuilt: string[] = [];
  const indexesSkipped: { name: string; reason: string }[] = [];

  for (const definition of source.indexes) {
    const name = String(definition.name);
    if (name === '_id_') continue;
    try {
      await context.db.command({ createIndexes: stagingName, indexes: [definition] });
      indexesBuilt.push(name);
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== NOT_IMPLEMENTED) throw error;
      indexesSkipped.push({ name, reason: error.message });
      context.logger.warn(
        { collection: source.name, index: name, reason: error.message },
        'the server cannot build this index of the backup; restored the collection without it',
      );
    }
  }
  return { indexesBuilt, indexesSkipped };
}

/**
 * Renames `stagingName` over `name`. FerretDB v1.24 rejects `dropTarget`, so there the target is
 * renamed aside first and dropped after the staging collection took its name, with a warning. If
 * that rename fails, the target gets its name back.
 */
async function swapIn(
  context: StoreContext,
  stagingName: string,
  name: string,
  asideName: string,
): Promise<void> {
  const { db } = context;
  try {
    await db.renameCollection(stagingName, name, { dropTarget: true });
    return;
  } catch (error) {
    if (!(error instanceof MongoServerError) || error.code !== NOT_IMPLEMENTED) throw error;
    context.logger.warn(
      { collection: name, staging: stagingName, aside: asideName, reason: error.message },
      'renameCollection with dropTarget is not implemented; renaming the old collection aside, ' +
        'then the restored one into place',
    );
  }

  if (!(await collectionNames(db)).has(name)) {
    await db.renameCollection(stagingName, name);
    return;
  }
  // NOTE: a process killed between these two renames leaves the old collection under asideName
  // and none under name. Rename it back by hand, or rerun the restore with replace.
  await db.renameCollection(name, asideName);
  try {
    await db.renameCollection(stagingName, name);
  } catch (error) {
    await db.renameCollection(asideName, name);
    throw error;
  }
  await db.dropCollection(asideName);
}

/**
 * Restores collections from a backup file. Checks the whole file first and throws
 * `InvalidBackupError` for a truncated or corrupted one, and `StoreConflictError` when a target
 * contains documents and `replace` is not set. In both cases nothing is written. Otherwise it
 * drops the staging collections that interrupted restores left, then loads and indexes each
 * collection under a staging name and renames it over its target.
 */
export async function restoreDatabase(
  context: StoreContext,
  options: RestoreOptions,
): Promise<RestoreReport> {
  const header = await scanBackup(options.file);
  const names = [...(options.collections ?? header.collections.map((c) => c.name))];
  const sources = names.map((name) => header.collections.find((c) => c.name === name));
  const absent = names.filter((_, index) => sources[index] === undefined);
  if (absent.length > 0) {
    throw new StoreNotFoundError(
      `backup file ${options.file} has no collections ${absent.join(', ')}`,
    );
  }

  return asStoreErrors(`restore of ${options.file} into ${context.db.databaseName}`, async () => {
    if (options.replace !== true) await checkTargets(context.db, names);
    await dropRestoreLeftovers(context);

    // Staging names have no dot, because FerretDB v1.24 rejects renameCollection from such a
    // name ("Invalid namespace").
    const suffix = randomUUID().slice(0, 8);
    const staging = new Map(names.map((name) => [name, `restore_${suffix}_${name}`]));
    const swapped = new Set<string>();
    const database = context.db.databaseName;
    context.logger.info({ file: options.file, database, collections: names }, 'restore started');

    try {
      const batchSize = options.batchSize ?? DEFAULT_BACKUP_BATCH_SIZE;
      await loadStaging(context, options.file, staging, batchSize);
      const restored: RestoredCollection[] = [];
      for (const source of sources as BackupCollectionHeader[]) {
        restored.push(await finishStaging(context, source, staging.get(source.name)!));
      }

      if (options.replace !== true) await checkTargets(context.db, names);
      for (const name of names) {
        await swapIn(context, staging.get(name)!, name, `restore_${suffix}_replaced_${name}`);
        swapped.add(name);
      }

      const counts = Object.fromEntries(restored.map((c) => [c.name, c.count]));
      context.logger.info({ file: options.file, database, counts }, 'restore finished');
      return { header, collections: restored };
    } catch (error) {
      if (swapped.size > 0) {
        context.logger.error(
          { err: error, restored: [...swapped], file: options.file },
          'restore failed after some collections were replaced; rerun it with replace',
        );
      }
      throw error;
    } finally {
      await dropStaging(context, staging, swapped);
    }
  });
}

async function finishStaging(
  context: StoreContext,
  source: BackupCollectionHeader,
  stagingName: string,
): Promise<RestoredCollection> {
  const count = await context.db.collection(stagingName).countDocuments({});
  if (count !== source.count) {
    throw new DatabaseError(
      `staging collection ${stagingName} contains ${count} documents, the backup ` +
        `${source.count}; nothing was replaced, so check the server log and retry`,
    );
  }
  return { name: source.name, count, ...(await buildStagingIndexes(context, source, stagingName)) };
}

async function dropStaging(
  context: StoreContext,
  staging: ReadonlyMap<string, string>,
  swapped: ReadonlySet<string>,
): Promise<void> {
  const existing = await collectionNames(context.db);
  for (const [name, stagingName] of staging) {
    if (swapped.has(name) || !existing.has(stagingName)) continue;
    try {
      await context.db.dropCollection(stagingName);
    } catch (error) {
      context.logger.warn(
        { err: error, collection: stagingName },
        'dropping a staging collection failed; drop it by hand',
      );
    }
  }
}

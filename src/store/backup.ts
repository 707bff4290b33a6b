/**
 * Backup and restore of the store's collections through the driver, for servers where
 * `mongodump` is not installed.
 *
 * A backup file is UTF-8 text, one canonical Extended JSON (v2, `relaxed: false`) value per line,
 * so dates, ObjectIds, binary data, 32-bit and 64-bit integers and doubles keep their BSON types.
 * The first line is the {@link BackupHeader}: format, version, database, server, creation time
 * and, per collection, the document count, the SHA-256 of its document lines and its index
 * definitions. Every further line is `{ "collection": <name>, "document": <document> }`.
 *
 * Backup streams each collection through a cursor into a temporary file, then writes the header
 * and the documents to a second temporary file that is renamed into place, so a crash never
 * leaves a partial file under the final name. The backup is not a point-in-time snapshot:
 * documents written while it runs may or may not be in it.
 *
 * Restore reads the whole file once to check it before writing anything. It then loads each
 * collection into a staging collection, compares the counts and builds the indexes there. Only
 * then does it rename the staging collection over the target, so a reader never sees a
 * half-restored collection.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Binary, BSON, MongoError, MongoServerError } from 'mongodb';
import type { Db, Document } from 'mongodb';
import { InvalidArgumentError, PqcError } from '../errors.js';
import type { StoreContext } from './context.js';
import {
  DatabaseError,
  StoreConflictError,
  StoreNotFoundError,
  StoreValidationError,
} from './errors.js';
import { COLLECTIONS } from './schema.js';

/** Value of the header's `format` field. */
export const BACKUP_FORMAT = 'qynpqc-backup';
/** Version of the file layout this module writes and reads. */
export const BACKUP_VERSION = 1;
/** Documents per `insertMany` during restore, and the cursor batch size during backup. */
export const DEFAULT_BACKUP_BATCH_SIZE = 1000;

/** MongoDB's error code for a feature the server does not implement (NotImplemented). */
const NOT_IMPLEMENTED = 238;
/** Characters collected before a write to the file. */
const WRITE_BUFFER_CHARS = 1 << 20;
/** Bytes of a UUID, the only length Extended JSON readers accept for a subtype 4 binary. */
const UUID_BYTES = 16;

const { EJSON } = BSON;

/** Read options that keep every BSON type: without them doubles and integers become numbers. */
const EXACT_READ = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
} as const;

/** One collection as the header describes it. */
export interface BackupCollectionHeader {
  name: string;
  /** Number of document lines that follow for this collection. */
  count: number;
  /** Hex SHA-256 over this collection's document lines, each with its trailing newline. */
  sha256: string;
  /** Index definitions as `listIndexes` returned them, without `v` and `ns`. */
  indexes: Document[];
}

/** The first line of a backup file. */
export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  /** Name of the database the backup was taken from. */
  database: string;
  /** Server kind and versions at backup time. */
  server: { kind: string; version: string; ferretdbVersion?: string };
  createdAt: Date;
  collections: BackupCollectionHeader[];
}

/** A backup file is truncated, corrupted, or not a backup file of a supported version. */
export class InvalidBackupError extends StoreValidationError {
  /** Path of the file. */
  readonly file: string;
  /** 1-based line where the problem was found, when it is one line. */
  readonly line: number | undefined;

  constructor(file: string, problem: string, line?: number) {
    const at = line === undefined ? '' : ` at line ${line}`;
    super(
      `backup file ${file} is invalid${at}: ${problem}; nothing was restored, so use an ` +
        'intact backup file',
    );
    this.file = file;
    this.line = line;
  }
}

/**
 * Runs `step` and turns a driver error into `DatabaseError` and a file system error into
 * `StoreNotFoundError` (missing file) or `InvalidArgumentError` (any other), naming `action`.
 */
async function asStoreErrors<T>(action: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof PqcError) throw error;

    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof MongoError) {
      throw new DatabaseError(`${action} failed: ${reason}; check the server and retry`, {
        cause: error,
      });
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StoreNotFoundError(`${action} failed: ${reason}`, { cause: error });
    }
    throw new InvalidArgumentError(`${action} failed: ${reason}; choose another path`, {
      cause: error,
    });
  }
}

async function collectionNames(db: Db): Promise<Set<string>> {
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  return new Set(collections.map((collection) => collection.name));
}

/**
 * Returns `users` and the store's own collections that exist in `db`. Leases are left out, as
 * they only mean something to the processes running when they were written.
 */
export async function defaultBackupCollections(db: Db): Promise<string[]> {
  const wanted: string[] = [
    COLLECTIONS.users,
    COLLECTIONS.pqcKeys,
    COLLECTIONS.migrations,
    COLLECTIONS.migrationBackup,
    COLLECTIONS.qynAuthUserIds,
  ];
  const existing = await collectionNames(db);
  return wanted.filter((name) => existing.has(name));
}

/** Collects text and writes it to a file in large chunks. */
class BufferedWriter {
  private chunks: string[] = [];
  private size = 0;

  constructor(private readonly handle: FileHandle) {}

  async write(text: string): Promise<void> {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= WRITE_BUFFER_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    await this.handle.write(text, null, 'utf8');
  }
}

/**
 * Returns the path of a subtype 4 (UUID) binary in `value` that is not 16 bytes long, or null.
 * The bson package (v7) parses such a value as a UUID and throws, so a backup holding one could
 * not be restored.
 */
function invalidUuidPath(value: unknown, path: string): string | null {
  if (value === null || typeof value !== 'object' || value instanceof Date) return null;
  if (value instanceof Binary) {
    const invalid = value.sub_type === Binary.SUBTYPE_UUID && value.length() !== UUID_BYTES;
    return invalid ? path : null;
  }
  if ((value as { _bsontype?: unknown })._bsontype !== undefined) return null;

  for (const [key, inner] of Object.entries(value)) {
    const found = invalidUuidPath(inner, path === '' ? key : `${path}.${key}`);
    if (found !== null) return found;
  }
  return null;
}

async function writeCollection(
  context: StoreContext,
  name: string,
  writer: BufferedWriter,
  batchSize: number,
): Promise<BackupCollectionHeader> {
  const collection = context.db.collection(name);
  const listed = await collection.listIndexes().toArray();
  const indexes = listed.map(({ v: _version, ns: _namespace, ...definition }) => definition);
  const hash = createHash('sha256');
  let count = 0;

  for await (const document of collection.find({}, { ...EXACT_READ, batchSize })) {
    const uuidPath = invalidUuidPath(document, '');
    if (uuidPath !== null) {
      throw new StoreValidationError(
        `document ${EJSON.stringify(document._id)} of collection ${name} contains a UUID (binary ` +
          `subtype 4) at ${uuidPath} that is not ${UUID_BYTES} bytes long, which a restore ` +
          'cannot read; correct the value or leave the collection out of the backup',
      );
    }

    const line = `${EJSON.stringify({ collection: name, document }, { relaxed: false })}\n`;
    hash.update(line, 'utf8');
    await writer.write(line);
    count += 1;
  }
  return { name, count, sha256: hash.digest('hex'), indexes };
}

async function copyInto(source: string, writer: BufferedWriter): Promise<void> {
  const input = createReadStream(source, { encoding: 'utf8', highWaterMark: WRITE_BUFFER_CHARS });
  for await (const chunk of input) await writer.write(chunk as string);
}

async function writeFile(
  path: string,
  write: (writer: BufferedWriter) => Promise<void>,
): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const writer = new BufferedWriter(handle);
    await write(writer);
    await writer.flush();
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Options of {@link backupDatabase}. */
export interface BackupOptions {
  /** Path of the backup file to write; replaced atomically when it exists. */
  file: string;
  /** Collections to save. Default: {@link defaultBackupCollections}. */
  collections?: readonly string[];
  /** Cursor batch size. Default 1000. */
  batchSize?: number;
}

/**
 * Writes the collections to `options.file` and returns the header written. Throws
 * `StoreNotFoundError` for a requested collection that does not exist. On failure no file is
 * left under that name, and an existing one is kept.
 */
export async function backupDatabase(
  context: StoreContext,
  options: BackupOptions,
): Promise<BackupHeader> {
  return asStoreErrors(`backup of ${context.db.databaseName} to ${options.file}`, async () => {
    const names = [...(options.collections ?? (await defaultBackupCollections(context.db)))];
    const existing = await collectionNames(context.db);
    const missing = names.filter((name) => !existing.has(name));
    if (missing.length > 0) {
      throw new StoreNotFoundError(
        `collections ${missing.join(', ')} do not exist in ${context.db.databaseName}`,
      );
    }

    const started = Date.now();
    context.logger.info({ file: options.file, collections: names }, 'backup started');
    const header = await writeBackup(context, options, names);

    const counts = Object.fromEntries(header.collections.map((c) => [c.name, c.count]));
    const durationMs = Date.now() - started;
    context.logger.info({ file: options.file, counts, durationMs }, 'backup finished');
    return header;
  });
}

async function writeBackup(
  context: StoreContext,
  options: BackupOptions,
  names: readonly string[],
): Promise<BackupHeader> {
  const batchSize = options.batchSize ?? DEFAULT_BACKUP_BATCH_SIZE;
  const suffix = `${process.pid}.${randomUUID().slice(0, 8)}`;
  const bodyFile = `${options.file}.${suffix}.body.tmp`;
  const finalFile = `${options.file}.${suffix}.tmp`;

  try {
    const collections: BackupCollectionHeader[] = [];
    await writeFile(bodyFile, async (writer) => {
      for (const name of names) {
        collections.push(await writeCollection(context, name, writer, batchSize));
      }
    });

    const { kind, version, ferretdbVersion } = context.server;
    const header: BackupHeader = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      database: context.db.databaseName,
      server: { kind, version, ...(ferretdbVersion === undefined ? {} : { ferretdbVersion }) },
      createdAt: new Date(),
      collections,
    };
    await writeFile(finalFile, async (writer) => {
      await writer.write(`${EJSON.stringify(header, { relaxed: false })}\n`);
      await copyInto(bodyFile, writer);
    });
    await rename(finalFile, options.file);
    return header;
  } finally {
    await rm(bodyFile, { force: true });
    await rm(finalFile, { force: true });
  }
}

function isCollectionHeader(value: Document): boolean {
  return (
    typeof value.name === 'string' &&
    Number.isInteger(value.count) &&
    typeof value.sha256 === 'string' &&
    Array.isArray(value.indexes)
  );
}

function parseHeader(file: string, line: string | undefined): BackupHeader {
  if (line === undefined) throw new InvalidBackupError(file, 'the file is empty', 1);

  // Counts and the version are read as plain numbers, and index definitions keep their types.
  let header: Document;
  let strict: Document;
  try {
    header = EJSON.parse(line, { relaxed: true }) as Document;
    strict = EJSON.parse(line, { relaxed: false }) as Document;
  } catch (error) {
    const reason = (error as Error).message;
    throw new InvalidBackupError(file, `the header is not Extended JSON (${reason})`, 1);
  }

  if (header.format !== BACKUP_FORMAT) {
    const format = JSON.stringify(header.format);
    throw new InvalidBackupError(file, `the format is ${format}, expected ${BACKUP_FORMAT}`, 1);
  }
  if (header.version !== BACKUP_VERSION) {
    const version = String(header.version);
    const problem = `version ${version} is not supported; this release reads ${BACKUP_VERSION}`;
    throw new InvalidBackupError(file, problem, 1);
  }
  const collections: unknown = header.collections;
  const valid = Array.isArray(collections) && collections.every(isCollectionHeader);
  if (!valid || typeof header.database !== 'string' || !(header.createdAt instanceof Date)) {
    const problem = 'the header lacks database, createdAt or a valid collections list';
    throw new InvalidBackupError(file, problem, 1);
  }
  const names = (collections as Document[]).map((c) => c.name as string);
  if (new Set(names).size !== names.length) {
    throw new InvalidBackupError(file, 'the header lists a collection twice', 1);
  }

  const strictCollections = strict.collections as Document[];
  return {
    ...header,
    collections: (collections as Document[]).map((c, index) => ({
      ...c,
      indexes: strictCollections[index]!.indexes as Document[],
    })),
  } as BackupHeader;
}

/** Receives each document of a backup file, in file order. */
export type BackupDocumentHandler = (
  collection: string,
  document: Document,
) => Promise<void> | void;

/**
 * Reads `file`, checks every line against the header (format, version, collection names, counts
 * and SHA-256 sums) and passes each document to `onDocument`. Resolves with the header. Throws
 * `InvalidBackupError` for a truncated or corrupted file, after passing on the documents before
 * the damage, and `StoreNotFoundError` for a missing file.
 */
export async function scanBackup(
  file: string,
  onDocument?: BackupDocumentHandler,
): Promise<BackupHeader> {
  return asStoreErrors(`reading backup file ${file}`, async () => {
    const input = createReadStream(file, { encoding: 'utf8' });
    try {
      return await scanLines(file, createInterface({ input, crlfDelay: Infinity }), onDocument);
    } finally {
      input.destroy();
    }
  });
}

async function scanLines(
  file: string,
  lines: AsyncIterable<string>,
  onDocument: BackupDocumentHandler | undefined,
): Promise<BackupHeader> {
  let header: BackupHeader | undefined;
  const state = new Map<string, { hash: Hash; count: number }>();
  let lineNumber = 0;

  for await (const line of lines) {
    lineNumber += 1;
    if (header === undefined) {
      header = parseHeader(file, line);
      for (const c of header.collections) {
        state.set(c.name, { hash: createHash('sha256'), count: 0 });
      }
      continue;
    }

    let record: Document;
    try {
      record = EJSON.parse(line, { relaxed: false }) as Document;
    } catch (error) {
      const reason = (error as Error).message;
      throw new InvalidBackupError(file, `the line is not Extended JSON (${reason})`, lineNumber);
    }
    const name: unknown = record.collection;
    const entry = typeof name === 'string' ? state.get(name) : undefined;
    const document: unknown = record.document;
    if (entry === undefined || typeof document !== 'object' || document === null) {
      const problem = 'the line is not a document of a collection in the header';
      throw new InvalidBackupError(file, problem, lineNumber);
    }

    entry.hash.update(`${line}\n`, 'utf8');
    entry.count += 1;
    await onDocument?.(name as string, document as Document);
  }

  header ??= parseHeader(file, undefined);
  for (const c of header.collections) {
    const entry = state.get(c.name)!;
    if (entry.count !== c.count) {
      const problem =
        `collection ${c.name} has ${entry.count} documents, the header says ${c.count}; ` +
        'the file is truncated or was edited';
      throw new InvalidBackupError(file, problem);
    }
    if (entry.hash.digest('hex') !== c.sha256) {
      const problem = `the SHA-256 of collection ${c.name} does not match the header`;
      throw new InvalidBackupError(file, `${problem}; the file is corrupted`);
    }
  }
  return header;
}

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
 * renamed aside first and dropped after the staging collection took its name. If that rename
 * fails, the target gets its name back.
 */
async function swapIn(db: Db, stagingName: string, name: string, asideName: string): Promise<void> {
  try {
    await db.renameCollection(stagingName, name, { dropTarget: true });
    return;
  } catch (error) {
    if (!(error instanceof MongoServerError) || error.code !== NOT_IMPLEMENTED) throw error;
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
 * contains documents and `replace` is not set. In both cases nothing is written. Each collection
 * is loaded and indexed under a staging name, then renamed over its target.
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
        await swapIn(context.db, staging.get(name)!, name, `restore_${suffix}_replaced_${name}`);
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

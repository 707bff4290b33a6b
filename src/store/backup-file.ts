/**
 * The backup file format and its reader, shared by backup and restore.
 *
 * A backup file is UTF-8 text, one canonical Extended JSON (v2, `relaxed: false`) value per line,
 * so dates, ObjectIds, binary data, 32-bit and 64-bit integers and doubles keep their BSON types.
 * The first line is the {@link BackupHeader}: format, version, database, server, creation time
 * and, per collection, the document count, the SHA-256 of its document lines and its index
 * definitions. Every further line is `{ "collection": <name>, "document": <document> }`.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { BSON, MongoError } from 'mongodb';
import type { Db, Document } from 'mongodb';
import { InvalidArgumentError, PqcError } from '../errors.js';
import { DatabaseError, StoreNotFoundError, StoreValidationError } from './errors.js';

/** Value of the header's `format` field. */
export const BACKUP_FORMAT = 'qynpqc-backup';
/** Version of the file layout this module writes and reads. */
export const BACKUP_VERSION = 1;
/** Documents per `insertMany` during restore, and the cursor batch size during backup. */
export const DEFAULT_BACKUP_BATCH_SIZE = 1000;

const { EJSON } = BSON;

/** Read options that keep every BSON type: without them doubles and integers become numbers. */
export const EXACT_READ = {
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
export async function asStoreErrors<T>(action: string, step: () => Promise<T>): Promise<T> {
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

/** Returns the names of the collections in `db`. */
export async function collectionNames(db: Db): Promise<Set<string>> {
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  return new Set(collections.map((collection) => collection.name));
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

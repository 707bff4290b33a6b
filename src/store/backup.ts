/**
 * Backup of the store's collections through the driver, for servers where `mongodump` is not
 * installed. The file format is described in backup-file.ts.
 *
 * Backup streams each collection through a cursor into a temporary file, then writes the header
 * and the documents to a second temporary file that is renamed into place, so a crash never
 * leaves a partial file under the final name. The backup is not a point-in-time snapshot:
 * documents written while it runs may or may not be in it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Binary, BSON } from 'mongodb';
import type { Db } from 'mongodb';
import type { StoreContext } from './context.js';
import { StoreNotFoundError, StoreValidationError } from './errors.js';
import { COLLECTIONS } from './schema.js';
import {
  asStoreErrors,
  BACKUP_FORMAT,
  BACKUP_VERSION,
  collectionNames,
  DEFAULT_BACKUP_BATCH_SIZE,
  EXACT_READ,
} from './backup-file.js';
import type { BackupCollectionHeader, BackupHeader } from './backup-file.js';

export {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  DEFAULT_BACKUP_BATCH_SIZE,
  InvalidBackupError,
  scanBackup,
} from './backup-file.js';
export type { BackupCollectionHeader, BackupDocumentHandler, BackupHeader } from './backup-file.js';
export { restoreDatabase } from './restore.js';
export { findRestoreLeftovers } from './restore-leftovers.js';
export type { RestoreLeftover } from './restore-leftovers.js';
export type { RestoredCollection, RestoreOptions, RestoreReport } from './restore.js';

/** Characters collected before a write to the file. */
const WRITE_BUFFER_CHARS = 1 << 20;
/** Bytes of a UUID, the only length Extended JSON readers accept for a subtype 4 binary. */
const UUID_BYTES = 16;

const { EJSON } = BSON;

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

/**
 * Permissions of the backup and its temporary files: owner read and write only, because a backup
 * contains password hashes and refresh token hashes.
 */
const BACKUP_FILE_MODE = 0o600;

async function writeFile(
  path: string,
  write: (writer: BufferedWriter) => Promise<void>,
): Promise<void> {
  const handle = await open(path, 'w', BACKUP_FILE_MODE);
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
  /** Path of the backup file to write, created with mode 0600 and replaced atomically. */
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

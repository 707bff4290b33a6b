// Backup and restore through the driver against a real server. Covered: an exact round trip of
// documents (every BSON type the server stores) and indexes, restores rejected for occupied
// collections or damaged files, the all-or-nothing swap, and collections of interrupted restores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Binary, BSON, BSONRegExp, Double, Int32, Long, ObjectId, Timestamp } from 'mongodb';
import type { Db, Document } from 'mongodb';
import type { StoreContext } from '../../src/store/context.js';
import {
  BACKUP_FORMAT,
  backupDatabase,
  findRestoreLeftovers,
  InvalidBackupError,
  restoreDatabase,
  scanBackup,
} from '../../src/store/backup.js';
import {
  StoreConflictError,
  StoreNotFoundError,
  StoreValidationError,
} from '../../src/store/errors.js';
import type { StoreLogger } from '../../src/store/logger.js';
import { migrateUp } from '../../src/store/migrations/runner.js';
import { COLLECTIONS } from '../../src/store/schema.js';
import { enrolledFields, portalUser } from './fixtures/migration-users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

const { EJSON } = BSON;

let environment: StoreTestEnvironment;
let directory: string;
let source: StoreContext;
let backupFile: string;

/** Returns every document of `name` as canonical Extended JSON with its key order, sorted. */
async function dump(db: Db, name: string): Promise<string[]> {
  const documents = await db
    .collection(name)
    .find(
      {},
      { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true },
    )
    .toArray();
  return documents
    .map((document) => EJSON.stringify(document, { relaxed: false }))
    .sort((a, b) => a.localeCompare(b));
}

async function indexes(db: Db, name: string): Promise<Document[]> {
  const list = await db.collection(name).listIndexes().toArray();
  return list
    .map(({ v: _version, ns: _namespace, ...definition }) => definition)
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

async function collectionNames(db: Db): Promise<string[]> {
  return (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
}

function warnings(lines: string[]): StoreLogger {
  const ignore = (): void => {};
  return {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (_fields, message) => lines.push(message),
  };
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  directory = mkdtempSync(join(tmpdir(), 'qynpqc-backup-'));
  source = await environment.context('backup_source');

  const users: Document[] = [];
  for (let i = 0; i < 5; i += 1)
    users.push(portalUser(i, { ...(await enrolledFields()), qynAuthUserId: `qa-${i}` }));
  for (let i = 5; i < 40; i += 1)
    users.push(portalUser(i, { consentRecords: [new ObjectId()], isActive: i % 2 === 0 }));
  users.push(
    portalUser(40, {
      ratio: new Double(1),
      small: new Int32(7),
      big: Long.fromString('9007199254740993'),
      uuid: new Binary(Buffer.from('0123456789abcdef'), Binary.SUBTYPE_UUID),
      bytes: new Binary(Buffer.from([0, 1, 2, 255])),
      stamp: new Timestamp({ t: 1_700_000_000, i: 3 }),
      pattern: new BSONRegExp('^a.+z$', 'i'),
      nested: { list: [new Int32(1), 'two', null, { deep: new Date(Date.UTC(2020, 1, 29)) }] },
      empty: {},
      none: null,
    }),
  );
  await source.db.collection(COLLECTIONS.users).insertMany(users);
  await source.users.createIndex({ email: 1 }, { unique: true, name: 'email_1' });
  await source.users.createIndex({ createdAt: -1, email: 1 }, { name: 'createdAt_-1_email_1' });
  await migrateUp(source);

  backupFile = join(directory, 'source.backup');
  await backupDatabase(source, { file: backupFile });
});

afterAll(async () => {
  await environment?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('backupDatabase', () => {
  it('writes a header and one line per document', async () => {
    const lines = readFileSync(backupFile, 'utf8').trimEnd().split('\n');
    const header = EJSON.parse(lines[0]!, { relaxed: true }) as Document;

    expect(header.format).toBe(BACKUP_FORMAT);
    expect(header.version).toBe(1);
    expect(header.database).toBe(source.db.databaseName);
    expect(header.server.kind).toBe(source.server.kind);
    expect(header.createdAt).toBeInstanceOf(Date);
    const names = (header.collections as Document[]).map((c) => c.name);
    expect(names).toEqual(
      [
        COLLECTIONS.users,
        COLLECTIONS.pqcKeys,
        COLLECTIONS.migrations,
        COLLECTIONS.qynAuthUserIds,
      ].filter((name) => name !== COLLECTIONS.qynAuthUserIds || !source.server.partialIndexes),
    );
    const users = (header.collections as Document[]).find((c) => c.name === COLLECTIONS.users)!;
    expect(users.count).toBe(41);
    expect(users.indexes.map((index: Document) => index.name)).toEqual(
      expect.arrayContaining(['_id_', 'email_1', 'createdAt_-1_email_1', 'pqcKeyId_1']),
    );
    const total = (header.collections as Document[]).reduce(
      (sum, c) => sum + (c.count as number),
      0,
    );
    expect(lines).toHaveLength(1 + total);
    expect(JSON.parse(lines[1]!).document._id).toHaveProperty('$oid');
  });

  it('leaves no temporary file behind', () => {
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('creates every file with mode 0600', async () => {
    const file = join(directory, 'mode.backup');
    writeFileSync(file, 'an older backup', { mode: 0o644 });
    const temporaryModes = new Map<string, number>();
    const watcher = watch(directory, (_event, name) => {
      if (name === null || !name.endsWith('.tmp')) return;
      try {
        temporaryModes.set(name, statSync(join(directory, name)).mode & 0o777);
      } catch {
        // Already renamed or removed.
      }
    });

    // With umask 0, each file gets exactly the mode that backupDatabase passes to open.
    const umask = process.umask(0);
    try {
      await backupDatabase(source, { file, batchSize: 1 });
    } finally {
      process.umask(umask);
      watcher.close();
    }

    expect(statSync(file).mode & 0o777).toBe(0o600);
    const observed = [...temporaryModes.keys()];
    expect(observed.some((name) => name.endsWith('.body.tmp'))).toBe(true);
    for (const [name, mode] of temporaryModes) expect(mode, name).toBe(0o600);
  });

  it('rejects a missing collection and keeps the old file', async () => {
    const before = readFileSync(backupFile);

    await expect(
      backupDatabase(source, { file: backupFile, collections: ['nope'] }),
    ).rejects.toThrow(StoreNotFoundError);

    expect(readFileSync(backupFile).equals(before)).toBe(true);
  });

  it('rejects a UUID that restore cannot read', async () => {
    const context = await environment.context('backup_bad_uuid');
    await context.db
      .collection('odd')
      .insertOne({ value: new Binary(Buffer.from('short'), Binary.SUBTYPE_UUID) });
    const file = join(directory, 'bad-uuid.backup');

    const error: unknown = await backupDatabase(context, { file, collections: ['odd'] }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(StoreValidationError);
    expect((error as Error).message).toContain('at value that is not 16 bytes long');
    expect(existsSync(file)).toBe(false);
  });
});

describe('restoreDatabase', () => {
  it('drop and restore gives identical documents and indexes', async () => {
    const names = await collectionNames(source.db);
    const documents = new Map<string, string[]>();
    const definitions = new Map<string, Document[]>();
    for (const name of names.filter((n) => n !== COLLECTIONS.leases)) {
      documents.set(name, await dump(source.db, name));
      definitions.set(name, await indexes(source.db, name));
    }
    const target = await environment.context('backup_target');

    const report = await restoreDatabase(target, { file: backupFile });

    for (const [name, expected] of documents) {
      expect(await dump(target.db, name), name).toEqual(expected);
      expect(await indexes(target.db, name), name).toEqual(definitions.get(name));
    }
    expect(await collectionNames(target.db)).toEqual([...documents.keys()].sort());
    const users = report.collections.find((c) => c.name === COLLECTIONS.users)!;
    expect(users.count).toBe(41);
    expect(users.indexesSkipped).toEqual([]);
    const restored = await target.db.collection('users').findOne({ email: 'user40@example.com' });
    expect(restored?.ratio).toBe(1);
    expect(await target.db.collection('users').countDocuments({ ratio: { $type: 'double' } })).toBe(
      1,
    );
    expect(await target.db.collection('users').countDocuments({ big: { $type: 'long' } })).toBe(1);
  });

  it('rejects a non-empty target and writes nothing', async () => {
    const target = await environment.context('backup_occupied');
    await target.db.collection(COLLECTIONS.users).insertOne(portalUser(999));
    const before = await dump(target.db, COLLECTIONS.users);

    const error: unknown = await restoreDatabase(target, { file: backupFile }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(StoreConflictError);
    expect((error as Error).message).toContain(
      'collections users of qynpqc_test_backup_occupied contain documents',
    );
    expect(await dump(target.db, COLLECTIONS.users)).toEqual(before);
    expect(await collectionNames(target.db)).toEqual([COLLECTIONS.users]);
  });

  it('replaces occupied collections when told to', async () => {
    const target = await environment.context('backup_replace');
    await target.db.collection(COLLECTIONS.users).insertMany([portalUser(998), portalUser(999)]);
    await target.db
      .collection(COLLECTIONS.users)
      .createIndex({ password: 1 }, { name: 'password_1' });

    await restoreDatabase(target, { file: backupFile, replace: true });

    expect(await dump(target.db, COLLECTIONS.users)).toEqual(
      await dump(source.db, COLLECTIONS.users),
    );
    expect(await indexes(target.db, COLLECTIONS.users)).toEqual(
      await indexes(source.db, COLLECTIONS.users),
    );
    expect(
      (await collectionNames(target.db)).filter((name) => name.startsWith('restore_')),
    ).toEqual([]);
  });

  it('logs the rename fallback', async () => {
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    const ignore = (): void => {};
    const target = await environment.context('backup_rename_fallback', {
      logger: {
        debug: ignore,
        info: ignore,
        error: ignore,
        warn: (fields, message) => {
          lines.push({ fields: fields as Record<string, unknown>, message });
        },
      },
    });
    await target.db.collection(COLLECTIONS.users).insertOne(portalUser(999));

    await restoreDatabase(target, { file: backupFile, replace: true });

    const fallbacks = lines.filter((line) =>
      line.message.includes('dropTarget is not implemented'),
    );
    if (target.server.kind !== 'ferretdb') {
      expect(fallbacks).toEqual([]);
      return;
    }
    const users = fallbacks.find((line) => line.fields.collection === COLLECTIONS.users);
    expect(users).toBeDefined();
    expect(users?.fields.staging).toMatch(/^restore_[0-9a-f]{8}_users$/);
    expect(users?.fields.aside).toMatch(/^restore_[0-9a-f]{8}_replaced_users$/);
    expect(fallbacks.map((line) => line.fields.collection)).toContain(COLLECTIONS.pqcKeys);
  });

  it('skips indexes the server cannot build', async () => {
    const lines = readFileSync(backupFile, 'utf8').split('\n');
    const header = EJSON.parse(lines[0]!, { relaxed: false }) as Document;
    const users = (header.collections as Document[]).find((c) => c.name === COLLECTIONS.users)!;
    users.indexes.push({
      key: { refreshTokenHash: 1 },
      name: 'refreshTokenHash_1',
      unique: true,
      partialFilterExpression: { refreshTokenHash: { $type: 'string' } },
    });
    const file = join(directory, 'partial.backup');
    writeFileSync(
      file,
      [EJSON.stringify(header, { relaxed: false }), ...lines.slice(1)].join('\n'),
    );
    const logged: string[] = [];
    const target = await environment.context('backup_partial', { logger: warnings(logged) });

    const report = await restoreDatabase(target, { file });

    const restored = report.collections.find((c) => c.name === COLLECTIONS.users)!;
    const names = (await indexes(target.db, COLLECTIONS.users)).map((index) => index.name);
    if (target.server.partialIndexes) {
      expect(names).toContain('refreshTokenHash_1');
      expect(restored.indexesSkipped).toEqual([]);
    } else {
      expect(names).not.toContain('refreshTokenHash_1');
      expect(restored.indexesSkipped.map((index) => index.name)).toEqual(['refreshTokenHash_1']);
      expect(logged.some((message) => message.includes('cannot build this index'))).toBe(true);
    }
    expect(restored.count).toBe(41);
  });
});

describe('interrupted restore', () => {
  /** Creates the collections a restore with run id `0badf00d` leaves when its server crashes. */
  async function leaveInterruptedRun(db: Db): Promise<void> {
    await db.collection('restore_0badf00d_users').insertMany([
      portalUser(501, { refreshTokenHash: 'token hash 501' }),
      portalUser(502),
    ]);
    await db.collection<{ _id: string }>('restore_0badf00d_pqcKeys').insertOne({ _id: 'key-501' });
    await db
      .collection<{ _id: string }>('restore_0badf00d_replaced_pqcMigrations')
      .insertOne({ _id: 'old' });
  }

  it('finds the collections it left', async () => {
    const target = await environment.context('restore_leftovers_found');
    await leaveInterruptedRun(target.db);
    await target.db.collection('restore_notes').insertOne({ note: 'not from a restore' });

    const leftovers = await findRestoreLeftovers(target.db);

    expect(leftovers).toEqual([
      { name: 'restore_0badf00d_pqcKeys', kind: 'staging', target: 'pqcKeys', count: 1 },
      {
        name: 'restore_0badf00d_replaced_pqcMigrations',
        kind: 'replaced',
        target: 'pqcMigrations',
        count: 1,
      },
      { name: 'restore_0badf00d_users', kind: 'staging', target: 'users', count: 2 },
    ]);
  });

  it('restore drops staging and keeps replaced', async () => {
    const logged: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const record =
      (level: string) =>
      (fields: object, message: string): void => {
        logged.push({ level, fields: fields as Record<string, unknown>, message });
      };
    const target = await environment.context('restore_leftovers_dropped', {
      logger: {
        debug: record('debug'),
        info: record('info'),
        warn: record('warn'),
        error: record('error'),
      },
    });
    await leaveInterruptedRun(target.db);

    const report = await restoreDatabase(target, { file: backupFile });

    expect(report.collections.find((c) => c.name === COLLECTIONS.users)?.count).toBe(41);
    const names = await collectionNames(target.db);
    expect(names).not.toContain('restore_0badf00d_users');
    expect(names).not.toContain('restore_0badf00d_pqcKeys');
    expect(names).toContain('restore_0badf00d_replaced_pqcMigrations');
    expect(await findRestoreLeftovers(target.db)).toHaveLength(1);

    const dropped = logged.filter((line) => line.message.includes('dropped the staging collection'));
    expect(dropped.map((line) => line.level)).toEqual(['info', 'info']);
    expect(dropped.map((line) => [line.fields.collection, line.fields.documents])).toEqual([
      ['restore_0badf00d_pqcKeys', 1],
      ['restore_0badf00d_users', 2],
    ]);
    const kept = logged.find((line) => line.fields.collection === 'restore_0badf00d_replaced_pqcMigrations');
    expect(kept?.level).toBe('warn');
    expect(kept?.message).toContain('rename it back or drop it by hand');
  });

  it('a rejected restore drops nothing', async () => {
    const target = await environment.context('restore_leftovers_rejected');
    await leaveInterruptedRun(target.db);
    await target.db.collection(COLLECTIONS.users).insertOne(portalUser(999));

    const error: unknown = await restoreDatabase(target, { file: backupFile }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(StoreConflictError);
    expect(await findRestoreLeftovers(target.db)).toHaveLength(3);
  });
});

describe('damaged backup files', () => {
  const damages: { name: string; damage: (text: string) => string; problem: RegExp }[] = [
    {
      name: 'truncated mid-line',
      damage: (text) => text.slice(0, text.length - 120),
      problem: /not Extended JSON|SHA-256|documents/,
    },
    {
      name: 'missing its last line',
      damage: (text) => text.split('\n').slice(0, -2).join('\n') + '\n',
      problem: /has \d+ documents, the header says \d+/,
    },
    {
      name: 'with one edited value',
      damage: (text) => text.replace('user7@example.com', 'user7@example.org'),
      problem: /SHA-256 of collection users does not match/,
    },
    {
      name: 'with a broken header',
      damage: (text) => `{"format": ${text.slice(12)}`,
      problem: /header is not Extended JSON/,
    },
    {
      name: 'of another format',
      damage: (text) => text.replace(`"format":"${BACKUP_FORMAT}"`, '"format":"mongoexport"'),
      problem: /format is "mongoexport"/,
    },
    { name: 'that is empty', damage: () => '', problem: /the file is empty/ },
  ];

  for (const { name, damage, problem } of damages) {
    it(`rejects a file ${name}`, async () => {
      const file = join(directory, `damaged-${name.replaceAll(' ', '-')}.backup`);
      writeFileSync(file, damage(readFileSync(backupFile, 'utf8')));
      const target = await environment.context(
        `backup_damaged_${damages.findIndex((d) => d.name === name)}`,
      );

      const error: unknown = await restoreDatabase(target, { file }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(InvalidBackupError);
      expect((error as InvalidBackupError).code).toBe('ERR_STORE_VALIDATION');
      expect((error as Error).message).toMatch(problem);
      expect(await collectionNames(target.db)).toEqual([]);
    });
  }

  it('names the line of a bad document', async () => {
    const lines = readFileSync(backupFile, 'utf8').split('\n');
    lines[3] = '{"collection":"users","document":{"_id":{"$oid":"xyz"}}}';
    const file = join(directory, 'bad-line.backup');
    writeFileSync(file, lines.join('\n'));

    const error: unknown = await scanBackup(file).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidBackupError);
    expect((error as InvalidBackupError).line).toBe(4);
  });
});

describe('large collections', () => {
  it('streams 100,000 documents', async () => {
    const context = await environment.context('backup_large');
    const events = context.db.collection<{ _id: number; at: Date; n: Int32 }>('events');
    for (let start = 0; start < 100_000; start += 10_000) {
      await events.insertMany(
        Array.from({ length: 10_000 }, (_, i) => ({
          _id: start + i,
          at: new Date(start + i),
          n: new Int32(i),
        })),
        { ordered: false },
      );
    }
    const file = join(directory, 'large.backup');

    const header = await backupDatabase(context, { file, collections: ['events'] });
    const target = await environment.context('backup_large_target');
    const report = await restoreDatabase(target, { file, batchSize: 5000 });

    expect(header.collections[0]?.count).toBe(100_000);
    expect(report.collections[0]?.count).toBe(100_000);
    expect(await target.db.collection('events').countDocuments({ at: { $type: 'date' } })).toBe(
      100_000,
    );
    const last = await target.db.collection('events').findOne({ _id: 99_999 as never });
    expect(last?.at).toEqual(new Date(99_999));
  }, 300_000);
});

// Schema and migration rules against a real server. Unique indexes admit any number of explicit
// nulls, a rerun keeps enrolled keys and a rollback restores them. Expired keys stay valid
// documents, emails may use plus-addressing and long top-level domains, and dates are BSON dates,
// never strings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectId } from 'mongodb';
import type { Document } from 'mongodb';
import { isPqcError } from '../../src/errors.js';
import type { StoreContext } from '../../src/store/context.js';
import { MigrationFailedError, StoreConflictError } from '../../src/store/errors.js';
import {
  addPqcFields,
  ADD_PQC_FIELDS_ID,
  USER_INDEX_NAMES,
} from '../../src/store/migrations/001-add-pqc-fields.js';
import type { MigrationRun } from '../../src/store/migrations/index.js';
import { migrateDown, migrateUp } from '../../src/store/migrations/runner.js';
import { COLLECTIONS, keyState, PQC_FIELDS } from '../../src/store/schema.js';
import { UserStore } from '../../src/store/users.js';
import { canonicalJson, checkUserRules } from '../../src/store/validate.js';
import { enrolledFields, pqcFieldsById, portalUser } from './fixtures/migration-users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

let environment: StoreTestEnvironment;

beforeAll(async () => {
  environment = await startStoreEnvironment();
});

afterAll(async () => {
  await environment?.close();
});

async function insertUsers(context: StoreContext, users: Document[]): Promise<void> {
  await context.db.collection(COLLECTIONS.users).insertMany(users);
}

async function enrolledUsers(count: number, offset: number): Promise<Document[]> {
  const users: Document[] = [];
  for (let i = 0; i < count; i += 1) users.push(portalUser(offset + i, await enrolledFields()));
  return users;
}

function sameFields(
  before: Map<string, Document>,
  after: Map<string, Document>,
  ids: readonly string[],
): void {
  for (const id of ids) {
    expect(canonicalJson(after.get(id)), `PQC fields of user ${id}`).toBe(
      canonicalJson(before.get(id)),
    );
  }
}

async function userIndex(context: StoreContext, name: string): Promise<Document | undefined> {
  const indexes = await context.users.listIndexes().toArray();
  return indexes.find((index) => index.name === name);
}

/** Returns a run whose `ensureLock` fails after `writes` calls, like a process killed half-way. */
function crashingRun(context: StoreContext, writes: number): MigrationRun {
  let calls = 0;
  return {
    context,
    batchSize: 2,
    force: false,
    ensureLock: async () => {
      calls += 1;
      if (calls > writes) throw new Error('process killed');
    },
  };
}

describe('unique index over explicit nulls', () => {
  it('admits two users with null key fields', async () => {
    const context = await environment.context('nulls_two');
    await insertUsers(context, [
      portalUser(1, { pqcKeyId: null, qynAuthUserId: null }),
      portalUser(2, { pqcKeyId: null, qynAuthUserId: null }),
    ]);

    await migrateUp(context);

    expect(await context.users.countDocuments({ pqcKeyId: { $type: 'null' } })).toBe(0);
    expect(await context.users.countDocuments({ qynAuthUserId: { $type: 'null' } })).toBe(0);
    expect(await context.users.countDocuments({ pqcKeyId: { $exists: true } })).toBe(0);
    await insertUsers(context, [
      portalUser(3, { pqcKeyId: null, qynAuthUserId: null }),
      portalUser(4, { pqcKeyId: null, qynAuthUserId: null }),
    ]);
    expect(await context.users.countDocuments()).toBe(4);
  });

  it('admits many users with null or absent fields', async () => {
    const context = await environment.context('nulls_many');
    await insertUsers(context, [
      ...Array.from({ length: 60 }, (_, i) =>
        portalUser(i, { pqcKeyId: null, qynAuthUserId: null }),
      ),
      ...Array.from({ length: 140 }, (_, i) => portalUser(100 + i)),
      ...(await enrolledUsers(3, 500)),
    ]);

    const report = await migrateUp(context);

    expect(report.steps[0]?.summary?.defaultsWritten).toBe(200);
    await insertUsers(context, [
      ...Array.from({ length: 50 }, (_, i) =>
        portalUser(1000 + i, { pqcKeyId: null, qynAuthUserId: null }),
      ),
      ...Array.from({ length: 50 }, (_, i) => portalUser(2000 + i)),
    ]);
    expect(await context.users.countDocuments()).toBe(303);
    expect((await checkUserRules(context)).counts['duplicate-unique-field']).toBe(0);
  });

  it('builds the indexes the server supports', async () => {
    const context = await environment.context('nulls_indexes');
    await insertUsers(context, [
      portalUser(1, { pqcKeyId: null }),
      portalUser(2, { pqcKeyId: null }),
    ]);

    await migrateUp(context);

    const keyIndex = await userIndex(context, USER_INDEX_NAMES.pqcKeyId);
    const qynIndex = await userIndex(context, USER_INDEX_NAMES.qynAuthUserId);
    const flags = await userIndex(context, USER_INDEX_NAMES.flags);
    expect(flags?.key).toEqual({ pqcEnabled: 1, classicalFallback: 1 });
    if (context.server.partialIndexes) {
      expect(keyIndex?.unique).toBe(true);
      expect(keyIndex?.partialFilterExpression).toEqual({ pqcKeyId: { $type: 'string' } });
      expect(qynIndex?.partialFilterExpression).toEqual({ qynAuthUserId: { $type: 'string' } });
    } else {
      expect(keyIndex?.key).toEqual({ pqcKeyId: 1 });
      expect(keyIndex?.unique).toBeUndefined();
      expect(qynIndex?.unique).toBeUndefined();
    }
    const keyIndexes = (await context.pqcKeys.listIndexes().toArray()).map((index) => index.name);
    expect(keyIndexes).toEqual(expect.arrayContaining(['userId_1', 'status_1']));
  });

  it('replaces a sparse unique index', async () => {
    const context = await environment.context('nulls_sparse');
    await insertUsers(context, [portalUser(1), portalUser(2)]);
    await context.users.createIndex(
      { pqcKeyId: 1 },
      { name: 'pqcKeyId_1', unique: true, sparse: true },
    );

    await migrateUp(context);
    await insertUsers(context, [
      portalUser(3, { pqcKeyId: null }),
      portalUser(4, { pqcKeyId: null }),
    ]);

    const keyIndex = await userIndex(context, USER_INDEX_NAMES.pqcKeyId);
    expect(keyIndex?.sparse).toBeUndefined();
    expect(await context.users.countDocuments({ pqcKeyId: null })).toBe(4);
  });

  it('keeps qynAuthUserId unique after the migration', async () => {
    const context = await environment.context('nulls_claims');
    await migrateUp(context);
    const store = new UserStore(context, { bcryptRounds: 4 });

    await store.createUser({
      email: 'first@example.com',
      password: 'correct horse',
      qynAuthUserId: 'qa-1',
    });

    await expect(
      store.createUser({
        email: 'second@example.com',
        password: 'correct horse',
        qynAuthUserId: 'qa-1',
      }),
    ).rejects.toThrow(StoreConflictError);
  });

  it('reports qynAuthUserId values shared by users', async () => {
    const context = await environment.context('nulls_shared');
    await insertUsers(context, [
      portalUser(1, { qynAuthUserId: 'shared' }),
      portalUser(2, { qynAuthUserId: 'shared' }),
    ]);

    const outcome = await migrateUp(context).catch((error: unknown) => error);

    if (context.server.partialIndexes) {
      expect(outcome).toBeInstanceOf(MigrationFailedError);
      expect((outcome as Error).message).toContain('users share a pqcKeyId or qynAuthUserId');
    } else {
      expect(outcome).not.toBeInstanceOf(Error);
      const summary = (outcome as Awaited<ReturnType<typeof migrateUp>>).steps[0]?.summary;
      expect(summary?.duplicateQynAuthUserIds).toEqual(['shared']);
    }
  });
});

describe('rerunning the migration', () => {
  it('keeps enrolled users keys', async () => {
    const context = await environment.context('rerun_keys');
    const enrolled = await enrolledUsers(5, 0);
    await insertUsers(context, [...enrolled, portalUser(10), portalUser(11, { pqcKeyId: null })]);
    await migrateUp(context);
    const before = await pqcFieldsById(context.users);

    // A process killed after the migration's steps but before its changelog entry reruns it.
    await context.db
      .collection(COLLECTIONS.migrations)
      .deleteOne({ _id: ADD_PQC_FIELDS_ID } as never);
    const rerun = await migrateUp(context);

    expect(rerun.steps.map((step) => step.id)).toEqual([ADD_PQC_FIELDS_ID]);
    expect(rerun.steps[0]?.summary?.defaultsWritten).toBe(0);
    const after = await pqcFieldsById(context.users);
    sameFields(before, after, [...before.keys()]);
    for (const user of enrolled)
      expect(after.get(user._id.toHexString())?.pqcKeyId).toBe(user.pqcKeyId);
  });

  it('writes no null and no Portal field', async () => {
    const context = await environment.context('rerun_nulls');
    const bare = { _id: new ObjectId(), email: 'bare@example.com', password: 'hash' };
    await insertUsers(context, [bare, portalUser(1, { pqcKeyId: null, qynAuthUserId: null })]);

    await migrateUp(context);

    const stored = await context.users.findOne({ _id: bare._id });
    expect(stored).toEqual({ ...bare, pqcEnabled: false, classicalFallback: true });
    for (const field of [...PQC_FIELDS, 'qynAuthUserId']) {
      expect(await context.users.countDocuments({ [field]: { $type: 'null' } }), field).toBe(0);
    }
  });
});

describe('rollback', () => {
  it('up, down, up restores the keys', async () => {
    const context = await environment.context('rollback_keys');
    const enrolled = await enrolledUsers(4, 0);
    const consent = [new ObjectId()];
    await insertUsers(context, [
      ...enrolled,
      portalUser(10, { qynAuthUserId: 'qa-10', consentRecords: consent }),
      portalUser(11, { classicalFallback: false }),
    ]);
    await migrateUp(context);
    const before = await pqcFieldsById(context.users);

    const down = await migrateDown(context);
    expect(down.steps[0]?.summary).toMatchObject({ usersChanged: 6, backupsWritten: 5 });
    for (const field of PQC_FIELDS)
      expect(await context.users.countDocuments({ [field]: { $exists: true } })).toBe(0);
    const linked = await context.users.findOne({ qynAuthUserId: 'qa-10' });
    expect(linked?.consentRecords).toEqual(consent);
    expect(await userIndex(context, USER_INDEX_NAMES.qynAuthUserId)).toBeDefined();
    expect(await userIndex(context, USER_INDEX_NAMES.pqcKeyId)).toBeUndefined();

    const up = await migrateUp(context);
    expect(up.steps[0]?.summary).toMatchObject({ restored: 5, keyConflicts: 0 });
    const after = await pqcFieldsById(context.users);
    sameFields(before, after, [...before.keys()]);
    for (const fields of after.values()) {
      if (fields.pqcKeyGeneratedAt !== undefined)
        expect(fields.pqcKeyGeneratedAt).toBeInstanceOf(Date);
    }
    expect(await context.db.collection(COLLECTIONS.migrationBackup).countDocuments()).toBe(0);
  });

  it('restores keys on the conditional-update path', async () => {
    await environment.database('rollback_conditional');
    const context = await environment.instance('rollback_conditional', {
      capabilities: { atomicUpdates: true },
    });
    await insertUsers(context, [...(await enrolledUsers(3, 0)), portalUser(10), portalUser(11)]);
    await migrateUp(context, { batchSize: 2 });
    const before = await pqcFieldsById(context.users);

    await migrateDown(context, { batchSize: 2 });
    expect(await context.users.countDocuments({ pqcKeyId: { $exists: true } })).toBe(0);
    await migrateUp(context, { batchSize: 2 });

    sameFields(before, await pqcFieldsById(context.users), [...before.keys()]);
    expect(await context.leases.collection.countDocuments({ key: /^user:/ })).toBe(0);
  });

  it('keeps new keys and reports them', async () => {
    const context = await environment.context('rollback_conflict');
    const [user] = await enrolledUsers(1, 0);
    await insertUsers(context, [user!]);
    await migrateUp(context);
    await migrateDown(context);
    const replacement = await enrolledFields();
    await context.users.updateOne({ _id: user!._id }, { $set: replacement });

    const up = await migrateUp(context);

    expect(up.steps[0]?.summary).toMatchObject({
      keyConflicts: 1,
      keyConflictUserIds: [user!._id.toHexString()],
    });
    const stored = await context.users.findOne({ _id: user!._id });
    expect(stored?.pqcKeyId).toBe(replacement.pqcKeyId);
    expect(stored?.pqcPublicKey).toBe(replacement.pqcPublicKey);
    const entry = await context.db
      .collection(COLLECTIONS.migrationBackup)
      .findOne({ _id: user!._id });
    expect(entry?.fields.pqcKeyId).toBe(user!.pqcKeyId);
    expect(entry?.conflict.currentKeyId).toBe(replacement.pqcKeyId);

    await expect(migrateDown(context)).rejects.toThrow(/contain keys that users replaced/);
    await migrateDown(context, { force: true });
    const saved = await context.db
      .collection(COLLECTIONS.migrationBackup)
      .findOne({ _id: user!._id });
    expect(saved?.fields.pqcKeyId).toBe(replacement.pqcKeyId);
    expect(saved?.conflict).toBeUndefined();
  });

  it('rerun after a crash in down', async () => {
    const context = await environment.context('rollback_crash_down');
    await insertUsers(context, [...(await enrolledUsers(5, 0)), portalUser(10), portalUser(11)]);
    await migrateUp(context);
    const before = await pqcFieldsById(context.users);

    await expect(addPqcFields.down(crashingRun(context, 3))).rejects.toThrow('process killed');
    expect(await context.users.countDocuments({ pqcEnabled: { $exists: true } })).toBeGreaterThan(
      0,
    );
    expect(await context.users.countDocuments({ pqcEnabled: { $exists: false } })).toBeGreaterThan(
      0,
    );
    await migrateDown(context);
    await migrateUp(context);

    sameFields(before, await pqcFieldsById(context.users), [...before.keys()]);
  });

  it('rerun after a crash in the restore', async () => {
    const context = await environment.context('rollback_crash_up');
    await insertUsers(context, [...(await enrolledUsers(6, 0)), portalUser(10)]);
    await migrateUp(context);
    const before = await pqcFieldsById(context.users);
    await migrateDown(context);

    await expect(addPqcFields.up(crashingRun(context, 2))).rejects.toThrow('process killed');
    expect(await context.users.countDocuments({ pqcKeyId: { $exists: true } })).toBeGreaterThan(0);
    expect(
      await context.db.collection(COLLECTIONS.migrationBackup).countDocuments(),
    ).toBeGreaterThan(0);
    await migrateUp(context);

    sameFields(before, await pqcFieldsById(context.users), [...before.keys()]);
    expect(await context.db.collection(COLLECTIONS.migrationBackup).countDocuments()).toBe(0);
  });

  it('never touches pqcKeys', async () => {
    const context = await environment.context('rollback_history');
    const [user] = await enrolledUsers(1, 0);
    await insertUsers(context, [user!]);
    await migrateUp(context);
    await context.db.collection(COLLECTIONS.pqcKeys).insertOne({
      _id: user!.pqcKeyId,
      userId: user!._id,
      status: 'current',
      generatedAt: user!.pqcKeyGeneratedAt,
    } as never);
    const history = await context.pqcKeys.find({}).toArray();

    await migrateDown(context);

    expect(await context.pqcKeys.find({}).toArray()).toEqual(history);
    const indexes = (await context.pqcKeys.listIndexes().toArray()).map((index) => index.name);
    expect(indexes).toEqual(expect.arrayContaining(['userId_1', 'status_1']));
  });
});

describe('expired keys', () => {
  it('stay valid documents', async () => {
    const context = await environment.context('expired_keys');
    const generatedAt = new Date(Date.now() - 2 * 365 * 24 * 60 * 60 * 1000);
    const expired = portalUser(1, await enrolledFields(generatedAt));
    await insertUsers(context, [expired]);

    await migrateUp(context);
    await migrateDown(context);
    await migrateUp(context);

    const stored = await context.users.findOne({ _id: expired._id });
    expect(stored?.pqcKeyExpiresAt?.getTime()).toBeLessThan(Date.now());
    expect(keyState(stored!)).toBe('expired');
    const rules = await checkUserRules(context);
    expect(rules.violations).toEqual([]);
    expect(rules.usersChecked).toBe(1);
  });
});

describe('emails', () => {
  it('accepts plus-addressing and long TLDs', async () => {
    const context = await environment.context('emails');
    const store = new UserStore(context, { bcryptRounds: 4 });

    const plus = await store.createUser({
      email: '  Ada+Tag@Example.Company ',
      password: 'correct horse',
    });
    const info = await store.createUser({
      email: 'grace@mail.example.info',
      password: 'correct horse',
    });
    await migrateUp(context);

    expect(plus.email).toBe('ada+tag@example.company');
    expect(info.email).toBe('grace@mail.example.info');
    expect((await store.getByEmail('ADA+tag@example.company'))?._id).toEqual(plus._id);
    expect((await checkUserRules(context)).counts['email-not-normalized']).toBe(0);
  });

  it('rejects control characters', async () => {
    const context = await environment.context('email_controls');
    const store = new UserStore(context, { bcryptRounds: 4 });
    const cases: [email: string, codePoint: string][] = [
      ['x@example.com\u0000evil', 'U+0000'],
      ['x\u0001@example.com', 'U+0001'],
      ['x@exa\u001bmple.com', 'U+001B'],
      ['x\u007f@example.com', 'U+007F'],
      ['x@example.com\u0085', 'U+0085'],
      ['x\u009f@example.com', 'U+009F'],
    ];

    for (const [email, codePoint] of cases) {
      const error = await store
        .createUser({ email, password: 'correct horse' })
        .catch((e: unknown) => e);

      expect(isPqcError(error, 'ERR_STORE_VALIDATION'), codePoint).toBe(true);
      expect((error as Error).message, codePoint).toContain(`control character ${codePoint}`);
    }
    expect(await context.users.countDocuments({})).toBe(0);
  });
});

describe('dates', () => {
  it('are BSON dates, never strings', async () => {
    const context = await environment.context('dates');
    const store = new UserStore(context, { bcryptRounds: 4 });
    const created = await store.createUser({
      email: 'dates@example.com',
      password: 'correct horse',
    });
    const generatedAt = new Date(Date.UTC(2025, 5, 1, 12, 0, 0));
    await context.users.updateOne(
      { _id: created._id },
      { $set: await enrolledFields(generatedAt) },
    );

    await migrateUp(context);
    await migrateDown(context);
    await migrateUp(context);

    for (const field of ['createdAt', 'updatedAt', 'pqcKeyGeneratedAt', 'pqcKeyExpiresAt']) {
      expect(await context.users.countDocuments({ [field]: { $type: 'date' } }), field).toBe(1);
    }
    const stored = await context.users.findOne({ _id: created._id });
    expect(stored?.pqcKeyGeneratedAt?.toISOString()).toBe('2025-06-01T12:00:00.000Z');
    expect((await checkUserRules(context)).counts['date-as-string']).toBe(0);
  });
});

// Validation against a real server: each rule of checkUserRules on a deliberately broken user,
// a clean migrated collection, and snapshots compared across a migration, a backup and JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Binary, Double, Int32, Long, ObjectId, Timestamp } from 'mongodb';
import type { Document } from 'mongodb';
import { loadPqc } from '../../src/core/pqc.js';
import type { StoreContext } from '../../src/store/context.js';
import { backupDatabase } from '../../src/store/backup.js';
import { KeyStore } from '../../src/store/keys.js';
import { migrateDown, migrateUp } from '../../src/store/migrations/runner.js';
import { COLLECTIONS } from '../../src/store/schema.js';
import {
  bsonTypeName,
  checkUserRules,
  compareSnapshots,
  snapshotFromBackup,
  snapshotFromJson,
  snapshotToJson,
  takeSnapshot,
} from '../../src/store/validate.js';
import type { UserRule } from '../../src/store/validate.js';
import { enrolledFields, portalUser } from './fixtures/migration-users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

let environment: StoreTestEnvironment;
let directory: string;

beforeAll(async () => {
  environment = await startStoreEnvironment();
  directory = mkdtempSync(join(tmpdir(), 'qynpqc-validate-'));
});

afterAll(async () => {
  await environment?.close();
  rmSync(directory, { recursive: true, force: true });
});

/** `publicKey` (base64) with its first 12-bit coefficient re-packed as q = 3329. */
function withCoefficientQ(publicKey: string): string {
  const bytes = Buffer.from(publicKey, 'base64');
  bytes[0] = 3329 & 0xff;
  bytes[1] = (bytes[1]! & 0xf0) | (3329 >> 8);
  return bytes.toString('base64');
}

function shortened(publicKey: string): string {
  return Buffer.from(publicKey, 'base64').subarray(1).toString('base64');
}

describe('checkUserRules', () => {
  it('reports each rule on a broken user', async () => {
    const context = await environment.context('rules_broken');
    const keys = await enrolledFields();
    const sameKeys = await enrolledFields();
    // One key pair per case, so that only the cases about shared keys share a public key.
    const placeholderKeys = await enrolledFields();
    const shortKemKeys = await enrolledFields();
    const modulusKeys = await enrolledFields();
    const shortSignatureKeys = await enrolledFields();
    const unkeyedKeys = await enrolledFields();
    const generated = keys.pqcKeyGeneratedAt!;
    const cases: { name: string; extra: Document; expected: [UserRule, string][] }[] = [
      {
        name: 'null pqcKeyId',
        extra: { pqcKeyId: null },
        expected: [['null-unique-field', 'pqcKeyId']],
      },
      {
        name: 'null qynAuthUserId',
        extra: { qynAuthUserId: null },
        expected: [['null-unique-field', 'qynAuthUserId']],
      },
      {
        name: 'placeholder text as public key',
        extra: {
          ...placeholderKeys,
          pqcKeyId: 'k-mock',
          pqcPublicKey: 'mock-kyber-768-public-key-base64',
        },
        expected: [['invalid-public-key', 'pqcPublicKey']],
      },
      {
        name: 'KEM key one byte short',
        extra: {
          ...shortKemKeys,
          pqcKeyId: 'k-short',
          pqcPublicKey: shortened(shortKemKeys.pqcPublicKey!),
        },
        expected: [['invalid-public-key', 'pqcPublicKey']],
      },
      {
        name: 'KEM key failing the modulus check',
        extra: {
          ...modulusKeys,
          pqcKeyId: 'k-modulus',
          pqcPublicKey: withCoefficientQ(modulusKeys.pqcPublicKey!),
        },
        expected: [['invalid-public-key', 'pqcPublicKey']],
      },
      {
        name: 'signature key one byte short',
        extra: {
          ...shortSignatureKeys,
          pqcKeyId: 'k-sig',
          pqcSignaturePublicKey: shortened(shortSignatureKeys.pqcSignaturePublicKey!),
        },
        expected: [['invalid-public-key', 'pqcSignaturePublicKey']],
      },
      {
        name: 'keys without key id',
        extra: { pqcPublicKey: unkeyedKeys.pqcPublicKey, pqcEnabled: false },
        expected: [['incomplete-keys', 'pqcSignaturePublicKey']],
      },
      {
        name: 'enabled without keys',
        extra: { pqcEnabled: true },
        expected: [['enabled-without-keys', 'pqcEnabled']],
      },
      {
        name: 'expiry equal to generation',
        extra: { ...keys, pqcKeyId: 'k-dates', pqcKeyExpiresAt: generated },
        expected: [['invalid-key-dates', 'pqcKeyExpiresAt']],
      },
      {
        name: 'date as string',
        extra: { createdAt: '2024-03-01T10:00:00', lastLoginAt: '2024-03-02 08:00' },
        expected: [
          ['date-as-string', 'createdAt'],
          ['date-as-string', 'lastLoginAt'],
        ],
      },
      {
        name: 'email not lower-cased',
        extra: { email: 'Mixed@Example.com' },
        expected: [['email-not-normalized', 'email']],
      },
      {
        name: 'email not trimmed',
        extra: { email: ' pad@example.com' },
        expected: [['email-not-normalized', 'email']],
      },
      {
        name: 'first of a shared key id',
        extra: { ...sameKeys },
        expected: [['duplicate-unique-field', 'pqcKeyId']],
      },
      {
        name: 'second of a shared key id',
        extra: { ...sameKeys },
        expected: [['duplicate-unique-field', 'pqcKeyId']],
      },
      {
        name: 'shared qynAuthUserId',
        extra: { qynAuthUserId: 'qa-shared' },
        expected: [['duplicate-unique-field', 'qynAuthUserId']],
      },
      {
        name: 'other shared qynAuthUserId',
        extra: { qynAuthUserId: 'qa-shared' },
        expected: [['duplicate-unique-field', 'qynAuthUserId']],
      },
      { name: 'clean user', extra: { ...(await enrolledFields()) }, expected: [] },
      { name: 'plain Portal user', extra: {}, expected: [] },
    ];
    const users = cases.map((entry, index) => portalUser(index, entry.extra));
    await context.db.collection(COLLECTIONS.users).insertMany(users);

    const report = await checkUserRules(context);

    expect(report.usersChecked).toBe(cases.length);
    cases.forEach((entry, index) => {
      const id = users[index]!._id.toHexString();
      const found = report.violations
        .filter((violation) => violation.userId === id)
        .map((violation) => [violation.rule, violation.field]);
      expect(found, entry.name).toEqual(entry.expected);
    });
    const expectedTotal = cases.reduce((sum, entry) => sum + entry.expected.length, 0);
    expect(report.violations).toHaveLength(expectedTotal);
    expect(report.truncated).toBe(false);
    expect(report.counts['invalid-public-key']).toBe(4);
  });

  it('reports public keys shared across users', async () => {
    const context = await environment.context('rules_shared_public_keys');
    const owner = await enrolledFields();
    const other = await enrolledFields();
    const users = [
      portalUser(1, owner),
      portalUser(2, { ...other, pqcKeyId: 'k-copied-kem', pqcPublicKey: owner.pqcPublicKey }),
      portalUser(3, {
        ...(await enrolledFields()),
        pqcKeyId: 'k-copied-signature',
        pqcSignaturePublicKey: owner.pqcSignaturePublicKey,
      }),
      portalUser(4, await enrolledFields()),
    ];
    await context.db.collection(COLLECTIONS.users).insertMany(users);
    const [first, second, third, fourth] = users.map((user) => user._id.toHexString());

    const report = await checkUserRules(context);

    const found = report.violations
      .filter((violation) => violation.rule === 'duplicate-public-key')
      .map((violation) => [violation.userId, violation.field])
      .sort();
    expect(found).toEqual(
      [
        [first, 'pqcPublicKey'],
        [second, 'pqcPublicKey'],
        [first, 'pqcSignaturePublicKey'],
        [third, 'pqcSignaturePublicKey'],
      ].sort(),
    );
    expect(report.counts['duplicate-public-key']).toBe(4);
    const messages = report.violations.map((violation) => violation.message);
    expect(messages.some((message) => message.includes(`also stored by ${second}`))).toBe(true);
    for (const message of messages) {
      expect(message).not.toContain(owner.pqcPublicKey!.slice(0, 16));
      expect(message).not.toContain(owner.pqcSignaturePublicKey!.slice(0, 16));
      expect(message).not.toContain(fourth);
    }
  });

  it('names the problem without key bytes', async () => {
    const context = await environment.context('rules_messages');
    const keys = await enrolledFields();
    await context.db
      .collection(COLLECTIONS.users)
      .insertMany([
        portalUser(1, { ...keys, pqcPublicKey: shortened(keys.pqcPublicKey!) }),
        portalUser(2, {
          ...keys,
          pqcKeyId: 'other',
          pqcPublicKey: withCoefficientQ(keys.pqcPublicKey!),
        }),
      ]);

    const report = await checkUserRules(context);

    const messages = report.violations.map((violation) => violation.message);
    expect(messages).toContain('pqcPublicKey must be 1184 bytes for ML-KEM-768, got 1183');
    expect(
      messages.some((message) => message.includes('coefficient 0 is not below q = 3329')),
    ).toBe(true);
    for (const message of messages) expect(message).not.toContain(keys.pqcPublicKey!.slice(0, 16));
  });

  it('caps the list and keeps counts exact', async () => {
    const context = await environment.context('rules_cap');
    await context.db
      .collection(COLLECTIONS.users)
      .insertMany(Array.from({ length: 30 }, (_, i) => portalUser(i, { pqcKeyId: null })));

    const report = await checkUserRules(context, { maxViolations: 10 });

    expect(report.violations).toHaveLength(10);
    expect(report.counts['null-unique-field']).toBe(30);
    expect(report.truncated).toBe(true);
  });

  it('clean migrated collection reports none', async () => {
    const context = await environment.context('rules_clean');
    const users: Document[] = [];
    for (let i = 0; i < 10; i += 1) users.push(portalUser(i, await enrolledFields()));
    const longAgo = new Date(Date.now() - 3 * 365 * 24 * 60 * 60 * 1000);
    users.push(portalUser(10, await enrolledFields(longAgo)));
    for (let i = 11; i < 40; i += 1)
      users.push(portalUser(i, i % 3 === 0 ? { pqcKeyId: null, qynAuthUserId: null } : {}));
    await context.db.collection(COLLECTIONS.users).insertMany(users);

    const before = await checkUserRules(context);
    await migrateUp(context);
    const after = await checkUserRules(context);

    expect(before.counts['null-unique-field']).toBe(20);
    expect(after.usersChecked).toBe(40);
    expect(after.violations).toEqual([]);
  });
});

describe('snapshots', () => {
  let context: StoreContext;

  beforeAll(async () => {
    context = await environment.context('snapshots');
    const users: Document[] = [];
    for (let i = 0; i < 3; i += 1) users.push(portalUser(i, await enrolledFields()));
    for (let i = 3; i < 20; i += 1)
      users.push(portalUser(i, i % 4 === 0 ? { pqcKeyId: null, qynAuthUserId: null } : {}));
    await context.db.collection(COLLECTIONS.users).insertMany(users);
    await context.users.createIndex({ email: 1 }, { unique: true, name: 'email_1' });
  });

  it('names BSON types as $type does', () => {
    const cases: [unknown, string][] = [
      [new Double(1), 'double'],
      [new Int32(1), 'int'],
      [Long.fromNumber(1), 'long'],
      [new ObjectId(), 'objectId'],
      [new Binary(Buffer.from('x')), 'binData'],
      [new Timestamp({ t: 1, i: 1 }), 'timestamp'],
      [new Date(), 'date'],
      [null, 'null'],
      ['text', 'string'],
      [true, 'bool'],
      [[1], 'array'],
      [{ a: 1 }, 'object'],
    ];
    for (const [value, name] of cases) expect(bsonTypeName(value), name).toBe(name);
  });

  it('separates PQC changes from errors', async () => {
    const before = await takeSnapshot(context);
    await migrateUp(context);
    const after = await takeSnapshot(context);

    const comparison = compareSnapshots(before, after);

    expect(comparison.errors).toEqual([]);
    const messages = comparison.pqcChanges.map((difference) => difference.message);
    expect(messages).toContain('users.pqcEnabled: bool in 3 documents before, 20 after');
    expect(messages.some((message) => message.startsWith('users.qynAuthUserId disappeared'))).toBe(
      true,
    );
    expect(messages.some((message) => message.startsWith('users index pqcKeyId_1 was added'))).toBe(
      true,
    );
    expect(
      messages.some((message) => message.startsWith('collection pqcMigrations appeared')),
    ).toBe(true);
  });

  it('reports other changes as errors', async () => {
    const before = await takeSnapshot(context);
    const [first, second, third] = await context.users.find({}).sort({ _id: 1 }).limit(3).toArray();
    await context.users.updateOne({ _id: first!._id }, { $unset: { lastLoginAt: '' } });
    await context.users.updateOne(
      { _id: second!._id },
      { $set: { createdAt: '2024-01-01' as never } },
    );
    await context.users.deleteOne({ _id: third!._id });
    await context.users.dropIndex('email_1');
    await context.users.updateMany({}, { $set: { pqcEnabled: false } });

    const comparison = compareSnapshots(before, await takeSnapshot(context));

    const errors = comparison.errors.map((difference) =>
      `${difference.kind} ${difference.subject ?? ''}`.trim(),
    );
    expect(errors.sort()).toEqual(
      [
        'count-changed',
        'index-removed email_1',
        'type-added createdAt',
        'type-count-changed createdAt',
        'type-count-changed email',
        'type-count-changed failedLoginAttempts',
        'type-count-changed lastLoginAt',
        'type-count-changed lockUntil',
        'type-count-changed password',
        'type-count-changed updatedAt',
        'type-count-changed _id',
      ].sort(),
    );
    expect(comparison.errors.find((d) => d.kind === 'count-changed')?.message).toBe(
      'collection users had 20 documents, now 19',
    );
    expect(comparison.pqcChanges.some((difference) => difference.subject === 'pqcEnabled')).toBe(
      true,
    );
  });

  it('round-trips through JSON', async () => {
    const snapshot = await takeSnapshot(context);

    const parsed = snapshotFromJson(snapshotToJson(snapshot));

    expect(parsed).toEqual(snapshot);
    expect(compareSnapshots(snapshot, parsed)).toEqual({ pqcChanges: [], errors: [] });
    expect(() => snapshotFromJson('{"database": 1}')).toThrow(/not a snapshot/);
    expect(() => snapshotFromJson('not json')).toThrow(/not JSON/);
  });

  it('from a backup equals the database', async () => {
    await context.users.insertOne({
      _id: new ObjectId(),
      email: 'types@example.com',
      ratio: new Double(1),
      count: new Int32(2),
      big: Long.fromString('9007199254740993'),
      blob: new Binary(Buffer.from('0123456789abcdef'), Binary.SUBTYPE_UUID),
      bytes: new Binary(Buffer.from('bytes')),
    } as never);
    const file = join(directory, 'snapshot.backup');
    await backupDatabase(context, { file });

    const fromDatabase = await takeSnapshot(context);
    const fromBackup = await snapshotFromBackup(file);

    expect(fromBackup.source).toBe('backup');
    expect(compareSnapshots(fromDatabase, fromBackup)).toEqual({ pqcChanges: [], errors: [] });
    const users = fromBackup.collections.find((c) => c.name === COLLECTIONS.users)!;
    expect(users.fields.ratio).toEqual({ double: 1 });
    expect(users.fields.count).toEqual({ int: 1 });
    expect(users.fields.big).toEqual({ long: 1 });
  });
});

describe('lost key ids', () => {
  it('reports keys lost by down and up', async () => {
    const context = await environment.context('lost_keys');
    const emails = ['lost', 'removed', 'rotated', 'kept'].map((name) => `${name}@example.com`);
    await context.db
      .collection(COLLECTIONS.users)
      .insertMany(emails.map((email, i) => ({ ...portalUser(i), email })));
    await migrateUp(context);
    const keys = new KeyStore(context, { keySource: await loadPqc() });
    const enrolled = new Map<string, string>();
    for (const email of emails) {
      const result = await keys.enroll({ email });
      enrolled.set(email, result.keyId);
    }
    const file = join(directory, 'lost-keys.backup');
    await backupDatabase(context, { file });
    const before = await snapshotFromBackup(file);

    await keys.removeKeys({ email: 'removed@example.com' });
    await keys.rotate({ email: 'rotated@example.com' });
    await migrateDown(context);
    const down = await takeSnapshot(context);
    // The saved fields of one user are gone, so the next up cannot give that user's keys back.
    const lost = await context.users.findOne({ email: 'lost@example.com' });
    await context.db.collection(COLLECTIONS.migrationBackup).deleteOne({ _id: lost!._id });
    await migrateUp(context);
    const after = await takeSnapshot(context);

    const lostKeys = compareSnapshots(before, after).errors.filter((d) => d.kind === 'key-lost');
    expect(lostKeys).toHaveLength(1);
    expect(lostKeys[0]!.collection).toBe(COLLECTIONS.users);
    expect(lostKeys[0]!.subject).toBe('pqcKeyId');
    expect(lostKeys[0]!.message).toContain(lost!._id.toHexString());
    expect(lostKeys[0]!.message).toContain(`pqcKeyId ${enrolled.get('lost@example.com')}`);
    const whileDown = compareSnapshots(before, down).errors.filter((d) => d.kind === 'key-lost');
    expect(whileDown).toEqual([]);
  });

  it('skips snapshots without key holders', async () => {
    const context = await environment.context('lost_keys_old_snapshot');
    await context.db.collection(COLLECTIONS.users).insertOne(portalUser(0, await enrolledFields()));
    await migrateUp(context);
    const before = await takeSnapshot(context);
    await context.users.updateMany({}, { $unset: { pqcKeyId: '' } });
    const after = await takeSnapshot(context);

    const withHolders = compareSnapshots(before, after).errors;
    const { keyHolders: _keyHolders, ...saved } = before;
    const withoutHolders = compareSnapshots(saved, after).errors;

    expect(withHolders.map((d) => d.kind)).toEqual(['key-lost']);
    expect(withoutHolders).toEqual([]);
  });
});

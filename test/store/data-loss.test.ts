// Zero data loss of migration 001 on 10,000 users against a real server: across up, down and up,
// a SHA-256 over every non-PQC field of every user stays the same, and every enrolled user gets
// its PQC fields back exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Double, Int32, ObjectId } from 'mongodb';
import type { Document } from 'mongodb';
import type { StoreContext } from '../../src/store/context.js';
import { migrateDown, migrateUp } from '../../src/store/migrations/runner.js';
import { COLLECTIONS, PQC_FIELDS } from '../../src/store/schema.js';
import { canonicalJson, checkUserRules } from '../../src/store/validate.js';
import { enrolledFields, portalUser } from './fixtures/migration-users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

const USERS = 10_000;
/** Every this many users one is enrolled: 300 of 10,000. */
const ENROLLED_EVERY = 33;
const INSERT_BATCH = 1_000;

let environment: StoreTestEnvironment;
let context: StoreContext;
const enrolledIds: string[] = [];

/** Returns a Portal user with the variety of the shared collection; some lack optional fields. */
function variedUser(index: number): Document {
  const extra: Document = {};
  if (index % 3 === 0) extra.qynAuthUserId = `qa-${index}`;
  if (index % 4 === 0) extra.consentRecords = [new ObjectId(), new ObjectId()];
  if (index % 5 === 0) extra.isActive = index % 10 === 0;
  if (index % 6 === 0) extra.refreshTokenHash = index % 12 === 0 ? null : `rt-${index}`;
  if (index % 7 === 0) extra.lastLoginAt = new Date(Date.UTC(2025, 0, 1) + index * 1000);
  if (index % 8 === 0) extra.failedLoginAttempts = new Int32(index % 5);
  if (index % 9 === 0) extra.score = new Double(index / 2);
  if (index % 11 === 0) extra.pqcKeyId = null;
  if (index % 13 === 0) extra.lockUntil = new Date(Date.UTC(2026, 0, 1));

  const user = portalUser(index, extra);
  if (index % 17 === 0) delete user.failedLoginAttempts;
  return user;
}

/** SHA-256 over every user's fields except the PQC ones, with sorted keys, in `_id` order. */
async function nonPqcHash(): Promise<{ hash: string; count: number }> {
  const lines: string[] = [];
  const cursor = context.users.find(
    {},
    { promoteValues: false, promoteLongs: false, promoteBuffers: false },
  );
  for await (const user of cursor) {
    const rest: Document = { ...user };
    for (const field of PQC_FIELDS) delete rest[field];
    lines.push(`${user._id.toHexString()} ${canonicalJson(rest)}`);
  }
  lines.sort();
  return { hash: createHash('sha256').update(lines.join('\n')).digest('hex'), count: lines.length };
}

/** Returns the PQC fields of the enrolled users, as canonical Extended JSON, by `_id` hex. */
async function enrolledPqcFields(): Promise<Map<string, string>> {
  const projection = Object.fromEntries(PQC_FIELDS.map((field) => [field, 1]));
  const ids = enrolledIds.map((id) => new ObjectId(id));
  const result = new Map<string, string>();
  const cursor = context.users.find({ _id: { $in: ids } }, { projection, promoteValues: false });
  for await (const { _id, ...fields } of cursor)
    result.set(_id.toHexString(), canonicalJson(fields));
  return result;
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  context = await environment.context('data_loss');

  const users: Document[] = [];
  for (let index = 0; index < USERS; index += 1) {
    if (index % ENROLLED_EVERY === 0) {
      const generatedAt = new Date(Date.UTC(2024, 0, 1) + index * 60_000);
      const user = portalUser(index, await enrolledFields(generatedAt));
      if (index % 2 === 0) user.classicalFallback = false;
      enrolledIds.push(user._id.toHexString());
      users.push(user);
    } else {
      users.push(variedUser(index));
    }
  }
  for (let start = 0; start < users.length; start += INSERT_BATCH) {
    await context.db
      .collection(COLLECTIONS.users)
      .insertMany(users.slice(start, start + INSERT_BATCH));
  }
}, 300_000);

afterAll(async () => {
  await environment?.close();
});

describe('zero data loss', () => {
  it('up, down, up keeps every user field', async () => {
    const timings: Record<string, number> = {};
    const timed = async <T>(label: string, step: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      const result = await step();
      timings[label] = Date.now() - started;
      return result;
    };
    const original = await nonPqcHash();
    const enrolled = await enrolledPqcFields();
    expect(original.count).toBe(USERS);
    expect(enrolled.size).toBe(enrolledIds.length);

    await timed('up', () => migrateUp(context));
    const afterUp = await nonPqcHash();
    const enrolledAfterUp = await enrolledPqcFields();
    const down = await timed('down', () => migrateDown(context));
    const afterDown = await nonPqcHash();
    const up = await timed('up again', () => migrateUp(context));
    const afterUpAgain = await nonPqcHash();
    console.info(`migration 001 on ${USERS} users (ms): ${JSON.stringify(timings)}`);

    expect(afterUp).toEqual(original);
    expect(afterDown).toEqual(original);
    expect(afterUpAgain).toEqual(original);
    expect(down.steps[0]?.summary).toMatchObject({
      usersChanged: USERS,
      backupsWritten: enrolledIds.length,
    });
    expect(up.steps[0]?.summary).toMatchObject({ restored: enrolledIds.length, keyConflicts: 0 });

    const restored = await enrolledPqcFields();
    for (const [id, fields] of enrolled) {
      expect(enrolledAfterUp.get(id), `user ${id} after the first up`).toBe(fields);
      expect(restored.get(id), `user ${id} after up, down, up`).toBe(fields);
    }
    expect(await context.db.collection(COLLECTIONS.migrationBackup).countDocuments()).toBe(0);
    expect((await checkUserRules(context)).violations).toEqual([]);
  }, 900_000);
});

// Import of former QynAuth in-memory users against a real server: every outcome kind, what is
// and is not written, the export format's checks, and an idempotent rerun.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPqcError } from '../../src/errors.js';
import { createStoreContext } from '../../src/store/context.js';
import type { StoreContext } from '../../src/store/context.js';
import { parseQynAuthExport, readQynAuthExport } from '../../src/store/import-records.js';
import { importQynAuthUsers } from '../../src/store/import-users.js';
import type { ImportReport } from '../../src/store/import-users.js';
import type { StoreLogger } from '../../src/store/logger.js';
import { COLLECTIONS } from '../../src/store/schema.js';
import type { UserDocument } from '../../src/store/schema.js';
import { usesClaims } from '../../src/store/unique-values.js';
import { UserStore } from '../../src/store/users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

const PORTAL_PASSWORD = 'portal password 1';
const IMPORTED_PASSWORD = 'qynauth password 2';
const PLAIN_PASSWORD = 'plain password 3';

let environment: StoreTestEnvironment;
let context: StoreContext;
let users: UserStore;
let importedHash: string;
let portalHash: string;
let records: unknown[];
let first: ImportReport;
const logs: string[] = [];
let portalIds: Record<'plain' | 'linked' | 'other', ObjectId>;

function recordingLogger(): StoreLogger {
  const record = (fields: object, message: string): void => {
    logs.push(JSON.stringify({ fields, message }));
  };
  return { debug: record, info: record, warn: record, error: record };
}

async function portalUser(email: string, extra: Partial<UserDocument> = {}): Promise<ObjectId> {
  const _id = new ObjectId();
  const now = new Date('2023-05-01T08:00:00Z');
  await context.users.insertOne({
    _id,
    email,
    password: portalHash,
    failedLoginAttempts: 1,
    lockUntil: null,
    lastLoginAt: null,
    pqcEnabled: false,
    classicalFallback: true,
    createdAt: now,
    updatedAt: now,
    ...extra,
  });
  return _id;
}

function outcomeOf(report: ImportReport, index: number) {
  return report.outcomes.find((outcome) => outcome.index === index)!;
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  context = await createStoreContext(await environment.database('import_users'), {
    logger: recordingLogger(),
  });
  users = new UserStore(context, { bcryptRounds: 4 });
  importedHash = await bcrypt.hash(IMPORTED_PASSWORD, 4);
  portalHash = await bcrypt.hash(PORTAL_PASSWORD, 4);

  portalIds = {
    plain: await portalUser('portal@example.com'),
    linked: await portalUser('already@example.com', { qynAuthUserId: 'qa-already' }),
    other: await portalUser('other@example.com', { qynAuthUserId: 'qa-other-account' }),
  };
  await users.createUser({
    email: 'holder@example.com',
    password: PORTAL_PASSWORD,
    qynAuthUserId: 'qa-taken',
  });

  records = [
    {
      id: 'qa-new',
      email: 'New@Example.com',
      passwordHash: importedHash,
      createdAt: '2024-02-03T04:05:06Z',
      lastLoginAt: '2024-06-01T12:00:00+02:00',
      failedLoginAttempts: 4,
      lockUntil: null,
    },
    { id: 'qa-plain', email: 'plain@example.com', password: PLAIN_PASSWORD },
    { id: 'qa-portal', email: ' PORTAL@example.com ', passwordHash: importedHash },
    { id: 'qa-already', email: 'already@example.com', passwordHash: importedHash },
    { id: 'qa-different', email: 'other@example.com', passwordHash: importedHash },
    { id: 'qa-taken', email: 'someone-else@example.com', passwordHash: importedHash },
    { id: 'qa-new', email: 'new@example.com', passwordHash: importedHash },
    { id: 'qa-extra', email: 'extra@example.com', passwordHash: importedHash, name: 'Ada' },
    42,
    { email: 'noid@example.com', passwordHash: importedHash },
    { id: 'qa-bad-email', email: 'not-an-address', passwordHash: importedHash },
    { id: 'qa-no-password', email: 'nopassword@example.com' },
    {
      id: 'qa-both',
      email: 'both@example.com',
      password: PLAIN_PASSWORD,
      passwordHash: importedHash,
    },
    { id: 'qa-short', email: 'short@example.com', password: 'pw-7x' },
    { id: 'qa-bad-hash', email: 'badhash@example.com', passwordHash: 'md5:abcdef' },
    {
      id: 'qa-naive',
      email: 'naive@example.com',
      passwordHash: importedHash,
      createdAt: '2024-01-01T10:00:00',
    },
    {
      id: 'qa-negative',
      email: 'negative@example.com',
      passwordHash: importedHash,
      failedLoginAttempts: -1,
    },
  ];
  first = await importQynAuthUsers(context, records, { bcryptRounds: 4 });
});

afterAll(async () => {
  await environment?.close();
});

describe('import outcomes', () => {
  it('reports one outcome per record', () => {
    expect(first.outcomes).toHaveLength(records.length);
    expect(first.outcomes.map((outcome) => outcome.index)).toEqual(records.map((_, i) => i));
    expect(first.counts).toEqual({ created: 3, linked: 1, unchanged: 2, conflict: 2, invalid: 9 });
  });

  it('creates user with exported state', async () => {
    expect(outcomeOf(first, 0).outcome).toBe('created');
    const user = await context.users.findOne({ email: 'new@example.com' });

    expect(user?._id.equals(outcomeOf(first, 0).userId!)).toBe(true);
    expect(user?.qynAuthUserId).toBe('qa-new');
    expect(user?.password).toBe(importedHash);
    expect(user?.createdAt?.toISOString()).toBe('2024-02-03T04:05:06.000Z');
    expect(user?.lastLoginAt?.toISOString()).toBe('2024-06-01T10:00:00.000Z');
    expect(user?.failedLoginAttempts).toBe(4);
    expect(user?.lockUntil).toBeNull();
    expect(user?.pqcEnabled).toBe(false);
    expect(user?.classicalFallback).toBe(true);
    expect(await bcrypt.compare(IMPORTED_PASSWORD, user!.password!)).toBe(true);
  });

  it('hashes a plain password', async () => {
    expect(outcomeOf(first, 1).outcome).toBe('created');
    const user = await context.users.findOne({ email: 'plain@example.com' });

    expect(user?.password).toMatch(/^\$2[aby]\$04\$/);
    expect(await bcrypt.compare(PLAIN_PASSWORD, user!.password!)).toBe(true);
  });

  it('links Portal user, keeps password', async () => {
    const outcome = outcomeOf(first, 2);
    expect(outcome.outcome).toBe('linked');
    expect(outcome.userId?.equals(portalIds.plain)).toBe(true);

    const user = await context.users.findOne({ _id: portalIds.plain });
    expect(user?.qynAuthUserId).toBe('qa-portal');
    expect(user?.password).toBe(portalHash);
    expect(user?.failedLoginAttempts).toBe(1);
    expect(user?.createdAt?.toISOString()).toBe('2023-05-01T08:00:00.000Z');
    const login = await users.authenticate('portal@example.com', PORTAL_PASSWORD);
    expect(login.result).toBe('accepted');
  });

  it.skipIf(process.env.MONGODB_URI !== undefined)('claims linked ids on FerretDB', async () => {
    expect(usesClaims(context)).toBe(true);
    const claims = context.db.collection<{ _id: string; userId: ObjectId }>(
      COLLECTIONS.qynAuthUserIds,
    );

    expect((await claims.findOne({ _id: 'qa-portal' }))?.userId.equals(portalIds.plain)).toBe(true);
    expect(await claims.findOne({ _id: 'qa-new' })).not.toBeNull();
  });

  it('leaves an already linked user unchanged', () => {
    const outcome = outcomeOf(first, 3);
    expect(outcome.outcome).toBe('unchanged');
    expect(outcome.userId?.equals(portalIds.linked)).toBe(true);
  });

  it('reports a user linked to another id', async () => {
    const outcome = outcomeOf(first, 4);
    expect(outcome.outcome).toBe('conflict');
    expect(outcome.reason).toContain('qa-other-account');

    expect((await context.users.findOne({ _id: portalIds.other }))?.qynAuthUserId).toBe(
      'qa-other-account',
    );
  });

  it('conflict on id of another user', async () => {
    const outcome = outcomeOf(first, 5);
    expect(outcome.outcome).toBe('conflict');
    expect(outcome.reason).toContain('holder@example.com');

    expect(await context.users.findOne({ email: 'someone-else@example.com' })).toBeNull();
  });

  it('treats a repeated record as unchanged', () => {
    expect(outcomeOf(first, 6).outcome).toBe('unchanged');
    expect(outcomeOf(first, 6).userId?.equals(outcomeOf(first, 0).userId!)).toBe(true);
  });

  it('lists fields it does not import', () => {
    expect(outcomeOf(first, 7).outcome).toBe('created');
    expect(outcomeOf(first, 7).ignoredFields).toEqual(['name']);
  });

  it('gives a reason for each invalid record', () => {
    const reasons: [number, RegExp][] = [
      [8, /must be an object/],
      [9, /id must be a non-empty string/],
      [10, /email/],
      [11, /passwordHash or password is missing/],
      [12, /not both/],
      [13, /at least 8 characters/],
      [14, /bcrypt hash/],
      [15, /createdAt must be an ISO 8601 date-time with Z or an offset/],
      [16, /failedLoginAttempts must be a non-negative integer/],
    ];
    for (const [index, reason] of reasons) {
      const outcome = outcomeOf(first, index);
      expect(outcome.outcome).toBe('invalid');
      expect(outcome.reason).toMatch(reason);
    }
    expect(outcomeOf(first, 9).email).toBe('noid@example.com');
    expect(outcomeOf(first, 8).id).toBeNull();
  });

  it('writes nothing for invalid records', async () => {
    for (const email of ['noid', 'nopassword', 'both', 'short', 'badhash', 'naive', 'negative']) {
      expect(await context.users.findOne({ email: `${email}@example.com` })).toBeNull();
    }
  });

  it('no passwords in logs or reasons', () => {
    const text = JSON.stringify(first) + logs.join('\n');
    for (const secret of [PLAIN_PASSWORD, IMPORTED_PASSWORD, importedHash, 'pw-7x']) {
      expect(text.includes(secret)).toBe(false);
    }
    expect(logs.some((line) => line.includes('imported QynAuth users'))).toBe(true);
  });

  it('imported lockout state applies', async () => {
    const attempt = await users.recordLoginAttempt('new@example.com', false);

    expect(attempt.result).toBe('locked');
    expect(attempt.failedLoginAttempts).toBe(5);
  });
});

describe('import rerun', () => {
  it('changes nothing', async () => {
    const before = await context.users.find({}).sort({ _id: 1 }).toArray();

    const second = await importQynAuthUsers(context, records, { bcryptRounds: 4 });

    expect(second.outcomes).toHaveLength(records.length);
    expect(second.counts).toEqual({ created: 0, linked: 0, unchanged: 6, conflict: 2, invalid: 9 });
    for (const index of [0, 1, 2, 3, 6, 7]) {
      expect(outcomeOf(second, index).outcome).toBe('unchanged');
    }
    for (const index of [4, 5]) expect(outcomeOf(second, index).outcome).toBe('conflict');
    expect(await context.users.find({}).sort({ _id: 1 }).toArray()).toEqual(before);
  });
});

describe('bcrypt cost', () => {
  /** Returns `importedHash` (cost 4) with its cost field rewritten to `cost`. */
  function withCost(cost: string): string {
    return importedHash.replace(/^(\$2[aby]\$)04\$/, `$1${cost}$`);
  }

  it('accepts costs 4 to 13', async () => {
    const context = await environment.context('import_bcrypt_accepted');
    const accepted = ['04', '10', '13'].map((cost) => ({
      id: `qa-cost-${cost}`,
      email: `cost${cost}@example.com`,
      passwordHash: withCost(cost),
    }));

    const report = await importQynAuthUsers(context, accepted, { bcryptRounds: 4 });

    expect(report.counts.created).toBe(3);
    expect((await context.users.findOne({ email: 'cost13@example.com' }))?.password).toBe(
      withCost('13'),
    );
  });

  it('rejects costs outside 4 to 13', async () => {
    const context = await environment.context('import_bcrypt_rejected');
    const costs = ['00', '03', '14', '31', '99'];
    const rejected = costs.map((cost) => ({
      id: `qa-cost-${cost}`,
      email: `cost${cost}@example.com`,
      passwordHash: withCost(cost),
    }));

    const report = await importQynAuthUsers(context, rejected, { bcryptRounds: 4 });

    expect(report.counts.invalid).toBe(costs.length);
    for (const [index, cost] of costs.entries()) {
      const reason = outcomeOf(report, index).reason;
      expect(reason).toContain(`bcrypt cost ${Number(cost)}`);
      expect(reason).toContain('4 to 13');
    }
    expect(await context.users.countDocuments({})).toBe(0);
  });
});

describe('email control characters', () => {
  it('rejects them and keeps valid forms', async () => {
    const context = await environment.context('import_email_controls');
    const emails = [
      'x@example.com\u0000evil',
      'tab\u0009inside@example.com',
      'del\u007f@example.com',
      'next-line\u0085@example.com',
      'Ada+Tag@Example.Company',
      'grace@mail.example.photography',
    ];
    const records = emails.map((email, index) => ({
      id: `qa-email-${index}`,
      email,
      passwordHash: importedHash,
    }));

    const report = await importQynAuthUsers(context, records, { bcryptRounds: 4 });

    expect(report.counts.invalid).toBe(4);
    expect(report.counts.created).toBe(2);
    expect(outcomeOf(report, 0).reason).toContain('control character U+0000 at position 13');
    expect(outcomeOf(report, 1).reason).toContain('control character U+0009');
    expect(outcomeOf(report, 2).reason).toContain('control character U+007F');
    expect(outcomeOf(report, 3).reason).toContain('control character U+0085');
    expect(outcomeOf(report, 4).outcome).toBe('created');
    expect(outcomeOf(report, 5).outcome).toBe('created');
    const stored = await context.users.find({}).sort({ email: 1 }).toArray();
    expect(stored.map((user) => user.email)).toEqual([
      'ada+tag@example.company',
      'grace@mail.example.photography',
    ]);
  });
});

describe('export format', () => {
  it('parses a JSON array', () => {
    expect(parseQynAuthExport('[{"id":"a"}]')).toEqual([{ id: 'a' }]);
  });

  it('rejects invalid JSON and non-arrays', () => {
    for (const text of ['{"id":', '{"users":[]}', '"text"', 'null']) {
      let code: string | undefined;
      try {
        parseQynAuthExport(text);
      } catch (error) {
        code = isPqcError(error) ? error.code : 'other';
      }
      expect(code).toBe('ERR_STORE_VALIDATION');
    }
  });

  it('reads an export file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'qynpqc-import-'));
    try {
      const path = join(directory, 'users.json');
      writeFileSync(path, JSON.stringify([{ id: 'file', email: 'file@example.com' }]));

      expect(await readQynAuthExport(path)).toEqual([{ id: 'file', email: 'file@example.com' }]);
      const missing = await readQynAuthExport(join(directory, 'missing.json')).catch((e) => e);
      expect(isPqcError(missing, 'ERR_STORE_NOT_FOUND')).toBe(true);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('rejects records that are not an array', async () => {
    const error = await importQynAuthUsers(context, {} as unknown[]).catch((e) => e);
    expect(isPqcError(error, 'ERR_STORE_VALIDATION')).toBe(true);
  });
});

// Bulk enrollment against a real server with keys from the worker pool: 2,000 users, reruns,
// users enrolled concurrently, held leases, secret key delivery, a server killed mid-run and
// resumed, and the CLI progress reporter.
import { PassThrough } from 'node:stream';
import bcrypt from 'bcryptjs';
import { BSON, MongoClient, ObjectId } from 'mongodb';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgressReporter } from '../../src/cli/progress.js';
import { isPqcError } from '../../src/errors.js';
import { encodeBase64 } from '../../src/keys/base64.js';
import { keyPairId } from '../../src/keys/fingerprint.js';
import type { PqcPool } from '../../src/pool/index.js';
import { EXPIRED_USER_LEASE_MARGIN_MS } from '../../src/store/batch-leases.js';
import { bulkEnroll } from '../../src/store/bulk-enroll.js';
import type { BulkProgress } from '../../src/store/bulk-enroll.js';
import { createStoreContext } from '../../src/store/context.js';
import type { StoreContext } from '../../src/store/context.js';
import { KeyStore } from '../../src/store/keys.js';
import type { UserKeyPairs } from '../../src/store/key-source.js';
import type { UserDocument } from '../../src/store/schema.js';
import { userLeaseKey } from '../../src/store/user-writes.js';
import { startPool } from '../pool/helpers.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

let environment: StoreTestEnvironment;
let pool: PqcPool;
let passwordHash: string;

/** Inserts `count` users the way the Portal Backend's model writes them. */
async function insertUsers(
  context: StoreContext,
  prefix: string,
  count: number,
  extra: Partial<UserDocument> = {},
): Promise<ObjectId[]> {
  const now = new Date();
  const documents: UserDocument[] = Array.from({ length: count }, (_, i) => ({
    _id: new ObjectId(),
    email: `${prefix}-${i}@example.com`,
    password: passwordHash,
    failedLoginAttempts: 0,
    lockUntil: null,
    lastLoginAt: null,
    pqcEnabled: false,
    classicalFallback: true,
    createdAt: now,
    updatedAt: now,
    ...extra,
  }));
  for (let start = 0; start < documents.length; start += 1000) {
    await context.users.insertMany(documents.slice(start, start + 1000));
  }
  return documents.map((document) => document._id);
}

/** Checks that every user has one current key of their own and that nothing else remains. */
async function expectEveryUserEnrolledOnce(
  context: StoreContext,
  expectedUsers: number,
): Promise<void> {
  const users = await context.users
    .find({}, { projection: { pqcKeyId: 1, pqcPublicKey: 1, pqcEnabled: 1 } })
    .toArray();
  expect(users).toHaveLength(expectedUsers);
  expect(users.filter((user) => typeof user.pqcKeyId !== 'string')).toHaveLength(0);
  expect(users.filter((user) => user.pqcEnabled !== true)).toHaveLength(0);
  expect(new Set(users.map((user) => user.pqcKeyId)).size).toBe(expectedUsers);
  expect(new Set(users.map((user) => user.pqcPublicKey)).size).toBe(expectedUsers);

  const entries = await context.pqcKeys
    .find({}, { projection: { userId: 1, status: 1 } })
    .toArray();
  expect(entries.filter((entry) => entry.status === 'pending')).toHaveLength(0);
  expect(entries).toHaveLength(expectedUsers);
  const owners = new Map(entries.map((entry) => [entry._id, entry]));
  for (const user of users) {
    const entry = owners.get(user.pqcKeyId as string);
    expect(entry?.status).toBe('current');
    expect(entry?.userId.equals(user._id)).toBe(true);
  }
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  pool = await startPool({ size: 2 });
  passwordHash = await bcrypt.hash('correct horse battery', 4);
});

afterAll(async () => {
  await pool?.close();
  await environment?.close();
});

describe('bulk enrollment', () => {
  it('enrolls 2,000 users once each', async () => {
    const context = await environment.context('bulk_2000');
    await insertUsers(context, 'bulk', 2000);
    const progress: BulkProgress[] = [];

    const summary = await bulkEnroll(context, {
      keySource: pool,
      onProgress: (update) => progress.push(update),
    });

    expect(summary.total).toBe(2000);
    expect(summary.enrolled).toBe(2000);
    expect(summary.conflicts).toBe(0);
    expect(summary.skipped).toBe(0);
    expect(summary.failed).toBe(0);
    expect(summary.usersPerSecond).toBeGreaterThan(0);
    expect(summary.timings.keygenMs).toBeGreaterThan(0);
    expect(summary.timings.userWriteMs).toBeGreaterThan(0);
    expect(progress.map((update) => update.done)).toEqual([500, 1000, 1500, 2000]);
    expect(progress.every((update) => update.total === 2000 && update.failed === 0)).toBe(true);
    await expectEveryUserEnrolledOnce(context, 2000);

    const rerun = await bulkEnroll(context, { keySource: pool });
    expect(rerun.total).toBe(0);
    expect(rerun.enrolled).toBe(0);
    await expectEveryUserEnrolledOnce(context, 2000);
  }, 180_000);

  it('stores valid fields for each user', async () => {
    const context = await environment.context('bulk_fields');
    const [id] = await insertUsers(context, 'fields', 1);
    const delivered: UserKeyPairs[] = [];

    await bulkEnroll(context, {
      keySource: pool,
      keyLifetimeMs: 30 * 24 * 60 * 60 * 1000,
      onKeys: (_user, keys) => {
        delivered.push(keys);
      },
    });

    const user = await context.users.findOne({ _id: id });
    const keys = delivered[0]!;
    expect(user?.pqcPublicKey).toBe(encodeBase64(keys.kem.publicKey));
    expect(user?.pqcSignaturePublicKey).toBe(encodeBase64(keys.signature.publicKey));
    expect(user?.pqcKeyId).toBe(
      keyPairId(
        { algorithm: 'ML-KEM-768', publicKey: keys.kem.publicKey },
        { algorithm: 'ML-DSA-65', publicKey: keys.signature.publicKey },
      ),
    );
    expect(user?.pqcKemAlgorithm).toBe('ML-KEM-768');
    expect(user?.pqcSignatureAlgorithm).toBe('ML-DSA-65');
    expect(user!.pqcKeyExpiresAt!.getTime() - user!.pqcKeyGeneratedAt!.getTime()).toBe(
      30 * 24 * 60 * 60 * 1000,
    );
    expect(user?.classicalFallback).toBe(true);
  });

  it('skips enrolled users and enrolls explicit nulls', async () => {
    const context = await environment.context('bulk_mixed');
    const enrolledIds = await insertUsers(context, 'mixed-enrolled', 5);
    await insertUsers(context, 'mixed-null', 5, { pqcKeyId: null });
    await insertUsers(context, 'mixed-absent', 5);
    const keys = new KeyStore(context, { keySource: pool });
    const before = await Promise.all(enrolledIds.map((userId) => keys.enroll({ userId })));

    const summary = await bulkEnroll(context, { keySource: pool });

    expect(summary.total).toBe(10);
    expect(summary.enrolled).toBe(10);
    for (const [index, userId] of enrolledIds.entries()) {
      expect((await context.users.findOne({ _id: userId }))?.pqcKeyId).toBe(before[index]!.keyId);
    }
    await expectEveryUserEnrolledOnce(context, 15);
  });

  it('delivers secret keys, then zeroes them', async () => {
    const context = await environment.context('bulk_secrets');
    await insertUsers(context, 'secrets', 20);
    const delivered: { keyId: string; keys: UserKeyPairs; copy: Uint8Array }[] = [];

    const summary = await bulkEnroll(context, {
      keySource: pool,
      onKeys: ({ keyId }, keys) => {
        delivered.push({ keyId, keys, copy: keys.kem.secretKey.slice() });
      },
    });

    expect(summary.enrolled).toBe(20);
    expect(delivered).toHaveLength(20);
    const kem = pool.kem('ML-KEM-768');
    const sample = delivered[0]!;
    const { ciphertext, sharedSecret } = await kem.encapsulate(sample.keys.kem.publicKey);
    expect(await kem.decapsulate(ciphertext, sample.copy)).toEqual(sharedSecret);

    for (const { keys } of delivered) {
      expect(keys.kem.secretKey.every((byte) => byte === 0)).toBe(true);
      expect(keys.kem.seed.every((byte) => byte === 0)).toBe(true);
      expect(keys.signature.secretKey.every((byte) => byte === 0)).toBe(true);
      expect(keys.signature.seed.every((byte) => byte === 0)).toBe(true);
    }

    const dumps: Buffer[] = [];
    for (const { name } of await context.db.listCollections({}, { nameOnly: true }).toArray()) {
      for (const document of await context.db.collection(name).find({}).toArray()) {
        dumps.push(Buffer.from(BSON.serialize(document)));
      }
    }
    for (const { copy } of delivered) {
      for (const dump of dumps) {
        expect(dump.indexOf(Buffer.from(copy.subarray(0, 32)))).toBe(-1);
        expect(dump.indexOf(Buffer.from(encodeBase64(copy)))).toBe(-1);
      }
    }
  });

  it('stops when onKeys rejects', async () => {
    const context = await environment.context('bulk_callback');
    await insertUsers(context, 'callback', 10);

    const failure = bulkEnroll(context, {
      keySource: pool,
      onKeys: () => Promise.reject(new Error('vault unavailable')),
    });

    await expect(failure).rejects.toThrow('vault unavailable');
    expect(await context.pqcKeys.countDocuments({ status: 'pending' })).toBe(0);
  });

  it('stages keys, then commits or discards', async () => {
    const context = await environment.context('bulk_staged');
    const ids = await insertUsers(context, 'staged', 30);
    const keys = new KeyStore(await environment.instance('bulk_staged'), { keySource: pool });
    const raced = ids[13]!;
    let racedKeyId = '';
    const staged: { keyId: string; referencedWhenStaged: boolean }[] = [];
    const committed: string[] = [];
    const discarded: string[] = [];

    const summary = await bulkEnroll(context, {
      keySource: pool,
      batchSize: 10,
      stageKeys: async ({ userId, keyId }) => {
        if (userId.equals(raced)) {
          // Another writer enrolls this user between staging and the batch write.
          racedKeyId = keyId;
          await keys.enroll({ userId });
        }
        const stored = await context.users.findOne({ _id: userId });
        staged.push({ keyId, referencedWhenStaged: stored?.pqcKeyId === keyId });
        return {
          commit: async () => {
            committed.push(keyId);
          },
          discard: async () => {
            discarded.push(keyId);
          },
        };
      },
    });

    expect(summary.enrolled).toBe(29);
    expect(summary.conflicts).toBe(1);
    expect(staged).toHaveLength(30);
    expect(staged.filter((entry) => entry.referencedWhenStaged)).toEqual([]);
    expect(discarded).toEqual([racedKeyId]);
    expect(committed).toHaveLength(29);
    const currentKeyIds = new Set(
      (await context.users.find({}, { projection: { pqcKeyId: 1 } }).toArray()).map(
        (user) => user.pqcKeyId,
      ),
    );
    for (const keyId of committed) expect(currentKeyIds.has(keyId)).toBe(true);
    expect(currentKeyIds.has(racedKeyId)).toBe(false);
  }, 60_000);

  it('writes nothing when staging rejects', async () => {
    const context = await environment.context('bulk_stage_failure');
    await insertUsers(context, 'stage-failure', 10);
    const discarded: string[] = [];
    let staged = 0;

    const failure = bulkEnroll(context, {
      keySource: pool,
      stageKeys: async ({ keyId }) => {
        staged += 1;
        if (staged === 4) throw new Error('disk full');
        return {
          commit: () => Promise.reject(new Error('commit must not run')),
          discard: async () => {
            discarded.push(keyId);
          },
        };
      },
    });

    await expect(failure).rejects.toThrow('disk full');
    expect(discarded).toHaveLength(3);
    expect(await context.pqcKeys.countDocuments({})).toBe(0);
    expect(await context.users.countDocuments({ pqcKeyId: { $type: 'string' } })).toBe(0);
  });

  it('rejects invalid options', async () => {
    const context = await environment.context('bulk_options');
    for (const batchSize of [0, -1, 2.5]) {
      const error = await bulkEnroll(context, { keySource: pool, batchSize }).catch((e) => e);
      expect(isPqcError(error, 'ERR_STORE_VALIDATION')).toBe(true);
    }
  });

  it('counts users enrolled concurrently as conflicts', async () => {
    const context = await environment.context('bulk_concurrent');
    const ids = await insertUsers(context, 'concurrent', 300);
    const keys = new KeyStore(await environment.instance('bulk_concurrent'), { keySource: pool });

    const [summary, ...singles] = await Promise.all([
      bulkEnroll(context, { keySource: pool, batchSize: 50 }),
      ...ids
        .slice(250)
        .map((userId) => keys.enroll({ userId }).then(() => 'enrolled', (error: unknown) => error)),
    ]);

    for (const single of singles) {
      if (single !== 'enrolled') expect(isPqcError(single, 'ERR_STORE_CONFLICT')).toBe(true);
    }
    const singleWins = singles.filter((single) => single === 'enrolled').length;
    expect(summary.enrolled + singleWins).toBe(300);
    await expectEveryUserEnrolledOnce(context, 300);
  }, 120_000);

  it.skipIf(process.env.MONGODB_URI !== undefined)(
    'skips users whose lease is held',
    async () => {
      const context = await environment.context('bulk_held');
      const [heldId, ...others] = await insertUsers(context, 'held', 5);
      const { lease } = await context.leases.acquire(userLeaseKey(heldId!), {
        ttlMs: 60_000,
        waitMs: 0,
        onHeld: () => new Error('lease unexpectedly held'),
      });

      const summary = await bulkEnroll(context, { keySource: pool, leaseWaitMs: 200 });

      expect(summary.enrolled).toBe(others.length);
      expect(summary.skipped).toBe(1);
      expect((await context.users.findOne({ _id: heldId }))?.pqcKeyId).toBeUndefined();
      expect(await context.pqcKeys.countDocuments({ userId: heldId })).toBe(0);

      await lease.release();
      const rerun = await bulkEnroll(context, { keySource: pool });
      expect(rerun.enrolled).toBe(1);
      await expectEveryUserEnrolledOnce(context, 5);
    },
  );

  it('enrolls on the conditional-update path', async () => {
    const plain = await environment.context('bulk_conditional');
    const context: StoreContext = { ...plain, server: { ...plain.server, atomicUpdates: true } };
    await insertUsers(context, 'conditional', 60);

    const summary = await bulkEnroll(context, { keySource: pool, batchSize: 25 });

    expect(summary.enrolled).toBe(60);
    await expectEveryUserEnrolledOnce(context, 60);
  }, 120_000);
});

describe('expired user leases', () => {
  it('deletes those past the margin', async () => {
    const started: Record<string, unknown>[] = [];
    const ignore = (): void => {};
    const context = await environment.context('bulk_expired_leases', {
      logger: {
        debug: ignore,
        warn: ignore,
        error: ignore,
        info: (fields, message) => {
          if (message === 'bulk enrollment started') started.push(fields as Record<string, unknown>);
        },
      },
    });
    await insertUsers(context, 'leases', 3);
    const now = Date.now();
    const lease = (key: string, expiresAt: number) => ({
      _id: `${key}:1`,
      key,
      generation: 1,
      owner: 'crashed-host:4242:0badf00d',
      acquiredAt: new Date(expiresAt - 10_000),
      expiresAt: new Date(expiresAt),
    });
    const stale = Array.from({ length: 40 }, () =>
      lease(userLeaseKey(new ObjectId()), now - EXPIRED_USER_LEASE_MARGIN_MS - 60_000),
    );
    const recent = lease(userLeaseKey(new ObjectId()), now - 10_000);
    const held = lease(userLeaseKey(new ObjectId()), now + 60_000);
    const migrations = lease('migrations', now - EXPIRED_USER_LEASE_MARGIN_MS - 60_000);
    await context.leases.collection.insertMany([...stale, recent, held, migrations]);

    const summary = await bulkEnroll(context, { keySource: pool });

    expect(summary.expiredLeasesDeleted).toBe(40);
    expect(summary.enrolled).toBe(3);
    const remaining = await context.leases.collection.find({}).toArray();
    const ids = remaining.map((document) => document._id).sort();
    expect(ids).toEqual([recent._id, held._id, migrations._id].sort());
    expect(started).toHaveLength(1);
    expect(started[0]?.expiredLeasesDeleted).toBe(40);
  });
});

describe('bulk enrollment after a crash', () => {
  it.skipIf(process.env.MONGODB_URI !== undefined)(
    'killed server fails, rerun resumes',
    async () => {
      const name = 'qynpqc_test_bulk_crash';
      const client = new MongoClient(environment.server.uri, {
        serverSelectionTimeoutMS: 2_000,
        connectTimeoutMS: 2_000,
      });
      await client.connect();
      const db: Db = client.db(name);
      await db.dropDatabase();
      const context = await createStoreContext(db, {
        userLeaseTtlMs: 3_000,
        userLeaseWaitMs: 5_000,
      });
      await insertUsers(context, 'crash', 1500);
      const watcher = environment.client.db(name).collection('pqcKeys');

      let killedAt = 0;
      const killWhilePending = async (): Promise<void> => {
        while ((await watcher.countDocuments({ status: 'pending' })) === 0) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        killedAt = Date.now();
        await environment.server.kill();
      };
      let killing: Promise<void> | undefined;

      const error = await bulkEnroll(context, {
        keySource: pool,
        batchSize: 250,
        operationTimeoutMs: 5_000,
        onProgress: (progress) => {
          if (progress.done >= 500 && killing === undefined) killing = killWhilePending();
        },
      }).catch((caught: unknown) => caught);
      const failedAfterMs = Date.now() - killedAt;
      await killing;

      expect(isPqcError(error, 'ERR_DATABASE')).toBe(true);
      expect((error as Error).message).toMatch(/bulk enrollment failed while/);
      expect((error as Error).message).toMatch(/rerun/);
      expect(killedAt).toBeGreaterThan(0);
      expect(failedAfterMs).toBeLessThan(20_000);

      await environment.server.restart();
      const rerun = await bulkEnroll(context, { keySource: pool, batchSize: 250 });

      expect(rerun.repaired.promoted + rerun.repaired.discarded).toBeGreaterThan(0);
      expect(rerun.enrolled + rerun.repaired.promoted).toBeGreaterThan(0);
      expect(rerun.skipped).toBe(0);
      await expectEveryUserEnrolledOnce(context, 1500);
      await db.dropDatabase();
      await client.close();
    },
    240_000,
  );
});

describe('progress reporter', () => {
  it('logs at intervals without a terminal', () => {
    const lines: { fields: object; message: string }[] = [];
    let clock = 0;
    const reporter = createProgressReporter({
      logger: { info: (fields, message) => lines.push({ fields, message }) },
      stream: new PassThrough(),
      intervalMs: 5_000,
      now: () => clock,
    });

    for (let done = 100; done <= 1000; done += 100) {
      reporter.update({ done, total: 1000, failed: 0, rate: 250 });
      clock += 1_000;
    }
    reporter.stop();

    expect(lines.map((line) => (line.fields as BulkProgress).done)).toEqual([100, 600, 1000]);
    expect(lines[0]!.message).toBe('bulk enrollment progress');
  });

  it('logs the last update on stop', () => {
    const lines: object[] = [];
    let clock = 0;
    const reporter = createProgressReporter({
      logger: { info: (fields) => lines.push(fields) },
      stream: new PassThrough(),
      now: () => clock,
    });

    reporter.update({ done: 10, total: 100, failed: 0, rate: 5 });
    clock += 100;
    reporter.update({ done: 40, total: 100, failed: 2, rate: 6 });
    reporter.stop();

    expect(lines).toEqual([
      { done: 10, total: 100, failed: 0, rate: 5 },
      { done: 40, total: 100, failed: 2, rate: 6 },
    ]);
  });

  it('draws a bar on a terminal', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let output = '';
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const lines: object[] = [];
    const reporter = createProgressReporter({
      logger: { info: (fields) => lines.push(fields) },
      stream,
    });

    reporter.update({ done: 0, total: 200, failed: 0, rate: 0 });
    reporter.update({ done: 200, total: 200, failed: 1, rate: 321.5 });
    reporter.stop();

    expect(lines).toHaveLength(0);
    expect(output).toContain('200/200 users');
    expect(output).toContain('321.5 users/s');
    expect(output).toContain('1 failed');
  });
});

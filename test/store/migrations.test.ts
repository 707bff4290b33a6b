// The migration runner against a real server: changelog, ordering, the lock and its takeover,
// failures, and the checks of migrateDown. The migrations here are small ones written for the
// tests; migration 001 itself is covered by schema-rules.test.ts and data-loss.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import type { StoreContext } from '../../src/store/context.js';
import { MigrationFailedError, MigrationLockedError } from '../../src/store/errors.js';
import type { LeaseDocument } from '../../src/store/lease.js';
import type { StoreLogger } from '../../src/store/logger.js';
import type { Migration, MigrationRun } from '../../src/store/migrations/index.js';
import { MIGRATION_LOCK_KEY } from '../../src/store/migrations/lock.js';
import { migrateDown, migrateUp, migrationStatus } from '../../src/store/migrations/runner.js';
import { COLLECTIONS } from '../../src/store/schema.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

let environment: StoreTestEnvironment;

beforeAll(async () => {
  environment = await startStoreEnvironment();
});

afterAll(async () => {
  await environment?.close();
});

/** Returns a migration that inserts `{ _id: id }` into `steps` on up and deletes it on down. */
function marker(id: string, options: { upDelayMs?: number } = {}): Migration {
  return {
    id,
    description: `marker ${id}`,
    async up(run) {
      await new Promise((resolve) => setTimeout(resolve, options.upDelayMs ?? 0));
      await run.ensureLock();
      await run.context.db.collection<{ _id: string }>('steps').insertOne({ _id: id });
      return { marked: id };
    },
    async down(run) {
      await run.ensureLock();
      await run.context.db.collection<{ _id: string }>('steps').deleteOne({ _id: id });
    },
  };
}

async function markers(db: Db): Promise<string[]> {
  const documents = await db
    .collection<{ _id: string }>('steps')
    .find({})
    .sort({ _id: 1 })
    .toArray();
  return documents.map((document) => document._id);
}

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function capturingLogger(lines: LogLine[]): StoreLogger {
  const at =
    (level: string) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, message });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const LIST = [marker('001-a'), marker('002-b'), marker('003-c')];

describe('migrateUp', () => {
  let context: StoreContext;

  beforeAll(async () => {
    context = await environment.context('runner_up');
  });

  it('applies pending migrations once, in order', async () => {
    const first = await migrateUp(context, { migrations: LIST });
    const second = await migrateUp(context, { migrations: LIST });

    expect(first.steps.map((step) => step.id)).toEqual(['001-a', '002-b', '003-c']);
    expect(second.steps).toEqual([]);
    expect(await markers(context.db)).toEqual(['001-a', '002-b', '003-c']);
  });

  it('records changelog entries with BSON dates', async () => {
    const entries = await context.db
      .collection(COLLECTIONS.migrations)
      .find({})
      .sort({ _id: 1 })
      .toArray();

    expect(entries.map((entry) => entry._id)).toEqual(['001-a', '002-b', '003-c']);
    for (const entry of entries) {
      expect(entry.appliedAt).toBeInstanceOf(Date);
      expect(typeof entry.durationMs).toBe('number');
      expect(entry.owner).toMatch(new RegExp(`:${process.pid}:`));
      expect(entry.description).toBe(`marker ${String(entry._id)}`);
    }
    expect(entries[0]!.summary).toEqual({ marked: '001-a' });
    const asStrings = await context.db
      .collection(COLLECTIONS.migrations)
      .countDocuments({ appliedAt: { $type: 'string' } });
    expect(asStrings).toBe(0);
  });

  it('stops at the migration named by to', async () => {
    const other = await environment.context('runner_to');

    const report = await migrateUp(other, { migrations: LIST, to: '002-b' });

    expect(report.steps.map((step) => step.id)).toEqual(['001-a', '002-b']);
    const status = await migrationStatus(other, { migrations: LIST });
    expect(status.pending).toEqual(['003-c']);
    expect(status.applied.map((entry) => entry._id)).toEqual(['001-a', '002-b']);
    expect(status.lock).toBeNull();
  });

  it('rejects duplicate ids and an unknown to', async () => {
    await expect(migrateUp(context, { migrations: [marker('x'), marker('x')] })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(migrateUp(context, { migrations: LIST, to: '009-missing' })).rejects.toMatchObject(
      {
        code: 'ERR_INVALID_ARGUMENT',
      },
    );
  });

  it('wraps a failing step and records nothing for it', async () => {
    const other = await environment.context('runner_fail');
    let fail = true;
    const flaky: Migration = {
      id: '002-flaky',
      description: 'fails once',
      async up(run) {
        await run.ensureLock();
        if (fail) throw new Error('disk full');
        await run.context.db.collection<{ _id: string }>('steps').insertOne({ _id: '002-flaky' });
      },
      async down() {},
    };
    const list = [marker('001-a'), flaky, marker('003-c')];

    const error: unknown = await migrateUp(other, { migrations: list }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as MigrationFailedError).message).toContain(
      'migration 002-flaky up failed: disk full',
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect((await migrationStatus(other, { migrations: list })).pending).toEqual([
      '002-flaky',
      '003-c',
    ]);

    fail = false;
    const retry = await migrateUp(other, { migrations: list });
    expect(retry.steps.map((step) => step.id)).toEqual(['002-flaky', '003-c']);
    expect(await markers(other.db)).toEqual(['001-a', '002-flaky', '003-c']);
  });
});

describe('migration lock', () => {
  it('waiting process applies nothing twice', async () => {
    await environment.context('runner_wait');
    const first = await environment.instance('runner_wait');
    const second = await environment.instance('runner_wait');
    const slow = [marker('001-slow', { upDelayMs: 500 }), marker('002-next')];

    const [a, b] = await Promise.all([
      migrateUp(first, { migrations: slow }),
      migrateUp(second, { migrations: slow }),
    ]);

    const applied = [...a.steps, ...b.steps].map((step) => step.id).sort();
    expect(applied).toEqual(['001-slow', '002-next']);
    expect(a.steps.length === 0 || b.steps.length === 0).toBe(true);
    expect(await markers(first.db)).toEqual(['001-slow', '002-next']);
    expect(await first.db.collection(COLLECTIONS.migrations).countDocuments()).toBe(2);
  });

  it('short wait fails with ERR_MIGRATION_LOCKED', async () => {
    await environment.context('runner_locked');
    const holder = await environment.instance('runner_locked');
    const impatient = await environment.instance('runner_locked');
    const slow = [marker('001-slow', { upDelayMs: 1500 })];

    const running = migrateUp(holder, { migrations: slow });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const error: unknown = await migrateUp(impatient, { migrations: slow, waitMs: 100 }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(MigrationLockedError);
    expect((error as MigrationLockedError).code).toBe('ERR_MIGRATION_LOCKED');
    expect((error as MigrationLockedError).owner).toBe(holder.leases.owner);
    expect((error as MigrationLockedError).expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect((await running).steps).toHaveLength(1);
  });

  it('takes over an expired lock and logs its owner', async () => {
    const lines: LogLine[] = [];
    const context = await environment.context('runner_takeover', {
      logger: capturingLogger(lines),
    });
    const expiredAt = new Date(Date.now() - 1000);
    await context.leases.collection.insertOne({
      _id: `${MIGRATION_LOCK_KEY}:7`,
      key: MIGRATION_LOCK_KEY,
      generation: 7,
      owner: 'crashed-host:4242:deadbeef',
      acquiredAt: new Date(expiredAt.getTime() - 60_000),
      expiresAt: expiredAt,
    } satisfies LeaseDocument);

    const report = await migrateUp(context, { migrations: [marker('001-a')], waitMs: 0 });

    expect(report.steps).toHaveLength(1);
    const warning = lines.find(
      (line) => line.level === 'warn' && line.message.includes('took over'),
    );
    expect(warning?.fields.previousOwner).toBe('crashed-host:4242:deadbeef');
    expect(warning?.fields.expiredAt).toEqual(expiredAt);
  });

  it('stops before the next write once taken over', async () => {
    const context = await environment.context('runner_superseded');
    let reachedSecondWrite = false;
    const stalled: Migration = {
      id: '001-stalled',
      description: 'writes, stalls, writes again',
      async up(run: MigrationRun) {
        await run.ensureLock();
        await run.context.db.collection('steps').insertOne({ _id: 'first' } as never);

        // Another process takes the lock over, as it would after this one stalled past its TTL.
        const current = await run.context.leases.collection
          .find({ key: MIGRATION_LOCK_KEY })
          .toArray();
        const generation = Math.max(...current.map((lease) => lease.generation)) + 1;
        await run.context.leases.collection.insertOne({
          _id: `${MIGRATION_LOCK_KEY}:${generation}`,
          key: MIGRATION_LOCK_KEY,
          generation,
          owner: 'other-host:1:cafebabe',
          acquiredAt: new Date(),
          expiresAt: new Date(Date.now() + 60_000),
        });
        await new Promise((resolve) => setTimeout(resolve, 400));

        await run.ensureLock();
        reachedSecondWrite = true;
        await run.context.db.collection('steps').insertOne({ _id: 'second' } as never);
      },
      async down() {},
    };

    const error: unknown = await migrateUp(context, {
      migrations: [stalled],
      lockTtlMs: 300,
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as Error).message).toContain('taken over by another process');
    expect(reachedSecondWrite).toBe(false);
    expect(await markers(context.db)).toEqual(['first']);
    expect(await context.db.collection(COLLECTIONS.migrations).countDocuments()).toBe(0);
  });
  it('stops before the next write once expired', async () => {
    const context = await environment.context('runner_expired');
    let reachedSecondWrite = false;
    const stalled: Migration = {
      id: '001-stalled',
      description: 'writes, blocks the event loop past the lock TTL, writes again',
      async up(run: MigrationRun) {
        await run.ensureLock();
        await run.context.db.collection('steps').insertOne({ _id: 'first' } as never);

        // A synchronous stall also stops the background renewal, as a long pause would.
        const stalledUntil = Date.now() + 450;
        while (Date.now() < stalledUntil) {
          // busy wait
        }

        await run.ensureLock();
        reachedSecondWrite = true;
        await run.context.db.collection('steps').insertOne({ _id: 'second' } as never);
      },
      async down() {},
    };

    const error: unknown = await migrateUp(context, {
      migrations: [stalled],
      lockTtlMs: 300,
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as Error).message).toContain('expired');
    expect(reachedSecondWrite).toBe(false);
    expect(await markers(context.db)).toEqual(['first']);
    const lock = await context.leases.collection.findOne({ key: MIGRATION_LOCK_KEY });
    expect(lock?.expiresAt.getTime()).toBeLessThan(Date.now());
  });
});

describe('migrateDown', () => {
  it('reverts one step by default, then to and all', async () => {
    const context = await environment.context('runner_down');
    await migrateUp(context, { migrations: LIST });

    const one = await migrateDown(context, { migrations: LIST });
    expect(one.steps.map((step) => step.id)).toEqual(['003-c']);
    expect(await markers(context.db)).toEqual(['001-a', '002-b']);

    await migrateUp(context, { migrations: LIST });
    const toFirst = await migrateDown(context, { migrations: LIST, to: '001-a' });
    expect(toFirst.steps.map((step) => step.id)).toEqual(['003-c', '002-b']);
    expect(await markers(context.db)).toEqual(['001-a']);

    const all = await migrateDown(context, { migrations: LIST, steps: Infinity });
    expect(all.steps.map((step) => step.id)).toEqual(['001-a']);
    expect(await markers(context.db)).toEqual([]);
    expect((await migrationStatus(context, { migrations: LIST })).pending).toEqual([
      '001-a',
      '002-b',
      '003-c',
    ]);
  });

  it('rejects unknown changelog ids unless forced', async () => {
    const context = await environment.context('runner_unknown');
    await migrateUp(context, { migrations: LIST });
    const older = LIST.slice(0, 2);

    const status = await migrationStatus(context, { migrations: older });
    expect(status.unknown).toEqual(['003-c']);
    await expect(migrateDown(context, { migrations: older })).rejects.toThrow(
      /changelog lists migrations this code does not know \(003-c\)/,
    );
    expect(await markers(context.db)).toEqual(['001-a', '002-b', '003-c']);

    const forced = await migrateDown(context, { migrations: older, force: true });
    expect(forced.steps.map((step) => step.id)).toEqual(['002-b']);
  });

  it('rejects both to and steps, and a bad step count', async () => {
    const context = await environment.context('runner_down_options');

    await expect(migrateDown(context, { migrations: LIST, to: '001-a', steps: 1 })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(migrateDown(context, { migrations: LIST, steps: 0 })).rejects.toThrow(
      /steps must be a positive integer/,
    );
  });
});

/**
 * The migration runner: applies pending migrations in order (`migrateUp`), reverts applied ones
 * newest first (`migrateDown`) and reports the state (`migrationStatus`).
 *
 * Both directions hold the migration lock (lock.ts) for the whole run and read the changelog
 * again after taking it, so a process that waited for another applies nothing twice. A
 * migration's changelog entry is written after its `up` finished and deleted after its `down`
 * finished. A process killed before that leaves the step to the next run, which repeats it.
 */
import type { Collection } from 'mongodb';
import type { StoreContext } from '../context.js';
import { InvalidArgumentError, PqcError } from '../../errors.js';
import { MigrationFailedError } from '../errors.js';
import { isDuplicateKey } from '../lease.js';
import type { LeaseDocument } from '../lease.js';
import { COLLECTIONS } from '../schema.js';
import { MIGRATIONS } from './index.js';
import type {
  MigrateDownOptions,
  MigrateUpOptions,
  Migration,
  MigrationChangelogEntry,
  MigrationLockOptions,
  MigrationRun,
  MigrationRunReport,
  MigrationStatus,
  MigrationStepReport,
  MigrationSummary,
} from './index.js';
import {
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_LOCK_WAIT_MS,
  MIGRATION_LOCK_KEY,
  MigrationLock,
} from './lock.js';

/** Default number of documents per round trip inside a migration. */
export const DEFAULT_MIGRATION_BATCH_SIZE = 500;

function changelog(context: StoreContext): Collection<MigrationChangelogEntry> {
  return context.db.collection<MigrationChangelogEntry>(COLLECTIONS.migrations);
}

function checkList(migrations: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const migration of migrations) {
    if (typeof migration.id !== 'string' || migration.id === '') {
      throw new InvalidArgumentError('every migration needs a non-empty string id');
    }
    if (seen.has(migration.id)) {
      throw new InvalidArgumentError(`migration id ${migration.id} appears twice in the list`);
    }
    seen.add(migration.id);
  }
}

function milliseconds(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < 0) {
    throw new InvalidArgumentError(
      `${name} must be a non-negative number of milliseconds, got ${resolved}`,
    );
  }
  return resolved;
}

function indexOfId(migrations: readonly Migration[], id: string, option: string): number {
  const index = migrations.findIndex((migration) => migration.id === id);
  if (index < 0) {
    const listed = migrations.map((migration) => migration.id).join(', ');
    throw new InvalidArgumentError(
      `${option} names migration ${id}, which is not in the list (${listed})`,
    );
  }
  return index;
}

async function appliedIds(context: StoreContext): Promise<Set<string>> {
  const entries = await changelog(context)
    .find({}, { projection: { _id: 1 } })
    .toArray();
  return new Set(entries.map((entry) => entry._id));
}

interface ResolvedLockOptions {
  migrations: readonly Migration[];
  ttlMs: number;
  waitMs: number;
  batchSize: number;
}

function resolveLockOptions(options: MigrationLockOptions): ResolvedLockOptions {
  const migrations = options.migrations ?? MIGRATIONS;
  checkList(migrations);

  const ttlMs = milliseconds(options.lockTtlMs, DEFAULT_LOCK_TTL_MS, 'lockTtlMs');
  if (ttlMs < 3) throw new InvalidArgumentError(`lockTtlMs must be at least 3, got ${ttlMs}`);
  const waitMs = milliseconds(options.waitMs, DEFAULT_LOCK_WAIT_MS, 'waitMs');
  const batchSize = options.batchSize ?? DEFAULT_MIGRATION_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  return { migrations, ttlMs, waitMs, batchSize };
}

/** Runs `step` and wraps anything but a `MigrationFailedError` into one naming the migration. */
async function runStep(
  migration: Migration,
  direction: 'up' | 'down',
  step: () => Promise<MigrationSummary | void>,
): Promise<{ summary: MigrationSummary | null; durationMs: number }> {
  const started = Date.now();
  try {
    const summary = (await step()) ?? null;
    return { summary, durationMs: Date.now() - started };
  } catch (error) {
    if (error instanceof MigrationFailedError) throw error;

    const reason = error instanceof Error ? error.message : String(error);
    const code = error instanceof PqcError ? ` (${error.code})` : '';
    throw new MigrationFailedError(
      `migration ${migration.id} ${direction} failed${code}: ${reason}; fix the cause, then ` +
        'run the migrations again',
      { cause: error },
    );
  }
}

/** Takes the migration lock, runs `body` and releases the lock. */
async function withLock(
  context: StoreContext,
  resolved: ResolvedLockOptions,
  force: boolean,
  body: (run: MigrationRun, lock: MigrationLock) => Promise<MigrationStepReport[]>,
): Promise<MigrationRunReport> {
  const lock = await MigrationLock.acquire(context, resolved.ttlMs, resolved.waitMs);
  const run: MigrationRun = {
    context,
    ensureLock: () => lock.ensure(),
    batchSize: resolved.batchSize,
    force,
  };

  try {
    return { owner: lock.owner, steps: await body(run, lock) };
  } finally {
    await lock.release();
  }
}

/**
 * Applies the pending migrations in list order, up to and including `to`. Waits up to `waitMs`
 * for a lock another process holds, then throws `MigrationLockedError`. Throws
 * `MigrationFailedError` when a step fails or the lock is taken over. The steps applied before
 * keep their changelog entries.
 */
export async function migrateUp(
  context: StoreContext,
  options: MigrateUpOptions = {},
): Promise<MigrationRunReport> {
  const resolved = resolveLockOptions(options);
  const { migrations } = resolved;
  const last =
    options.to === undefined ? migrations.length - 1 : indexOfId(migrations, options.to, 'to');
  const wanted = migrations.slice(0, last + 1);

  // Without pending migrations there is nothing to lock, so instances that start after the
  // first one finished return at once.
  const known = await appliedIds(context);
  if (wanted.every((migration) => known.has(migration.id))) {
    return { owner: context.leases.owner, steps: [] };
  }

  return withLock(context, resolved, false, async (run, lock) => {
    const applied = await appliedIds(context);
    const steps: MigrationStepReport[] = [];

    for (const migration of wanted.filter((candidate) => !applied.has(candidate.id))) {
      await run.ensureLock();
      context.logger.info({ migration: migration.id, owner: lock.owner }, 'applying migration');
      const { summary, durationMs } = await runStep(migration, 'up', () => migration.up(run));

      await run.ensureLock();
      await recordApplied(context, migration, { summary, durationMs, owner: lock.owner });
      context.logger.info({ migration: migration.id, durationMs, summary }, 'migration applied');
      steps.push({ id: migration.id, durationMs, summary });
    }
    return steps;
  });
}

async function recordApplied(
  context: StoreContext,
  migration: Migration,
  result: { summary: MigrationSummary | null; durationMs: number; owner: string },
): Promise<void> {
  try {
    await changelog(context).insertOne({
      _id: migration.id,
      description: migration.description,
      appliedAt: new Date(),
      durationMs: result.durationMs,
      owner: result.owner,
      summary: result.summary,
    });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    throw new MigrationFailedError(
      `the changelog already lists migration ${migration.id}, although this process held the ` +
        'lock; another process migrated without the lock, so check both runs before migrating ' +
        'again',
      { cause: error },
    );
  }
}

function revertOrder(
  migrations: readonly Migration[],
  applied: ReadonlySet<string>,
  options: MigrateDownOptions,
): Migration[] {
  const newestFirst = migrations.filter((migration) => applied.has(migration.id)).reverse();

  if (options.to !== undefined) {
    if (options.steps !== undefined) {
      throw new InvalidArgumentError('pass either to or steps to migrateDown, not both');
    }
    const keep = indexOfId(migrations, options.to, 'to');
    return newestFirst.filter((migration) => migrations.indexOf(migration) > keep);
  }

  const steps = options.steps ?? 1;
  if (steps !== Infinity && (!Number.isInteger(steps) || steps < 1)) {
    throw new InvalidArgumentError(`steps must be a positive integer or Infinity, got ${steps}`);
  }
  return newestFirst.slice(0, steps);
}

/**
 * Reverts applied migrations newest first: one by default, `steps` of them, or every one after
 * `to`. Throws `MigrationFailedError` without reverting anything when the changelog lists
 * migrations the list does not contain, unless `force` is set, because a newer release may
 * depend on the ones being reverted.
 */
export async function migrateDown(
  context: StoreContext,
  options: MigrateDownOptions = {},
): Promise<MigrationRunReport> {
  const resolved = resolveLockOptions(options);
  const { migrations } = resolved;
  const force = options.force ?? false;
  // Checks to and steps before the lock is taken.
  revertOrder(migrations, new Set(), options);

  return withLock(context, resolved, force, async (run, lock) => {
    const applied = await appliedIds(context);
    const listed = new Set(migrations.map((migration) => migration.id));
    const unknown = [...applied].filter((id) => !listed.has(id));
    if (unknown.length > 0 && !force) {
      throw new MigrationFailedError(
        `the changelog lists migrations this code does not know (${unknown.join(', ')}); revert ` +
          'them with the release that added them, or pass force',
      );
    }

    const steps: MigrationStepReport[] = [];
    for (const migration of revertOrder(migrations, applied, options)) {
      await run.ensureLock();
      context.logger.info({ migration: migration.id, owner: lock.owner }, 'reverting migration');
      const { summary, durationMs } = await runStep(migration, 'down', () => migration.down(run));

      await run.ensureLock();
      await changelog(context).deleteOne({ _id: migration.id });
      context.logger.info({ migration: migration.id, durationMs, summary }, 'migration reverted');
      steps.push({ id: migration.id, durationMs, summary });
    }
    return steps;
  });
}

/** Returns the applied, pending and unknown migrations and the holder of the migration lock. */
export async function migrationStatus(
  context: StoreContext,
  options: Pick<MigrationLockOptions, 'migrations'> = {},
): Promise<MigrationStatus> {
  const migrations = options.migrations ?? MIGRATIONS;
  checkList(migrations);

  const entries = await changelog(context).find({}).toArray();
  const byId = new Map(entries.map((entry) => [entry._id, entry]));
  const listed = new Set(migrations.map((migration) => migration.id));

  const applied: MigrationChangelogEntry[] = [];
  for (const migration of migrations) {
    const entry = byId.get(migration.id);
    if (entry !== undefined) applied.push(entry);
  }
  const unknownEntries = entries.filter((entry) => !listed.has(entry._id));
  unknownEntries.sort((a, b) => a._id.localeCompare(b._id));
  applied.push(...unknownEntries);

  return {
    applied,
    pending: migrations.map((migration) => migration.id).filter((id) => !byId.has(id)),
    unknown: unknownEntries.map((entry) => entry._id),
    lock: await lockHolder(context),
  };
}

async function lockHolder(context: StoreContext): Promise<MigrationStatus['lock']> {
  const leases = await context.leases.collection
    .find({ key: MIGRATION_LOCK_KEY })
    .sort({ generation: -1 })
    .limit(1)
    .toArray();
  const latest: LeaseDocument | undefined = leases[0];
  if (latest === undefined || latest.expiresAt.getTime() <= Date.now()) return null;
  return { owner: latest.owner, expiresAt: latest.expiresAt };
}

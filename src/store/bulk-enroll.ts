/**
 * Bulk enrollment: an ML-KEM-768 and an ML-DSA-65 key pair for every user without keys
 * (`pqcKeyId` absent, null or not a string).
 *
 * Users are read through one cursor in `_id` order, a batch at a time. While one batch is being
 * written, the next batch is read and its key pairs generated. With a worker pool as the key
 * source, key generation therefore overlaps the writes (bulk-enroll-batch.ts describes them).
 * The run starts with {@link repairPendingKeys}, so after a crash a rerun resolves what the
 * crash left pending and then enrolls exactly the users still without keys. It also deletes the
 * user leases that crashed writers left expired (batch-leases.ts).
 *
 * Secret keys: the caller decides. With `stageKeys`, each user's key pairs are stored before the
 * batch's database write and committed or discarded after it, so a crash cannot leave a user
 * enrolled with secret keys that exist nowhere. With `onKeys`, each enrolled user's key pairs are
 * handed over once the user document references them, for delivery to the user or to a key
 * vault, and are zeroed when the callback returns. Without either they are zeroed as soon as
 * the batch is written.
 * Those users then hold public keys whose secret halves no longer exist, so their keys cannot
 * be used for decapsulation or signing until they rotate or register keys of their own.
 */
import { CursorTimeoutMode, MongoError } from 'mongodb';
import type { FindCursor, ObjectId } from 'mongodb';
import type { StoreContext } from './context.js';
import { deleteExpiredUserLeases } from './batch-leases.js';
import { writeBatch } from './bulk-enroll-batch.js';
import type { BatchOutcome, BatchUser, WriteTimings } from './bulk-enroll-batch.js';
import { DatabaseError, StoreValidationError } from './errors.js';
import { buildKeyRecord, WITHOUT_KEY } from './key-records.js';
import { repairPendingKeys } from './key-repair.js';
import type { RepairReport } from './key-repair.js';
import { generateUserKeyPairs, zeroUserKeyPairs } from './key-source.js';
import type { KeySource, UserKeyPairs } from './key-source.js';
import type { UserDocument } from './schema.js';
import { DEFAULT_KEY_LIFETIME_MS } from './keys.js';

/** Users per batch when `batchSize` is not given. */
export const DEFAULT_BULK_BATCH_SIZE = 500;
/** Driver `timeoutMS` of each database operation when `operationTimeoutMs` is not given. */
export const DEFAULT_BULK_OPERATION_TIMEOUT_MS = 60_000;

/** Progress of a bulk enrollment, reported after each batch. */
export interface BulkProgress {
  /** Users processed so far: enrolled, conflicts, skipped and failed. */
  done: number;
  /** Users without keys when the run started. */
  total: number;
  /** Users not enrolled for a reason other than a concurrent enrollment: skipped and failed. */
  failed: number;
  /** Users processed per second since the run started. */
  rate: number;
}

/** A user that bulk enrollment enrolled. */
export interface BulkEnrolledUser {
  userId: ObjectId;
  email: string;
  keyId: string;
}

/** Key pairs that `stageKeys` stored before a batch's database write. */
export interface StagedKeys {
  /** Makes the stored keys final, because the user document now references them. */
  commit(): Promise<void>;
  /** Removes the stored keys, because this run did not enroll the user. */
  discard(): Promise<void>;
}

/** Options of {@link bulkEnroll}. */
export interface BulkEnrollOptions {
  /** Generates the key pairs: a `createPqcPool()` pool overlaps generation with the writes. */
  keySource: KeySource;
  /**
   * Users per batch: one cursor batch, one key generation call and one round of writes. Default
   * 500.
   */
  batchSize?: number;
  /** Milliseconds from generation to `pqcKeyExpiresAt`. Default 365 days. */
  keyLifetimeMs?: number;
  /**
   * Driver `timeoutMS` of each read and write this module sends, which bounds an operation that
   * hangs. How soon a lost server fails the run depends on the client's
   * `serverSelectionTimeoutMS` (driver default 30 000): with 2 000 a killed server failed the
   * run within 2 to 4 s in the tests, with the default after 30 to 60 s. Leases and the repair
   * step use the client's timeouts only. Default 60 000.
   */
  operationTimeoutMs?: number;
  /**
   * Milliseconds to retry, at the end of the run, users whose write lease another writer held
   * (FerretDB only). Default: the context's user lease TTL, so a lease left by a crashed run
   * expires within the wait.
   */
  leaseWaitMs?: number;
  /** Receives progress after every batch. */
  onProgress?: (progress: BulkProgress) => void;
  /**
   * Receives each enrolled user's key pairs, secret halves included, after the user document
   * references them and before they are zeroed. Without it the secret keys are discarded. A
   * rejection stops the run, and the users of the current batch stay enrolled.
   */
  onKeys?: (user: BulkEnrolledUser, keys: UserKeyPairs) => void | Promise<void>;
  /**
   * Stores each user's key pairs before the batch's database write, for example under temporary
   * file names. After the write, `commit` runs for each enrolled user and `discard` for the
   * others. A rejection stops the run before its batch writes anything. When the write itself
   * fails, the staged keys are left in place, because some users of the batch may be enrolled:
   * the caller settles them later by comparing each user's `pqcKeyId` with the staged key id.
   */
  stageKeys?: (user: BulkEnrolledUser, keys: UserKeyPairs) => Promise<StagedKeys>;
  /** Clock for `pqcKeyGeneratedAt` and `updatedAt`. Default: the system clock. */
  now?: () => Date;
}

/** Milliseconds spent in each part of a run. Generation overlaps the writes when pooled. */
export interface BulkTimings extends WriteTimings {
  /** Reading users without keys from the cursor. */
  readMs: number;
  /** Generating key pairs, summed over batches (wall time of each batch's generation). */
  keygenMs: number;
  /** Time the writes waited for the next batch's reads and key generation. */
  waitMs: number;
  /** Time spent in `stageKeys`, in committing and discarding staged keys, and in `onKeys`. */
  callbackMs: number;
}

/** Result of {@link bulkEnroll}. */
export interface BulkEnrollSummary {
  /** Users without keys when the run started, after the repair. */
  total: number;
  /** Users enrolled by this run. */
  enrolled: number;
  /** Users another writer enrolled or deleted while the run was writing. */
  conflicts: number;
  /** Users whose write lease stayed held by another writer; a rerun enrolls them. */
  skipped: number;
  /** Users whose writes the server rejected; a rerun tries them again. */
  failed: number;
  /** Counts of the pending entries that the repair at the start resolved. */
  repaired: RepairReport;
  /** Expired user leases of crashed writers deleted at the start. */
  expiredLeasesDeleted: number;
  /** Wall time of the run, in milliseconds. */
  durationMs: number;
  /** Users enrolled per second of wall time. */
  usersPerSecond: number;
  /** Time spent in each part of the run. */
  timings: BulkTimings;
}

function requirePositiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new StoreValidationError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function enrolledUserOf(user: BatchUser): BulkEnrolledUser {
  return { userId: user.userId, email: user.email, keyId: user.record.keyId };
}

function zeroAll(users: readonly BatchUser[]): void {
  for (const user of users) zeroUserKeyPairs(user.pairs);
}

/** One run of bulk enrollment: its settings, counters and the step in progress. */
class BulkRun {
  readonly batchSize: number;
  readonly lifetimeMs: number;
  readonly operationTimeoutMs: number;
  readonly leaseWaitMs: number;
  readonly now: () => Date;
  readonly started = performance.now();
  readonly summary: BulkEnrollSummary;
  /** The step that failed, for the log line of a failed run. */
  step = 'none';

  constructor(
    readonly context: StoreContext,
    readonly options: BulkEnrollOptions,
  ) {
    this.batchSize = requirePositiveInteger(
      options.batchSize ?? DEFAULT_BULK_BATCH_SIZE,
      'batchSize',
    );
    this.lifetimeMs = requirePositiveInteger(
      options.keyLifetimeMs ?? DEFAULT_KEY_LIFETIME_MS,
      'keyLifetimeMs',
    );
    this.operationTimeoutMs = requirePositiveInteger(
      options.operationTimeoutMs ?? DEFAULT_BULK_OPERATION_TIMEOUT_MS,
      'operationTimeoutMs',
    );
    this.leaseWaitMs = options.leaseWaitMs ?? context.userLeaseTtlMs;
    this.now = options.now ?? (() => new Date());
    this.summary = {
      total: 0,
      enrolled: 0,
      conflicts: 0,
      skipped: 0,
      failed: 0,
      repaired: { promoted: 0, discarded: 0, retired: 0, skipped: 0 },
      expiredLeasesDeleted: 0,
      durationMs: 0,
      usersPerSecond: 0,
      timings: {
        readMs: 0,
        keygenMs: 0,
        waitMs: 0,
        callbackMs: 0,
        leaseMs: 0,
        checkMs: 0,
        historyMs: 0,
        userWriteMs: 0,
      },
    };
  }

  /**
   * Runs `action`; a driver error becomes a DatabaseError naming the step that `step` returns
   * at the time of the failure. Reads and writes overlap, so each call names its own step.
   */
  async database<T>(step: () => string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof MongoError)) throw error;
      this.step = step();
      throw new DatabaseError(
        `bulk enrollment failed while ${this.step}: ${error.message}. ${this.summary.enrolled} ` +
          'users were enrolled before the failure; rerun bulk enrollment to resume, it resolves ' +
          'pending key entries first and enrolls only users still without keys',
        { cause: error },
      );
    }
  }

  /** Reads the next batch of users from `cursor` and generates their key pairs. */
  async prepare(cursor: FindCursor<UserDocument>): Promise<BatchUser[]> {
    const readStart = performance.now();
    const page = await this.database(() => 'reading users without keys', async () => {
      const users: UserDocument[] = [];
      while (users.length < this.batchSize) {
        const user = await cursor.next();
        if (user === null) break;
        users.push(user);
      }
      return users;
    });
    this.summary.timings.readMs += performance.now() - readStart;
    if (page.length === 0) return [];

    const keygenStart = performance.now();
    const pairs = await generateUserKeyPairs(this.options.keySource, page.length);
    this.summary.timings.keygenMs += performance.now() - keygenStart;

    const generatedAt = this.now();
    const expiresAt = new Date(generatedAt.getTime() + this.lifetimeMs);
    return page.map((user, index): BatchUser => {
      const userPairs = pairs[index]!;
      const publicKeys = {
        kemPublicKey: userPairs.kem.publicKey,
        signaturePublicKey: userPairs.signature.publicKey,
      };
      return {
        userId: user._id,
        email: user.email,
        pairs: userPairs,
        record: buildKeyRecord(user._id, publicKeys, generatedAt, expiresAt),
      };
    });
  }

  /**
   * Opens the cursor over users without keys in `_id` order. One cursor, rather than a query
   * per page, because on FerretDB every query with this filter scans the whole collection.
   */
  openCursor(): FindCursor<UserDocument> {
    return this.context.users.find(WITHOUT_KEY, {
      projection: { _id: 1, email: 1 },
      sort: { _id: 1 },
      batchSize: this.batchSize,
      timeoutMS: this.operationTimeoutMs,
      timeoutMode: CursorTimeoutMode.ITERATION,
    });
  }

  /** Writes `users` and counts the outcome; returns the users whose lease was held. */
  async write(users: readonly BatchUser[], leaseWaitMs: number): Promise<BatchUser[]> {
    const staged = await this.stage(users);
    const writeStart = performance.now();
    let writeStep = 'writing a batch';
    let outcome: BatchOutcome;
    try {
      outcome = await this.database(
        () => writeStep,
        () =>
          writeBatch(this.context, users, {
            operationTimeoutMs: this.operationTimeoutMs,
            leaseTtlMs: this.context.userLeaseTtlMs,
            leaseWaitMs,
            timings: this.summary.timings,
            onStep: (step) => {
              writeStep = step;
            },
          }),
      );
    } catch (error) {
      zeroAll(users);
      throw error;
    }
    const elapsed = performance.now() - writeStart;
    if (!this.context.server.atomicUpdates && elapsed > this.context.userLeaseTtlMs) {
      // NOTE: leases are not renewed during a batch. A batch slower than the lease TTL may
      // therefore overlap another writer's update of the same user, which a smaller batchSize
      // avoids.
      this.context.logger.warn(
        { elapsedMs: Math.round(elapsed), leaseTtlMs: this.context.userLeaseTtlMs },
        'a bulk enrollment batch outlasted its user leases; lower batchSize',
      );
    }

    this.summary.conflicts += outcome.conflicts.length;
    this.summary.failed += outcome.failed.length;
    try {
      const notEnrolled = [...outcome.conflicts, ...outcome.failed, ...outcome.leaseHeld];
      await this.deliver(outcome.enrolled, staged);
      for (const user of notEnrolled) await staged.get(user)?.discard();
    } finally {
      zeroAll([...outcome.enrolled, ...outcome.conflicts, ...outcome.failed]);
    }
    return outcome.leaseHeld;
  }

  /**
   * Runs `stageKeys` for every user of a batch. On a rejection it discards what was staged and
   * zeroes the batch's keys, so nothing of the batch reaches the database.
   */
  private async stage(users: readonly BatchUser[]): Promise<Map<BatchUser, StagedKeys>> {
    const staged = new Map<BatchUser, StagedKeys>();
    const stageKeys = this.options.stageKeys;
    if (stageKeys === undefined) return staged;

    const start = performance.now();
    try {
      for (const user of users) staged.set(user, await stageKeys(enrolledUserOf(user), user.pairs));
    } catch (error) {
      this.step = 'staging secret keys';
      for (const keys of staged.values()) await keys.discard().catch(() => {});
      zeroAll(users);
      throw error;
    } finally {
      this.summary.timings.callbackMs += performance.now() - start;
    }
    return staged;
  }

  private async deliver(
    enrolled: readonly BatchUser[],
    staged: ReadonlyMap<BatchUser, StagedKeys>,
  ): Promise<void> {
    const onKeys = this.options.onKeys;
    for (const user of enrolled) {
      this.summary.enrolled += 1;
      const keys = staged.get(user);
      if (keys === undefined && onKeys === undefined) continue;

      const start = performance.now();
      await keys?.commit();
      await onKeys?.(enrolledUserOf(user), user.pairs);
      this.summary.timings.callbackMs += performance.now() - start;
    }
  }

  /** Reports progress; `deferred` users wait for the retry of held leases. */
  report(deferred: number): void {
    const { enrolled, conflicts, failed, skipped, total } = this.summary;
    const done = enrolled + conflicts + failed + skipped + deferred;
    const seconds = (performance.now() - this.started) / 1000;
    this.options.onProgress?.({
      done,
      total: Math.max(total, done),
      failed: failed + skipped,
      rate: seconds > 0 ? done / seconds : 0,
    });
  }

  finish(): BulkEnrollSummary {
    const durationMs = performance.now() - this.started;
    this.summary.durationMs = durationMs;
    this.summary.usersPerSecond = durationMs > 0 ? this.summary.enrolled / (durationMs / 1000) : 0;
    return this.summary;
  }
}

/**
 * Enrolls every user without keys and resolves with a summary. Rejects with `DatabaseError`
 * (`ERR_DATABASE`) naming the failed step when the server fails or is lost; rerunning resumes.
 */
export async function bulkEnroll(
  context: StoreContext,
  options: BulkEnrollOptions,
): Promise<BulkEnrollSummary> {
  const run = new BulkRun(context, options);
  const waitingForLease: BatchUser[] = [];
  let cursor: FindCursor<UserDocument> | undefined;
  let next: Promise<BatchUser[]> | undefined;

  try {
    run.summary.repaired = await run.database(
      () => 'resolving pending key entries',
      () => repairPendingKeys(context),
    );
    run.summary.expiredLeasesDeleted = await run.database(
      () => 'deleting expired user leases',
      () => deleteExpiredUserLeases(context),
    );
    run.summary.total = await run.database(
      () => 'counting users without keys',
      () => context.users.countDocuments(WITHOUT_KEY, { timeoutMS: run.operationTimeoutMs }),
    );
    context.logger.info(
      { total: run.summary.total, expiredLeasesDeleted: run.summary.expiredLeasesDeleted },
      'bulk enrollment started',
    );

    const users = run.openCursor();
    cursor = users;
    next = run.prepare(users);
    for (;;) {
      const waitStart = performance.now();
      const batch = await next;
      run.summary.timings.waitMs += performance.now() - waitStart;
      next = undefined;
      if (batch.length === 0) break;

      next = run.prepare(users);
      // A failure of the next batch surfaces when it is awaited. This handler keeps Node from
      // reporting it as unhandled while the current batch is still being written.
      next.catch(() => {});
      waitingForLease.push(...(await run.write(batch, 0)));
      run.report(waitingForLease.length);
    }

    await retryHeld(run, waitingForLease);
  } catch (error) {
    zeroAll(waitingForLease);
    if (next !== undefined) {
      void next.then(zeroAll).catch(() => {});
    }
    // Not awaited: after a lost server, closing the cursor would wait for server selection.
    void cursor?.close().catch(() => {});
    context.logger.error(
      { err: error, step: run.step, ...countsOf(run) },
      'bulk enrollment failed',
    );
    throw error;
  }
  await cursor.close();

  const summary = run.finish();
  context.logger.info(
    { ...countsOf(run), durationMs: Math.round(summary.durationMs) },
    'bulk enrollment finished',
  );
  return summary;
}

/** Writes the users whose lease was held, waiting up to `leaseWaitMs` for the leases. */
async function retryHeld(run: BulkRun, waiting: BatchUser[]): Promise<void> {
  while (waiting.length > 0) {
    const batch = waiting.splice(0, run.batchSize);
    const stillHeld = await run.write(batch, run.leaseWaitMs);
    zeroAll(stillHeld);
    run.summary.skipped += stillHeld.length;
    run.report(waiting.length);
  }
}

function countsOf(run: BulkRun): Record<string, number> {
  const { total, enrolled, conflicts, skipped, failed } = run.summary;
  return { total, enrolled, conflicts, skipped, failed };
}

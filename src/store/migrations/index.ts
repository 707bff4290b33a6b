/**
 * Migrations of the shared `users` collection: the public types and the ordered list that
 * {@link migrateUp} applies when the caller passes none. The runner is in runner.ts.
 *
 * A migration is an object with an `id`, an `up` and a `down`. The runner records each applied
 * `id` in the changelog collection (`pqcMigrations`) and holds the migration lock while it runs,
 * so processes that start together apply each migration once. A process killed half-way leaves
 * no changelog entry, so the next run applies that migration again: every step of `up` and
 * `down` must be safe to repeat.
 */
import type { StoreContext } from '../context.js';
import { addPqcFields } from './001-add-pqc-fields.js';

/** What a running migration receives from the runner. */
export interface MigrationRun {
  /** Collections, server capabilities, leases and logger of the store. */
  readonly context: StoreContext;
  /**
   * Resolves while this process still holds the migration lock and rejects with
   * `MigrationFailedError` once another process took it over. Await it before every write.
   */
  ensureLock(): Promise<void>;
  /** Documents read and written per round trip. */
  readonly batchSize: number;
  /** The caller's `force` option: proceed past checks that would otherwise stop a step. */
  readonly force: boolean;
}

/** Counts and lists a migration step returns; stored in its changelog entry. */
export type MigrationSummary = Readonly<Record<string, unknown>>;

/** One migration: `up` applies it and `down` reverts it; both must be safe to rerun. */
export interface Migration {
  /** Unique, ordered id such as `001-add-pqc-fields`; the changelog's `_id`. */
  readonly id: string;
  /** One line saying what the migration changes. */
  readonly description: string;
  up(run: MigrationRun): Promise<MigrationSummary | void>;
  down(run: MigrationRun): Promise<MigrationSummary | void>;
}

/** A document of the changelog collection: one applied migration. */
export interface MigrationChangelogEntry {
  /** Migration id. */
  _id: string;
  description: string;
  /** When `up` finished. */
  appliedAt: Date;
  /** Milliseconds `up` took. */
  durationMs: number;
  /** Lease owner of the process that applied it, `host:pid:random`. */
  owner: string;
  /** What `up` returned. */
  summary: MigrationSummary | null;
}

/** Options of the runner's lock, shared by {@link migrateUp} and {@link migrateDown}. */
export interface MigrationLockOptions {
  /** Migrations to consider, in order. Default: {@link MIGRATIONS}. */
  migrations?: readonly Migration[];
  /**
   * Milliseconds to wait for a lock another process holds before `MigrationLockedError`.
   * Default 60 000.
   */
  waitMs?: number;
  /** Milliseconds the lock lasts unless renewed; renewed every third of it. Default 60 000. */
  lockTtlMs?: number;
  /** Documents per round trip inside a migration. Default 500. */
  batchSize?: number;
}

/** Options of {@link migrateUp}. */
export interface MigrateUpOptions extends MigrationLockOptions {
  /** Last migration to apply, by id. Default: every pending one. */
  to?: string;
}

/** Options of {@link migrateDown}. */
export interface MigrateDownOptions extends MigrationLockOptions {
  /** Revert every applied migration after this id, which stays applied. */
  to?: string;
  /** Number of applied migrations to revert, newest first; `Infinity` reverts all. Default 1. */
  steps?: number;
  /**
   * Proceed although the changelog lists migrations this code does not know, and pass `force`
   * to each `down`, whose own checks document what it overrides.
   */
  force?: boolean;
}

/** One migration applied or reverted by a run. */
export interface MigrationStepReport {
  id: string;
  /** Milliseconds the step took. */
  durationMs: number;
  summary: MigrationSummary | null;
}

/** Result of {@link migrateUp} or {@link migrateDown}. */
export interface MigrationRunReport {
  /** Lease owner of this process, `host:pid:random`. */
  owner: string;
  /** Steps run by this process, in the order they ran; empty when nothing was pending. */
  steps: MigrationStepReport[];
}

/** Result of {@link migrationStatus}. */
export interface MigrationStatus {
  /** Changelog entries of applied migrations, in the order of the list, then unknown ones. */
  applied: MigrationChangelogEntry[];
  /** Ids of listed migrations not yet applied, in order. */
  pending: string[];
  /** Ids in the changelog that the list does not contain, for example from a newer release. */
  unknown: string[];
  /** Holder of the migration lock, or null when it is free. */
  lock: { owner: string; expiresAt: Date } | null;
}

/** The store's migrations in the order they apply. */
export const MIGRATIONS: readonly Migration[] = [addPqcFields];

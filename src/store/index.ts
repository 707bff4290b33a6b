/**
 * `@qynauth/pqc/store`: the MongoDB persistence layer on the shared `users` collection, through
 * the official driver. It stores public keys, key ids and dates, never secret keys.
 *
 * ```ts
 * const context = await createStoreContext(client.db('portal'), { logger });
 * const users = new UserStore(context);
 * await users.createUser({ email: 'ada@example.com', password: 'correct horse battery' });
 * ```
 */
export { createStoreContext, DEFAULT_USER_LEASE_TTL_MS, DEFAULT_USER_LEASE_WAIT_MS } from './context.js';
export type { StoreContext, StoreOptions } from './context.js';
export {
  DatabaseError,
  MigrationFailedError,
  MigrationLockedError,
  StoreConflictError,
  StoreNotFoundError,
  StoreValidationError,
} from './errors.js';
export type { StoreLogger } from './logger.js';
export { DEFAULT_LOCKOUT_POLICY, nextLoginState } from './lockout.js';
export type { LockoutPolicy, LoginResult, LoginState, LoginTransition } from './lockout.js';
export {
  checkKeyDates,
  COLLECTIONS,
  keyState,
  MAX_BCRYPT_COST,
  MIN_BCRYPT_COST,
  normalizeEmail,
  PQC_FIELDS,
  PQC_KEY_FIELDS,
  USER_KEM_ALGORITHM,
  USER_SIGNATURE_ALGORITHM,
} from './schema.js';
export type { KeyState, PqcKeyDocument, UserDocument } from './schema.js';
export { detectServer } from './server.js';
export type { ServerCapabilities, ServerInfo } from './server.js';
export { DEFAULT_BCRYPT_ROUNDS, UserStore } from './users.js';
export type { LoginAttempt, NewUser, PublicUser, UserStoreOptions } from './users.js';
export { DEFAULT_KEY_LIFETIME_MS, KeyStore } from './keys.js';
export type { EnrolledKeys, KeyStoreOptions, RegisterOptions, StoredKey } from './keys.js';
export type { CurrentKey, UserKeyInfo, UserSelector } from './key-users.js';
export { generateUserKeyPairs, zeroUserKeyPairs } from './key-source.js';
export type { KeySource, UserKeyPairs } from './key-source.js';
export { repairPendingKeys } from './key-repair.js';
export type { RepairOptions, RepairReport } from './key-repair.js';
export { bulkEnroll, DEFAULT_BULK_BATCH_SIZE, DEFAULT_BULK_OPERATION_TIMEOUT_MS } from './bulk-enroll.js';
export type {
  BulkEnrolledUser,
  BulkEnrollOptions,
  BulkEnrollSummary,
  BulkProgress,
  BulkTimings,
  StagedKeys,
} from './bulk-enroll.js';
export { importQynAuthUsers } from './import-users.js';
export type { ImportOptions, ImportOutcome, ImportOutcomeKind, ImportReport } from './import-users.js';
export { parseQynAuthExport, readQynAuthExport } from './import-records.js';
export type { QynAuthExportRecord } from './import-records.js';
export { DEFAULT_MIGRATION_BATCH_SIZE, migrateDown, migrateUp, migrationStatus } from './migrations/runner.js';
export { MIGRATIONS } from './migrations/index.js';
export type {
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
} from './migrations/index.js';
export { DEFAULT_LOCK_TTL_MS, DEFAULT_LOCK_WAIT_MS } from './migrations/lock.js';
export {
  backupDatabase,
  findRestoreLeftovers,
  InvalidBackupError,
  restoreDatabase,
  scanBackup,
} from './backup.js';
export type {
  BackupCollectionHeader,
  BackupHeader,
  BackupOptions,
  RestoreLeftover,
  RestoredCollection,
  RestoreOptions,
  RestoreReport,
} from './backup.js';
export {
  checkUserRules,
  compareSnapshots,
  snapshotFromBackup,
  snapshotFromJson,
  snapshotToJson,
  takeSnapshot,
  USER_RULES,
} from './validate.js';
export type {
  DatabaseSnapshot,
  RuleViolation,
  SnapshotComparison,
  SnapshotDifference,
  UserRule,
  UserRuleReport,
} from './validate.js';

/**
 * Errors of the MongoDB store. Each extends {@link PqcError}, so callers branch on `code`:
 * `ERR_STORE_CONFLICT`, `ERR_STORE_NOT_FOUND`, `ERR_STORE_VALIDATION`, `ERR_MIGRATION_LOCKED`,
 * `ERR_MIGRATION_FAILED` and `ERR_DATABASE`.
 */
import { PqcError } from '../errors.js';
import type { PqcErrorOptions } from '../errors.js';

/** A concurrent writer changed the document first, or a unique value is already taken. */
export class StoreConflictError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_STORE_CONFLICT', message, options);
  }
}

/** The user, key or file the operation needs does not exist. */
export class StoreNotFoundError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_STORE_NOT_FOUND', message, options);
  }
}

/**
 * A value failed the schema's checks (email, password, dates, keys), before it was written or,
 * for a stored password hash, when a login read it.
 */
export class StoreValidationError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_STORE_VALIDATION', message, options);
  }
}

/** Another process holds the migration lock and `waitMs` passed without it being released. */
export class MigrationLockedError extends PqcError {
  /** Owner recorded in the lock document, for example `host:pid`. */
  readonly owner: string;
  /** When the lock expires unless its owner renews it. */
  readonly expiresAt: Date;

  constructor(owner: string, expiresAt: Date) {
    super(
      'ERR_MIGRATION_LOCKED',
      `migrations are locked by ${owner} until ${expiresAt.toISOString()}; wait for it to ` +
        'finish, or retry after that time if the process died',
    );
    this.owner = owner;
    this.expiresAt = expiresAt;
  }
}

/** A migration step failed or refused to run; the message says which and why. */
export class MigrationFailedError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_MIGRATION_FAILED', message, options);
  }
}

/** The database could not be reached or returned an unexpected error. */
export class DatabaseError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_DATABASE', message, options);
  }
}

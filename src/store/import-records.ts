/**
 * The export format of the former QynAuth in-memory user store, and its validation.
 *
 * An export is a JSON array with one object per user:
 *
 * ```json
 * [{ "id": "5f0c…", "email": "ada@example.com", "passwordHash": "$2b$10$…",
 *    "createdAt": "2024-03-01T09:30:00Z", "lastLoginAt": null, "failedLoginAttempts": 0,
 *    "lockUntil": null }]
 * ```
 *
 * `id` and `email` are required. Exactly one of `passwordHash` (a bcrypt hash of cost 4 to 13,
 * see `MAX_BCRYPT_COST`) and `password` (plain text, hashed on import) is required. Dates are ISO
 * 8601 strings with `Z` or an offset, or milliseconds since the epoch, because a date without a
 * time zone is ambiguous. Other fields are not imported; the outcome lists them.
 */
import { readFile } from 'node:fs/promises';
import { PqcError } from '../errors.js';
import { StoreNotFoundError, StoreValidationError } from './errors.js';
import {
  BCRYPT_COST_RANGE,
  bcryptCost,
  checkPassword,
  isAcceptedBcryptCost,
  normalizeEmail,
} from './schema.js';

/** One user as the QynAuth export writes it. */
export interface QynAuthExportRecord {
  /** QynAuth user id; becomes `qynAuthUserId`. */
  id: string;
  /** Email address; matched to existing users after trimming and lower-casing. */
  email: string;
  /** bcrypt hash of the password (`$2a$`, `$2b$` or `$2y$`) with a cost from 4 to 13. */
  passwordHash?: string;
  /** Plain password, 8 to 72 bytes, for exports that kept one; hashed with bcrypt on import. */
  password?: string;
  /** Sign-up time. */
  createdAt?: string | number;
  /** Last successful login, or null. */
  lastLoginAt?: string | number | null;
  /** Consecutive failed logins. */
  failedLoginAttempts?: number;
  /** End of the current lock, or null. */
  lockUntil?: string | number | null;
}

/** A record that passed validation, with dates parsed and the email normalised. */
export interface ValidImportRecord {
  id: string;
  email: string;
  passwordHash?: string;
  password?: string;
  createdAt?: Date;
  lastLoginAt?: Date | null;
  failedLoginAttempts?: number;
  lockUntil?: Date | null;
  /** Fields of the record that the import does not store. */
  ignoredFields: string[];
}

/** Fields of {@link QynAuthExportRecord}. */
const KNOWN_FIELDS = new Set([
  'id',
  'email',
  'passwordHash',
  'password',
  'createdAt',
  'lastLoginAt',
  'failedLoginAttempts',
  'lockUntil',
]);

/** An ISO 8601 date-time that ends in `Z` or a numeric offset. */
const ZONED_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Throws the `StoreValidationError` whose message becomes an invalid record's reason. */
function invalid(message: string): never {
  throw new StoreValidationError(message);
}

function parseDate(value: unknown, field: string, nullable: boolean): Date | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) {
    if (nullable) return null;
    invalid(`${field} must be a date, got null`);
  }

  let date: Date | undefined;
  if (value instanceof Date) date = value;
  else if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value);
  else if (typeof value === 'string' && ZONED_DATE_TIME.test(value)) date = new Date(value);
  if (date === undefined || Number.isNaN(date.getTime())) {
    invalid(
      `${field} must be an ISO 8601 date-time with Z or an offset, or milliseconds since the ` +
        `epoch, got ${JSON.stringify(value)?.slice(0, 60) ?? typeof value}`,
    );
  }
  return date;
}

function readPassword(
  record: Record<string, unknown>,
): Pick<ValidImportRecord, 'password' | 'passwordHash'> {
  const { password, passwordHash } = record;
  if (password !== undefined && passwordHash !== undefined) {
    invalid('give either passwordHash or password, not both');
  }
  if (passwordHash !== undefined) {
    const cost = typeof passwordHash === 'string' ? bcryptCost(passwordHash) : undefined;
    if (cost === undefined) {
      invalid('passwordHash must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)');
    }
    if (!isAcceptedBcryptCost(cost)) {
      invalid(`passwordHash has bcrypt cost ${cost}; accepted costs are ${BCRYPT_COST_RANGE}`);
    }
    return { passwordHash: passwordHash as string };
  }
  if (password !== undefined) return { password: checkPassword(password) };
  return invalid('passwordHash or password is missing');
}

/**
 * Validates one export record. Returns the parsed record, or throws `StoreValidationError`
 * whose message is the reason; the message never contains the password or its hash.
 */
export function validateImportRecord(raw: unknown): ValidImportRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    invalid(`a record must be an object, got ${Array.isArray(raw) ? 'an array' : String(raw)}`);
  }
  const record = raw as Record<string, unknown>;

  if (typeof record.id !== 'string' || record.id.trim() === '') {
    invalid('id must be a non-empty string');
  }
  const email = normalizeEmail(record.email);
  const failed = record.failedLoginAttempts;
  if (failed !== undefined && !(Number.isSafeInteger(failed) && (failed as number) >= 0)) {
    invalid(`failedLoginAttempts must be a non-negative integer, got ${String(failed)}`);
  }

  const parsed: ValidImportRecord = {
    id: record.id,
    email,
    ...readPassword(record),
    ignoredFields: Object.keys(record).filter((field) => !KNOWN_FIELDS.has(field)),
  };
  const createdAt = parseDate(record.createdAt, 'createdAt', false);
  if (createdAt instanceof Date) parsed.createdAt = createdAt;
  const lastLoginAt = parseDate(record.lastLoginAt, 'lastLoginAt', true);
  if (lastLoginAt !== undefined) parsed.lastLoginAt = lastLoginAt;
  const lockUntil = parseDate(record.lockUntil, 'lockUntil', true);
  if (lockUntil !== undefined) parsed.lockUntil = lockUntil;
  if (failed !== undefined) parsed.failedLoginAttempts = failed as number;
  return parsed;
}

/** Parses an export; throws `StoreValidationError` unless it is a JSON array. */
export function parseQynAuthExport(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StoreValidationError(
      `the QynAuth export is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!Array.isArray(parsed)) {
    throw new StoreValidationError(
      `the QynAuth export must be a JSON array of user records, got ${typeof parsed}`,
    );
  }
  return parsed;
}

/** Reads and parses the export at `path`; throws `StoreNotFoundError` when it does not exist. */
export async function readQynAuthExport(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StoreNotFoundError(`QynAuth export ${path} not found; check the path`, {
        cause: error,
      });
    }
    throw error;
  }
  return parseQynAuthExport(text);
}

/** Returns the reason `error` gives for an invalid record, or rethrows anything else. */
export function invalidReason(error: unknown): string {
  if (error instanceof PqcError && error.code === 'ERR_STORE_VALIDATION') return error.message;
  throw error;
}

/**
 * The shared `users` collection as the store sees it: field names, defaults, the collections the
 * store adds next to it, and the input checks applied before anything is written.
 *
 * Two services share `users`: the Portal Backend (a Mongoose model with `createdAt` and
 * `updatedAt`) and QynAuth. "No key" is an absent `pqcKeyId`, never null, because a unique index
 * over explicit nulls rejects the second user without keys. Dates are BSON dates (UTC).
 */
import type { Binary, ObjectId } from 'mongodb';
import { StoreValidationError } from './errors.js';

/** Collection names. */
export const COLLECTIONS = {
  /** The shared user documents. */
  users: 'users',
  /** Public halves of current and retired key pairs, keyed by key id. */
  pqcKeys: 'pqcKeys',
  /** Applied migrations, keyed by migration id. */
  migrations: 'pqcMigrations',
  /** Lease documents: the migration lock, and per-user write leases on FerretDB. */
  leases: 'pqcLeases',
  /** PQC fields that a migration's `down` removed, so `up` can restore them. */
  migrationBackup: 'pqcMigrationBackup',
  /** On servers without partial indexes: one document per `qynAuthUserId`, keyed by the value. */
  qynAuthUserIds: 'qynAuthUserIds',
} as const;

/** Key encapsulation algorithm of enrolled users (FIPS 203). */
export const USER_KEM_ALGORITHM = 'ML-KEM-768';
/** Signature algorithm of enrolled users (FIPS 204). */
export const USER_SIGNATURE_ALGORITHM = 'ML-DSA-65';

/** Fields that describe a user's current key pair; set together and removed together. */
export const PQC_KEY_FIELDS = [
  'pqcPublicKey',
  'pqcSignaturePublicKey',
  'pqcKeyId',
  'pqcKeyGeneratedAt',
  'pqcKeyExpiresAt',
  'pqcKemAlgorithm',
  'pqcSignatureAlgorithm',
] as const;

/**
 * The key fields and the two flags: the fields of `users` that migration 001 `down` backs up and
 * removes. The integration also adds `qynAuthUserId` and `consentRecords`. QynAuth's user records
 * depend on those, so they stay in place on `down`.
 */
export const PQC_FIELDS = [...PQC_KEY_FIELDS, 'pqcEnabled', 'classicalFallback'] as const;

/** Fields that are unique across users when present and must be absent, not null, when unset. */
export const UNIQUE_OPTIONAL_FIELDS = ['pqcKeyId', 'qynAuthUserId'] as const;

/**
 * Defaults migration 001 sets where a field is missing. The Portal Backend's lockout fields
 * (`failedLoginAttempts`, `lockUntil`, `lastLoginAt`) are not listed: that service owns them, and
 * the store reads a missing one as 0 or null, so the migration leaves those fields as they are.
 */
export const FIELD_DEFAULTS = {
  pqcEnabled: false,
  classicalFallback: true,
} as const;

/** Fields of `users` that store dates, each a BSON date (UTC) or, where allowed, null. */
export const USER_DATE_FIELDS = [
  'createdAt',
  'updatedAt',
  'lastLoginAt',
  'lockUntil',
  'pqcKeyGeneratedAt',
  'pqcKeyExpiresAt',
] as const;

/** Minimum password length before hashing, in characters. */
export const MIN_PASSWORD_LENGTH = 8;
/** bcrypt reads at most 72 bytes of a password; longer ones would be silently truncated. */
export const MAX_PASSWORD_BYTES = 72;
/** Minimum bcrypt cost (log2 of the rounds) that bcrypt and bcryptjs accept. */
export const MIN_BCRYPT_COST = 4;
/**
 * Maximum bcrypt cost the store accepts for new and imported hashes and verifies at login. The
 * store verifies with bcryptjs 3.0.3, which is pure JavaScript, so each login costs CPU time on
 * the server. Each step doubles the time: one `bcrypt.compare` took 72 ms at cost 10, 286 ms at
 * 12, 568 ms at 13, 1141 ms at 14 and 2364 ms at 15 (Node 20.20, 2-core AMD EPYC VM). Cost 13 is
 * the highest that keeps a login under about a second of CPU.
 */
export const MAX_BCRYPT_COST = 13;

/** A bcrypt hash: version 2a, 2b or 2y, a two-digit cost, 53 characters of salt and hash. */
const BCRYPT_HASH = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/** Maximum length of an email address, in characters (RFC 5321 path limit less the brackets). */
export const MAX_EMAIL_LENGTH = 254;

/** A document of `users`, with the fields the store reads or writes. */
export interface UserDocument {
  _id: ObjectId;
  email: string;
  password?: string;
  lastLoginAt?: Date | null;
  failedLoginAttempts?: number;
  lockUntil?: Date | null;
  refreshTokenHash?: string | null;
  isActive?: boolean;
  createdAt?: Date;
  updatedAt?: Date;
  qynAuthUserId?: string | null;
  consentRecords?: ObjectId[];
  pqcEnabled?: boolean;
  classicalFallback?: boolean;
  pqcPublicKey?: string;
  pqcSignaturePublicKey?: string;
  pqcKeyId?: string | null;
  pqcKeyGeneratedAt?: Date;
  pqcKeyExpiresAt?: Date;
  pqcKemAlgorithm?: string;
  pqcSignatureAlgorithm?: string;
}

/** A document of `pqcKeys`: the public halves of one key pair and its life cycle. */
export interface PqcKeyDocument {
  /** Key id: base64url SHA-256 over the two SubjectPublicKeyInfo encodings. */
  _id: string;
  userId: ObjectId;
  kemAlgorithm: string;
  kemPublicKey: Binary;
  signatureAlgorithm: string;
  signaturePublicKey: Binary;
  generatedAt: Date;
  expiresAt: Date;
  /** `pending` while the user document is being updated, then `current`, later `retired`. */
  status: 'pending' | 'current' | 'retired';
  createdAt: Date;
  retiredAt?: Date;
}

/** Loose check: one `@`, no spaces, a dot in the domain. Plus-addressing and any TLD pass. */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Control characters: C0 (U+0000 to U+001F), DEL (U+007F) and C1 (U+0080 to U+009F). */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

function escapeControlCharacters(text: string): string {
  return text.replace(
    CONTROL_CHARACTERS,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Returns `email` trimmed and lower-cased. Throws `StoreValidationError` unless it has the shape
 * `local@domain.tld`, at most 254 characters and no control character after trimming. The check
 * is no stricter, so `user+tag@example.company` is accepted.
 */
export function normalizeEmail(email: unknown): string {
  if (typeof email !== 'string') {
    throw new StoreValidationError(`email must be a string, got ${typeof email}`);
  }

  const normalized = email.trim().toLowerCase();
  const position = normalized.search(CONTROL_CHARACTERS);
  if (position !== -1) {
    const codePoint = normalized.charCodeAt(position).toString(16).toUpperCase().padStart(4, '0');
    throw new StoreValidationError(
      `email "${escapeControlCharacters(normalized.slice(0, 80))}" is invalid: it contains the ` +
        `control character U+${codePoint} at position ${position}; remove it`,
    );
  }
  if (normalized.length > MAX_EMAIL_LENGTH || !EMAIL_PATTERN.test(normalized)) {
    throw new StoreValidationError(
      `email ${JSON.stringify(normalized.slice(0, 80))} is invalid; expected local@domain.tld ` +
        `of at most ${MAX_EMAIL_LENGTH} characters`,
    );
  }
  return normalized;
}

/** Throws `StoreValidationError` unless `password` has 8 to 72 bytes (bcrypt's input limit). */
export function checkPassword(password: unknown): string {
  if (typeof password !== 'string') {
    throw new StoreValidationError(`password must be a string, got ${typeof password}`);
  }
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new StoreValidationError(
      `password must have at least ${MIN_PASSWORD_LENGTH} characters; choose a longer one`,
    );
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw new StoreValidationError(
      `password must be at most ${MAX_PASSWORD_BYTES} bytes in UTF-8, because bcrypt ignores ` +
        'the rest; choose a shorter one',
    );
  }
  return password;
}

/** Returns the cost of the bcrypt hash `hash`, or `undefined` when `hash` is not a bcrypt hash. */
export function bcryptCost(hash: string): number | undefined {
  const cost = BCRYPT_HASH.exec(hash)?.[1];
  return cost === undefined ? undefined : Number(cost);
}

/** Tells whether `cost` is an integer from {@link MIN_BCRYPT_COST} to {@link MAX_BCRYPT_COST}. */
export function isAcceptedBcryptCost(cost: number): boolean {
  return Number.isInteger(cost) && cost >= MIN_BCRYPT_COST && cost <= MAX_BCRYPT_COST;
}

/** Accepted cost range and its reason, as error messages state them. */
export const BCRYPT_COST_RANGE =
  `${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}, because bcryptjs needs more than about a second ` +
  'of CPU per login above that';

/**
 * Throws `StoreValidationError` unless `expiresAt` is a valid date after `generatedAt`. The
 * check compares the two dates of one key, never the clock, so a stored key that has expired
 * stays a valid document.
 */
export function checkKeyDates(generatedAt: Date, expiresAt: Date): void {
  if (!(generatedAt instanceof Date) || Number.isNaN(generatedAt.getTime())) {
    throw new StoreValidationError('pqcKeyGeneratedAt must be a valid Date');
  }
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) {
    throw new StoreValidationError('pqcKeyExpiresAt must be a valid Date');
  }
  if (expiresAt.getTime() <= generatedAt.getTime()) {
    throw new StoreValidationError(
      `pqcKeyExpiresAt (${expiresAt.toISOString()}) must be after pqcKeyGeneratedAt ` +
        `(${generatedAt.toISOString()}); use a positive key lifetime`,
    );
  }
}

/** State of a user's key pair at `now`: expiry is a state to act on, not a validation error. */
export type KeyState = 'none' | 'active' | 'expired';

/** Returns whether `user` has no key pair, an active one, or one past `pqcKeyExpiresAt`. */
export function keyState(user: Pick<UserDocument, 'pqcKeyId' | 'pqcKeyExpiresAt'>, now = new Date()): KeyState {
  if (typeof user.pqcKeyId !== 'string') return 'none';
  if (user.pqcKeyExpiresAt instanceof Date && user.pqcKeyExpiresAt.getTime() <= now.getTime()) {
    return 'expired';
  }
  return 'active';
}

/**
 * Rule checks of the current `users` documents against the schema. They never compare a date
 * with the clock: an expired key is a state to act on, not an error.
 */
import { createHash } from 'node:crypto';
import { BSON } from 'mongodb';
import type { Document } from 'mongodb';
import { PqcError } from '../errors.js';
import { resolveKeyAlgorithm } from '../keys/algorithms.js';
import { decodeBase64 } from '../keys/base64.js';
import { checkPublicKey } from '../keys/public-key-check.js';
import type { StoreContext } from './context.js';
import { StoreValidationError } from './errors.js';
import {
  checkKeyDates,
  PQC_KEY_FIELDS,
  UNIQUE_OPTIONAL_FIELDS,
  USER_DATE_FIELDS,
  USER_KEM_ALGORITHM,
  USER_SIGNATURE_ALGORITHM,
} from './schema.js';
import { bsonTypeName } from './snapshot.js';

const { EJSON } = BSON;

/** A rule of {@link checkUserRules}. */
export type UserRule =
  | 'null-unique-field'
  | 'duplicate-unique-field'
  | 'duplicate-public-key'
  | 'invalid-public-key'
  | 'incomplete-keys'
  | 'enabled-without-keys'
  | 'invalid-key-dates'
  | 'date-as-string'
  | 'email-not-normalized';

/** Every rule, in the order reports list them. */
export const USER_RULES: readonly UserRule[] = [
  'null-unique-field',
  'duplicate-unique-field',
  'duplicate-public-key',
  'invalid-public-key',
  'incomplete-keys',
  'enabled-without-keys',
  'invalid-key-dates',
  'date-as-string',
  'email-not-normalized',
];

/** One user document that breaks one rule. */
export interface RuleViolation {
  rule: UserRule;
  /** The user's `_id`: hex for an ObjectId, Extended JSON otherwise. */
  userId: string;
  field: string;
  message: string;
}

/** Result of {@link checkUserRules}. */
export interface UserRuleReport {
  usersChecked: number;
  /** Violations in the order found, at most `maxViolations`. */
  violations: RuleViolation[];
  /** Exact number of violations per rule, including those beyond `maxViolations`. */
  counts: Record<UserRule, number>;
  /** True when more violations were found than `violations` lists. */
  truncated: boolean;
}

/** Options of {@link checkUserRules}. */
export interface UserRuleOptions {
  /** Most violations listed; the counts stay exact. Default 10 000. */
  maxViolations?: number;
}

/** Fields of a complete key pair. The algorithm names are optional and default to the store's. */
const REQUIRED_KEY_FIELDS = [
  'pqcPublicKey',
  'pqcSignaturePublicKey',
  'pqcKeyId',
  'pqcKeyGeneratedAt',
  'pqcKeyExpiresAt',
] as const;

/** Most holders named in a duplicate message. */
const LISTED_HOLDERS = 5;

/** Public key fields that no two users may share, because each user owns their key pair. */
const PUBLIC_KEY_FIELDS = ['pqcPublicKey', 'pqcSignaturePublicKey'] as const;

/** A user that stores a public key, with the key id stored next to it. */
interface KeyHolder {
  userId: string;
  keyId: unknown;
}

type Finding = Omit<RuleViolation, 'userId'>;

function idText(id: unknown): string {
  if (bsonTypeName(id) === 'objectId') return (id as { toHexString(): string }).toHexString();
  return EJSON.stringify(id);
}

function hasValue(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function publicKeyProblem(
  user: Document,
  field: string,
  algorithmField: string,
  fallback: string,
): string | null {
  const value: unknown = user[field];
  if (!hasValue(value)) return null;
  if (typeof value !== 'string') {
    return `${field} must be a base64 string, got ${bsonTypeName(value)}`;
  }

  const stored: unknown = user[algorithmField];
  try {
    const info = resolveKeyAlgorithm(typeof stored === 'string' ? stored : fallback);
    checkPublicKey(info, decodeBase64(value, field), field);
    return null;
  } catch (error) {
    if (error instanceof PqcError) return error.message;
    throw error;
  }
}

function keyFindings(user: Document): Finding[] {
  const found: Finding[] = [];

  const kem = publicKeyProblem(user, 'pqcPublicKey', 'pqcKemAlgorithm', USER_KEM_ALGORITHM);
  if (kem !== null) found.push({ rule: 'invalid-public-key', field: 'pqcPublicKey', message: kem });
  const signature = publicKeyProblem(
    user,
    'pqcSignaturePublicKey',
    'pqcSignatureAlgorithm',
    USER_SIGNATURE_ALGORITHM,
  );
  if (signature !== null) {
    found.push({ rule: 'invalid-public-key', field: 'pqcSignaturePublicKey', message: signature });
  }

  const missing = REQUIRED_KEY_FIELDS.filter((field) => !hasValue(user[field]));
  if (PQC_KEY_FIELDS.some((field) => hasValue(user[field])) && missing.length > 0) {
    const message = `the key pair lacks ${missing.join(', ')}`;
    found.push({ rule: 'incomplete-keys', field: missing[0]!, message });
  }
  if (user.pqcEnabled === true && typeof user.pqcKeyId !== 'string') {
    const message = 'pqcEnabled is true but the user has no pqcKeyId';
    found.push({ rule: 'enabled-without-keys', field: 'pqcEnabled', message });
  }

  if (user.pqcKeyGeneratedAt instanceof Date && user.pqcKeyExpiresAt instanceof Date) {
    try {
      checkKeyDates(user.pqcKeyGeneratedAt, user.pqcKeyExpiresAt);
    } catch (error) {
      if (!(error instanceof StoreValidationError)) throw error;
      found.push({ rule: 'invalid-key-dates', field: 'pqcKeyExpiresAt', message: error.message });
    }
  }
  return found;
}

/** Returns what one user breaks, apart from duplicates, which need every user. */
function userFindings(user: Document): Finding[] {
  const found: Finding[] = [];

  for (const field of UNIQUE_OPTIONAL_FIELDS) {
    if (user[field] !== null) continue;
    const message = `${field} is null; "no value" must be an absent field`;
    found.push({ rule: 'null-unique-field', field, message });
  }
  found.push(...keyFindings(user));

  for (const field of USER_DATE_FIELDS) {
    const value: unknown = user[field];
    if (typeof value !== 'string') continue;
    const message = `${field} is the string ${JSON.stringify(value.slice(0, 40))}, not a BSON date`;
    found.push({ rule: 'date-as-string', field, message });
  }

  const email: unknown = user.email;
  if (typeof email !== 'string') {
    const message = `email must be a string, got ${bsonTypeName(email)}`;
    found.push({ rule: 'email-not-normalized', field: 'email', message });
  } else if (email !== email.trim().toLowerCase()) {
    const message = `email ${JSON.stringify(email.slice(0, 80))} is not trimmed and lower-cased`;
    found.push({ rule: 'email-not-normalized', field: 'email', message });
  }
  return found;
}

function listHolders(others: readonly string[]): string {
  const listed = others.slice(0, LISTED_HOLDERS).join(', ');
  const more = others.length > LISTED_HOLDERS ? ` and ${others.length - LISTED_HOLDERS} more` : '';
  return `${listed}${more}`;
}

function duplicateMessage(field: string, value: string, others: readonly string[]): string {
  return `${field} ${JSON.stringify(value.slice(0, 80))} is also held by ${listHolders(others)}`;
}

/**
 * Returns a `duplicate-public-key` violation for each user whose public key in `field` another
 * user also stores. Holders of the same key id are left out, because `duplicate-unique-field`
 * reports them. The message names the other users, never the key.
 */
function publicKeyDuplicates(
  field: (typeof PUBLIC_KEY_FIELDS)[number],
  byValue: ReadonlyMap<string, KeyHolder[]>,
): RuleViolation[] {
  const violations: RuleViolation[] = [];
  for (const holders of byValue.values()) {
    if (holders.length < 2) continue;

    for (const holder of holders) {
      const others = holders
        .filter((other) => other.userId !== holder.userId)
        .filter((other) => typeof holder.keyId !== 'string' || other.keyId !== holder.keyId)
        .map((other) => other.userId);
      if (others.length === 0) continue;

      const message =
        `${field} is also stored by ${listHolders(others)}; each user needs a key pair of ` +
        'their own, so rotate the keys of all but one of them';
      violations.push({ rule: 'duplicate-public-key', userId: holder.userId, field, message });
    }
  }
  return violations;
}

/**
 * Checks every document of `users` against the schema's rules. `pqcKeyId` and `qynAuthUserId`
 * are never null and never shared, and no two users store the same public key. Public keys are
 * canonical base64 of the algorithm's length, and ML-KEM keys pass the FIPS 203 modulus check. Key pairs are complete, `pqcEnabled` comes
 * with keys, and `pqcKeyExpiresAt` lies after `pqcKeyGeneratedAt`. Dates are BSON dates, and
 * emails are trimmed and lower-cased.
 */
export async function checkUserRules(
  context: StoreContext,
  options: UserRuleOptions = {},
): Promise<UserRuleReport> {
  const maxViolations = options.maxViolations ?? 10_000;
  const zeros = USER_RULES.map((rule) => [rule, 0]);
  const counts = Object.fromEntries(zeros) as Record<UserRule, number>;
  const report: UserRuleReport = { usersChecked: 0, violations: [], counts, truncated: false };
  const record = (violation: RuleViolation): void => {
    report.counts[violation.rule] += 1;
    if (report.violations.length < maxViolations) report.violations.push(violation);
    else report.truncated = true;
  };

  const holders = new Map<(typeof UNIQUE_OPTIONAL_FIELDS)[number], Map<string, string[]>>();
  for (const field of UNIQUE_OPTIONAL_FIELDS) holders.set(field, new Map());
  const keyHolders = new Map<(typeof PUBLIC_KEY_FIELDS)[number], Map<string, KeyHolder[]>>();
  for (const field of PUBLIC_KEY_FIELDS) keyHolders.set(field, new Map());
  const hidden = { projection: { password: 0, refreshTokenHash: 0 } };
  for await (const user of context.users.find({}, hidden)) {
    report.usersChecked += 1;
    const userId = idText(user._id);
    for (const finding of userFindings(user)) record({ ...finding, userId });

    for (const [field, byValue] of holders) {
      const value: unknown = user[field];
      if (typeof value !== 'string') continue;
      const ids = byValue.get(value);
      if (ids === undefined) byValue.set(value, [userId]);
      else ids.push(userId);
    }

    for (const [field, byValue] of keyHolders) {
      const value: unknown = user[field];
      if (typeof value !== 'string') continue;
      // The map is keyed by the SHA-256 digest of the base64 text: 44 characters per entry
      // instead of 1,580 for an ML-KEM-768 key and 2,604 for an ML-DSA-65 key.
      const digest = createHash('sha256').update(value).digest('base64');
      const holder = { userId, keyId: user.pqcKeyId };
      const known = byValue.get(digest);
      if (known === undefined) byValue.set(digest, [holder]);
      else known.push(holder);
    }
  }

  for (const [field, byValue] of holders) {
    for (const [value, userIds] of byValue) {
      if (userIds.length < 2) continue;
      for (const userId of userIds) {
        const others = userIds.filter((id) => id !== userId);
        const message = duplicateMessage(field, value, others);
        record({ rule: 'duplicate-unique-field', userId, field, message });
      }
    }
  }
  for (const [field, byValue] of keyHolders) {
    for (const violation of publicKeyDuplicates(field, byValue)) record(violation);
  }
  return report;
}

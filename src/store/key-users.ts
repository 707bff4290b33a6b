/**
 * User selectors and user views of the key store: the union that names a user, its filter, and
 * the public-key view of a user document.
 */
import { ObjectId } from 'mongodb';
import type { Filter } from 'mongodb';
import { decodeBase64 } from '../keys/base64.js';
import { StoreValidationError } from './errors.js';
import { FIELD_DEFAULTS, keyState, normalizeEmail } from './schema.js';
import type { KeyState, UserDocument } from './schema.js';

/** A user, named by email (normalised), by QynAuth user id, or by document `_id`. */
export type UserSelector = { email: string } | { qynAuthUserId: string } | { userId: ObjectId };

/** Fields the key store reads from a user document. */
export const KEY_VIEW_PROJECTION = {
  _id: 1,
  email: 1,
  qynAuthUserId: 1,
  pqcEnabled: 1,
  classicalFallback: 1,
  pqcPublicKey: 1,
  pqcSignaturePublicKey: 1,
  pqcKeyId: 1,
  pqcKeyGeneratedAt: 1,
  pqcKeyExpiresAt: 1,
  pqcKemAlgorithm: 1,
  pqcSignatureAlgorithm: 1,
} as const;

/** A user's current key pair, public halves only. */
export interface CurrentKey {
  /** Key id: base64url SHA-256 over the SubjectPublicKeyInfo of both public keys. */
  keyId: string;
  /** KEM parameter set, `ML-KEM-768`. */
  kemAlgorithm: string;
  /** KEM public key (encapsulation key). */
  kemPublicKey: Uint8Array;
  /** Signature parameter set, `ML-DSA-65`. */
  signatureAlgorithm: string;
  /** Signature public key (verification key). */
  signaturePublicKey: Uint8Array;
  /** When the key pair was generated or registered. */
  generatedAt: Date;
  /** When it must be rotated; a date in the past makes `state` `expired`, nothing else. */
  expiresAt: Date;
}

/** A user's PQC settings and current key pair as the key store's look-ups return them. */
export interface UserKeyInfo {
  /** The user document's `_id`. */
  userId: ObjectId;
  /** Normalised email address. */
  email: string;
  /** QynAuth user id, or null when the user has none. */
  qynAuthUserId: string | null;
  /** Whether PQC login is enabled. */
  pqcEnabled: boolean;
  /** Whether password login stays allowed. */
  classicalFallback: boolean;
  /** `none`, `active` or `expired`, judged against the clock at look-up time. */
  state: KeyState;
  /** The current key pair, or null when the user has none. */
  key: CurrentKey | null;
}

/** Returns the filter that `selector` stands for; throws `StoreValidationError` for a bad one. */
export function selectorFilter(selector: UserSelector): Filter<UserDocument> {
  if (typeof selector !== 'object' || selector === null) {
    throw new StoreValidationError(
      'user selector must be an object: { email }, { qynAuthUserId } or { userId }',
    );
  }
  if ('userId' in selector) {
    if (!(selector.userId instanceof ObjectId)) {
      throw new StoreValidationError(
        'userId must be an ObjectId; wrap a hex string in new ObjectId()',
      );
    }
    return { _id: selector.userId };
  }
  if ('qynAuthUserId' in selector) {
    if (typeof selector.qynAuthUserId !== 'string' || selector.qynAuthUserId === '') {
      throw new StoreValidationError('qynAuthUserId must be a non-empty string');
    }
    return { qynAuthUserId: selector.qynAuthUserId };
  }
  if ('email' in selector) return { email: normalizeEmail(selector.email) };

  throw new StoreValidationError(
    'user selector must have one of the fields email, qynAuthUserId or userId',
  );
}

/** Returns `selector` as text for messages, with long values cut. */
export function describeSelector(selector: UserSelector): string {
  const [field, value] = Object.entries(selector)[0] ?? ['user', ''];
  const text = value instanceof ObjectId ? value.toHexString() : String(value).slice(0, 80);
  return `${field} ${text}`;
}

/** Returns the key id of `user`, or null when `pqcKeyId` is absent, null or not a string. */
export function currentKeyId(user: Pick<UserDocument, 'pqcKeyId'>): string | null {
  return typeof user.pqcKeyId === 'string' ? user.pqcKeyId : null;
}

function readKey(user: UserDocument, keyId: string): CurrentKey {
  const where = `user ${user._id.toHexString()}`;
  if (typeof user.pqcPublicKey !== 'string' || typeof user.pqcSignaturePublicKey !== 'string') {
    throw new StoreValidationError(
      `${where} has pqcKeyId ${keyId} but lacks pqcPublicKey or pqcSignaturePublicKey; ` +
        'remove the keys and enroll again',
    );
  }
  if (!(user.pqcKeyGeneratedAt instanceof Date) || !(user.pqcKeyExpiresAt instanceof Date)) {
    throw new StoreValidationError(
      `${where} has pqcKeyId ${keyId} but lacks pqcKeyGeneratedAt or pqcKeyExpiresAt; ` +
        'rotate the keys to rewrite them',
    );
  }

  return {
    keyId,
    kemAlgorithm: user.pqcKemAlgorithm ?? 'unknown',
    kemPublicKey: decodeBase64(user.pqcPublicKey, `${where} pqcPublicKey`),
    signatureAlgorithm: user.pqcSignatureAlgorithm ?? 'unknown',
    signaturePublicKey: decodeBase64(user.pqcSignaturePublicKey, `${where} pqcSignaturePublicKey`),
    generatedAt: user.pqcKeyGeneratedAt,
    expiresAt: user.pqcKeyExpiresAt,
  };
}

/** Returns the key view of `user` at `now`. */
export function toUserKeyInfo(user: UserDocument, now: Date): UserKeyInfo {
  const keyId = currentKeyId(user);
  return {
    userId: user._id,
    email: user.email,
    qynAuthUserId: typeof user.qynAuthUserId === 'string' ? user.qynAuthUserId : null,
    pqcEnabled: user.pqcEnabled === true,
    classicalFallback: user.classicalFallback ?? FIELD_DEFAULTS.classicalFallback,
    state: keyState(user, now),
    key: keyId === null ? null : readKey(user, keyId),
  };
}

/**
 * Key enrollment on the shared `users` collection: each enrolled user gets an ML-KEM-768 key
 * pair (FIPS 203) and an ML-DSA-65 key pair (FIPS 204). The user document stores both public
 * keys in base64, their key id (a fingerprint of the two public keys) and the key dates. The
 * secret keys and seeds go back to the caller only and are never written or logged.
 *
 * One key pair is written in three steps, so that concurrent writers and crashes leave no
 * orphaned or duplicate history: its `pqcKeys` entry is inserted as pending (unique `_id` = key
 * id), then the user document is updated only while it still has the key id the writer read
 * (none for enrollment, the old one for rotation; user-writes.ts makes that one isolated step),
 * then the entry becomes current and the old one retired. A writer that loses the race deletes
 * its pending entry and gets `StoreConflictError`. key-repair.ts resolves the pending entries a
 * crash leaves behind.
 */
import type { Filter, ObjectId } from 'mongodb';
import type { KeyPair } from '../core/types.js';
import { InvalidArgumentError } from '../errors.js';
import type { StoreContext } from './context.js';
import { StoreConflictError, StoreNotFoundError, StoreValidationError } from './errors.js';
import {
  buildKeyRecord,
  discardPendingKey,
  insertPendingKey,
  markKeyCurrent,
  retireKey,
  userKeyPairId,
} from './key-records.js';
import type { UserPublicKeys } from './key-records.js';
import { repairPendingKeys } from './key-repair.js';
import type { RepairOptions, RepairReport } from './key-repair.js';
import { generateUserKeyPairs, zeroUserKeyPairs } from './key-source.js';
import type { KeySource } from './key-source.js';
import {
  currentKeyId,
  describeSelector,
  KEY_VIEW_PROJECTION,
  selectorFilter,
  toUserKeyInfo,
} from './key-users.js';
import type { UserKeyInfo, UserSelector } from './key-users.js';
import {
  FIELD_DEFAULTS,
  normalizeEmail,
  PQC_KEY_FIELDS,
  USER_KEM_ALGORITHM,
  USER_SIGNATURE_ALGORITHM,
} from './schema.js';
import type { PqcKeyDocument, UserDocument } from './schema.js';
import { updateUser } from './user-writes.js';

/** Default key lifetime: 365 days, in milliseconds. */
export const DEFAULT_KEY_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

/** Options of {@link KeyStore}. */
export interface KeyStoreOptions {
  /** Generates the key pairs of `enroll` and `rotate`: `loadPqc()` or `createPqcPool()`. */
  keySource?: KeySource;
  /** Milliseconds from generation to `pqcKeyExpiresAt`. Default 365 days. */
  keyLifetimeMs?: number;
  /** Clock for `pqcKeyGeneratedAt`, `updatedAt` and key states. Default: the system clock. */
  now?: () => Date;
}

/** Result of a write of public keys. */
export interface StoredKey {
  /** The user document's `_id`. */
  userId: ObjectId;
  /** Key id of the new key pair. */
  keyId: string;
  /** Key id the write replaced, or null for a first enrollment. */
  previousKeyId: string | null;
  /** Stored as `pqcKeyGeneratedAt`. */
  generatedAt: Date;
  /** Stored as `pqcKeyExpiresAt`. */
  expiresAt: Date;
}

/**
 * A stored key and the key pairs it came from. The secret keys and seeds exist only here: the
 * caller delivers them to the user and then overwrites them (`secretKey.fill(0)`).
 */
export interface EnrolledKeys extends StoredKey {
  /** ML-KEM-768 key pair. */
  kem: KeyPair;
  /** ML-DSA-65 key pair. */
  signature: KeyPair;
}

/** Options of {@link KeyStore.registerPublicKeys}. */
export interface RegisterOptions {
  /** Replace the user's current key pair instead of requiring that there is none. */
  rotate?: boolean;
  /**
   * Key id that the caller expects the user to have now, or null for a user without keys. When
   * set, it decides between enrollment and rotation in place of `rotate`, and the write is
   * rejected with `StoreConflictError` unless the stored key id still equals it.
   */
  replacesKeyId?: string | null;
}

/** Enrollment, rotation, removal and look-up of users' PQC key pairs. */
export class KeyStore {
  private readonly source: KeySource | undefined;
  private readonly lifetimeMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly context: StoreContext,
    options: KeyStoreOptions = {},
  ) {
    this.source = options.keySource;
    this.lifetimeMs = options.keyLifetimeMs ?? DEFAULT_KEY_LIFETIME_MS;
    if (!Number.isSafeInteger(this.lifetimeMs) || this.lifetimeMs <= 0) {
      throw new StoreValidationError(
        `keyLifetimeMs must be a positive integer number of ms, got ${String(this.lifetimeMs)}`,
      );
    }
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Generates both key pairs for a user without keys and stores their public halves. Throws
   * `StoreNotFoundError` for an unknown user and `StoreConflictError` when the user has a key
   * pair already (use {@link rotate}) or another writer enrolled the user first.
   */
  async enroll(selector: UserSelector): Promise<EnrolledKeys> {
    const user = await this.findUser(selector);
    const existing = currentKeyId(user);
    if (existing !== null) throw this.keyPresentError(user._id, existing);

    return this.generateAndStore(user._id, null);
  }

  /**
   * Replaces the user's key pair with a new one and retires the old one. An expired key pair
   * can be rotated like any other. Throws `StoreNotFoundError` when the user or their key pair
   * does not exist and `StoreConflictError` when another writer changed the key pair first.
   */
  async rotate(selector: UserSelector): Promise<EnrolledKeys> {
    const user = await this.findUser(selector);
    const existing = currentKeyId(user);
    if (existing === null) throw this.noKeyError(user._id, 'rotate');

    return this.generateAndStore(user._id, existing);
  }

  /**
   * Stores public keys made elsewhere, for example in a browser, through the same steps as
   * {@link enroll} (or {@link rotate} with `options.rotate`). Throws `InvalidLengthError`
   * unless the keys have 1184 and 1952 bytes, `InvalidPublicKeyError` when the ML-KEM key fails
   * the FIPS 203 modulus check, `StoreConflictError` when another user already stores either
   * public key, and otherwise what enroll and rotate throw. With `options.replacesKeyId` the
   * write is guarded on that id, so of two callers that expect the same key id only the first
   * succeeds. A rejected key writes nothing.
   */
  async registerPublicKeys(
    selector: UserSelector,
    kemPublicKey: Uint8Array,
    signaturePublicKey: Uint8Array,
    options: RegisterOptions = {},
  ): Promise<StoredKey> {
    const keys = { kemPublicKey, signaturePublicKey };
    userKeyPairId(keys);

    const user = await this.findUser(selector);
    const existing = currentKeyId(user);
    const expected = options.replacesKeyId;
    if (expected !== undefined) {
      if (expected !== null && (typeof expected !== 'string' || expected === '')) {
        throw new InvalidArgumentError(
          `replacesKeyId must be a key id or null, got ${JSON.stringify(expected)}`,
        );
      }
      if (existing !== expected) throw this.changedError(user._id, existing, expected);
    } else if (options.rotate === true && existing === null) {
      throw this.noKeyError(user._id, 'rotate');
    } else if (options.rotate !== true && existing !== null) {
      throw this.keyPresentError(user._id, existing);
    }
    await this.rejectSharedPublicKeys(user._id, keys);

    // The guarded write compares against the caller's expected id when there is one, not the id
    // read above, so a rotation that another writer completed in between is not replaced.
    return this.store(user._id, keys, expected === undefined ? existing : expected);
  }

  /**
   * Turns PQC login off and leaves the keys and `classicalFallback` as they are. Resolves with
   * whether anything changed. Throws `StoreValidationError` while `classicalFallback` is false,
   * because the user would then have no way to log in.
   */
  async disable(selector: UserSelector): Promise<boolean> {
    const user = await this.findUser(selector);

    const fields = ['pqcEnabled', 'classicalFallback'] as const;

    return updateUser(this.context, { _id: user._id }, fields, (current) => {
      if (current.pqcEnabled !== true) return { change: null, result: false };
      if (current.classicalFallback === false) {
        throw new StoreValidationError(
          `cannot disable PQC for user ${user._id.toHexString()}: classicalFallback is false, so ` +
            'the user would have no way to log in; call setClassicalFallback(user, true) first',
        );
      }
      return { change: { set: { pqcEnabled: false, updatedAt: this.now() } }, result: true };
    });
  }

  /**
   * Turns PQC login back on for a user with a key pair. Resolves with whether anything changed.
   * Throws `StoreNotFoundError` when the user has no key pair.
   */
  async enable(selector: UserSelector): Promise<boolean> {
    const user = await this.findUser(selector);

    return updateUser(this.context, { _id: user._id }, ['pqcEnabled', 'pqcKeyId'], (current) => {
      if (currentKeyId(current) === null) throw this.noKeyError(user._id, 'enable');
      if (current.pqcEnabled === true) return { change: null, result: false };
      return { change: { set: { pqcEnabled: true, updatedAt: this.now() } }, result: true };
    });
  }

  /**
   * Allows or forbids password login. Resolves with whether anything changed. Throws
   * `StoreValidationError` when `enabled` is false while PQC login is not enabled, because the
   * user would then have no way to log in.
   */
  async setClassicalFallback(selector: UserSelector, enabled: boolean): Promise<boolean> {
    if (typeof enabled !== 'boolean') {
      throw new InvalidArgumentError(`enabled must be a boolean, got ${typeof enabled}`);
    }
    const user = await this.findUser(selector);
    const fields = ['classicalFallback', 'pqcEnabled', 'pqcKeyId'] as const;

    return updateUser(this.context, { _id: user._id }, fields, (current) => {
      const stored = current.classicalFallback ?? FIELD_DEFAULTS.classicalFallback;
      if (stored === enabled) return { change: null, result: false };
      if (!enabled && !(current.pqcEnabled === true && currentKeyId(current) !== null)) {
        throw new StoreValidationError(
          `cannot disable classicalFallback for user ${user._id.toHexString()} while PQC login ` +
            'is not enabled, because the user would have no way to log in; enroll first',
        );
      }
      const set = { classicalFallback: enabled, updatedAt: this.now() };
      return { change: { set }, result: true };
    });
  }

  /**
   * Removes the user's key pair: unsets the key fields, sets `pqcEnabled` false and retires the
   * history entry, which is kept. Resolves with the removed key id, or null when the user had
   * none. Throws `StoreValidationError` while `classicalFallback` is false.
   */
  async removeKeys(selector: UserSelector): Promise<string | null> {
    const user = await this.findUser(selector);
    const fields = ['pqcKeyId', 'pqcEnabled', 'classicalFallback'] as const;

    const removed = await updateUser(this.context, { _id: user._id }, fields, (current) => {
      const keyId = currentKeyId(current);
      if (keyId === null) return { change: null, result: null };
      if (current.classicalFallback === false) {
        throw new StoreValidationError(
          `cannot remove the keys of user ${user._id.toHexString()}: classicalFallback is false, ` +
            'so the user would have no way to log in; call setClassicalFallback(user, true) first',
        );
      }
      return {
        change: { set: { pqcEnabled: false, updatedAt: this.now() }, unset: PQC_KEY_FIELDS },
        result: keyId,
      };
    });

    if (removed !== null) {
      await retireKey(this.context, removed, this.now());
      this.context.logger.info({ userId: user._id, keyId: removed }, 'removed user key pair');
    }
    return removed;
  }

  /** Returns the user with `email` (normalised first) and their key pair, or null. */
  async getByEmail(email: string): Promise<UserKeyInfo | null> {
    return this.findInfo({ email: normalizeEmail(email) });
  }

  /** Returns the user with `qynAuthUserId` and their key pair, or null. */
  async getByQynAuthUserId(qynAuthUserId: string): Promise<UserKeyInfo | null> {
    if (typeof qynAuthUserId !== 'string' || qynAuthUserId === '') return null;
    return this.findInfo({ qynAuthUserId });
  }

  /** Returns the user whose current key pair has `keyId`, or null; retired ids give null. */
  async getByKeyId(keyId: string): Promise<UserKeyInfo | null> {
    if (typeof keyId !== 'string' || keyId === '') return null;
    return this.findInfo({ pqcKeyId: keyId });
  }

  /** Returns every `pqcKeys` entry of the user, oldest first: current, retired and pending. */
  async keyHistory(selector: UserSelector): Promise<PqcKeyDocument[]> {
    const user = await this.findUser(selector);
    return this.context.pqcKeys.find({ userId: user._id }).sort({ createdAt: 1 }).toArray();
  }

  /** Resolves the pending entries a crash left behind; see key-repair.ts. */
  repairPendingKeys(options?: RepairOptions): Promise<RepairReport> {
    return repairPendingKeys(this.context, options);
  }

  private async generateAndStore(userId: ObjectId, expected: string | null): Promise<EnrolledKeys> {
    if (this.source === undefined) {
      throw new InvalidArgumentError(
        'this KeyStore has no keySource; pass keySource: await loadPqc() or createPqcPool()',
      );
    }

    const [pairs] = await generateUserKeyPairs(this.source, 1);
    try {
      const publicKeys = {
        kemPublicKey: pairs!.kem.publicKey,
        signaturePublicKey: pairs!.signature.publicKey,
      };
      const stored = await this.store(userId, publicKeys, expected);
      return { ...stored, kem: pairs!.kem, signature: pairs!.signature };
    } catch (error) {
      zeroUserKeyPairs(pairs!);
      throw error;
    }
  }

  private async store(
    userId: ObjectId,
    keys: UserPublicKeys,
    expected: string | null,
  ): Promise<StoredKey> {
    const generatedAt = this.now();
    const expiresAt = new Date(generatedAt.getTime() + this.lifetimeMs);
    const record = buildKeyRecord(userId, keys, generatedAt, expiresAt);

    await insertPendingKey(this.context, record.history);
    let previousKeyId: string | null;
    try {
      previousKeyId = await updateUser(this.context, { _id: userId }, ['pqcKeyId'], (user) => {
        const current = currentKeyId(user);
        if (current !== expected) throw this.changedError(userId, current, expected);
        return { change: { set: record.userFields }, result: current };
      });
    } catch (error) {
      await this.discard(record.keyId, userId);
      throw error;
    }

    await markKeyCurrent(this.context, record.history);
    if (previousKeyId !== null) await retireKey(this.context, previousKeyId, generatedAt);

    this.context.logger.info(
      { userId, keyId: record.keyId, previousKeyId },
      previousKeyId === null ? 'enrolled user key pair' : 'rotated user key pair',
    );
    return { userId, keyId: record.keyId, previousKeyId, generatedAt, expiresAt };
  }

  /**
   * Throws `StoreConflictError` when a user other than `userId` stores either public key of
   * `keys`. The key id covers only the pair, so a copy of one key under a new partner passes it.
   */
  private async rejectSharedPublicKeys(userId: ObjectId, keys: UserPublicKeys): Promise<void> {
    // NOTE: this is a read before the write, and the store builds no unique index on the key
    // fields (FerretDB v1 has no partial indexes). Two concurrent registrations of the same key
    // can therefore both pass, and checkUserRules then reports them as duplicate-public-key.
    const kem = Buffer.from(keys.kemPublicKey).toString('base64');
    const signature = Buffer.from(keys.signaturePublicKey).toString('base64');
    const holder = await this.context.users.findOne(
      { _id: { $ne: userId }, $or: [{ pqcPublicKey: kem }, { pqcSignaturePublicKey: signature }] },
      { projection: { pqcPublicKey: 1 } },
    );
    if (holder === null) return;

    const which = holder.pqcPublicKey === kem ? USER_KEM_ALGORITHM : USER_SIGNATURE_ALGORITHM;
    throw new StoreConflictError(
      `the ${which} public key is already stored for user ${holder._id.toHexString()}; each ` +
        'user needs a key pair of their own, so generate a new one for user ' +
        userId.toHexString(),
    );
  }

  /** Deletes a losing writer's pending entry; a failure is logged, as repair resolves it later. */
  private async discard(keyId: string, userId: ObjectId): Promise<void> {
    try {
      await discardPendingKey(this.context, keyId);
    } catch (error) {
      this.context.logger.error(
        { err: error, userId, keyId },
        'could not delete a pending key entry; repairPendingKeys will delete it',
      );
    }
  }

  private async findUser(selector: UserSelector): Promise<UserDocument> {
    const user = await this.context.users.findOne(selectorFilter(selector), {
      projection: KEY_VIEW_PROJECTION,
    });
    if (user === null) throw new StoreNotFoundError(`no user with ${describeSelector(selector)}`);
    return user;
  }

  private async findInfo(filter: Filter<UserDocument>): Promise<UserKeyInfo | null> {
    const user = await this.context.users.findOne(filter, { projection: KEY_VIEW_PROJECTION });
    return user === null ? null : toUserKeyInfo(user, this.now());
  }

  private keyPresentError(userId: ObjectId, keyId: string): StoreConflictError {
    return new StoreConflictError(
      `user ${userId.toHexString()} is already enrolled with key id ${keyId}; use rotate to ` +
        'replace the key pair',
    );
  }

  private noKeyError(userId: ObjectId, operation: string): StoreNotFoundError {
    return new StoreNotFoundError(
      `user ${userId.toHexString()} has no key pair to ${operation}; enroll the user first`,
    );
  }

  private changedError(
    userId: ObjectId,
    current: string | null,
    expected: string | null,
  ): StoreConflictError {
    if (expected === null && current !== null) return this.keyPresentError(userId, current);
    return new StoreConflictError(
      `the key pair of user ${userId.toHexString()} changed concurrently (now ` +
        `${current ?? 'none'}, expected ${expected ?? 'none'}); read the user again and retry`,
    );
  }
}

/**
 * The QynAuth user store on the shared `users` collection: sign-up with a bcrypt hash, look-up by
 * email or `qynAuthUserId`, and login attempts under the lockout rule (lockout.ts). Each attempt
 * is applied to the stored counter as one isolated step, so concurrent failures are all counted
 * and a success racing the threshold cannot reset a lock. On servers with atomic updates that
 * step is one `findOneAndUpdate` with a pipeline. On FerretDB v1.24 it is a read and a write
 * under the user's write lease (user-writes.ts).
 */
import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { ObjectId } from 'mongodb';
import type { Document, Filter, FindOptions } from 'mongodb';
import type { StoreContext } from './context.js';
import { StoreConflictError, StoreNotFoundError, StoreValidationError } from './errors.js';
import { isDuplicateKey } from './lease.js';
import { checkLockoutPolicy, DEFAULT_LOCKOUT_POLICY, nextLoginState } from './lockout.js';
import type { LockoutPolicy, LoginResult } from './lockout.js';
import {
  BCRYPT_COST_RANGE,
  bcryptCost,
  checkPassword,
  isAcceptedBcryptCost,
  normalizeEmail,
} from './schema.js';
import type { UserDocument } from './schema.js';
import { claimQynAuthUserId, releaseQynAuthUserId } from './unique-values.js';
import { updateUser } from './user-writes.js';

/** bcrypt cost factor when none is given: 2^10 rounds. */
export const DEFAULT_BCRYPT_ROUNDS = 10;

/** Fields never returned by look-ups: the password hash and the refresh token hash. */
const HIDDEN_FIELDS: FindOptions['projection'] = { password: 0, refreshTokenHash: 0 };

/** Fields a login attempt reads, so a concurrent change to any of them forces a recompute. */
const LOGIN_FIELDS = ['failedLoginAttempts', 'lockUntil', 'lastLoginAt'] as const;

/**
 * Returns the update pipeline of one login attempt: the rule of `nextLoginState` in aggregation
 * expressions, with the server's `$$NOW` as the time. The first stage computes whether a lock is
 * active and the counter after an expired lock, the second the new fields, the third removes the
 * helper fields.
 */
function loginPipeline(passwordMatches: boolean, policy: LockoutPolicy): Document[] {
  const now = '$$NOW';
  const storedLock = { $ifNull: ['$lockUntil', null] };
  const newLock = { $add: [now, policy.lockDurationMs] };
  const lockActive = '$_loginLockActive';
  const failures = '$_loginFailures';

  const state = {
    $set: {
      _loginLockActive: { $and: [{ $ne: [storedLock, null] }, { $gt: [storedLock, now] }] },
      _loginFailures: {
        $cond: [
          { $and: [{ $ne: [storedLock, null] }, { $lte: [storedLock, now] }] },
          0,
          { $ifNull: ['$failedLoginAttempts', 0] },
        ],
      },
    },
  };

  const count = { $add: [failures, 1] };
  const failure = {
    $set: {
      failedLoginAttempts: count,
      lockUntil: {
        $cond: [
          lockActive,
          '$lockUntil',
          { $cond: [{ $gte: [count, policy.maxFailedAttempts] }, newLock, null] },
        ],
      },
      updatedAt: now,
    },
  };

  // A counter at the threshold without an active lock locks now instead of being reset.
  const atThreshold = { $gte: [failures, policy.maxFailedAttempts] };
  const success = {
    $set: {
      failedLoginAttempts: {
        $cond: [lockActive, '$failedLoginAttempts', { $cond: [atThreshold, failures, 0] }],
      },
      lockUntil: { $cond: [lockActive, '$lockUntil', { $cond: [atThreshold, newLock, null] }] },
      lastLoginAt: { $cond: [{ $or: [lockActive, atThreshold] }, '$lastLoginAt', now] },
      updatedAt: { $cond: [lockActive, '$updatedAt', now] },
    },
  };

  const cleanup = { $unset: ['_loginLockActive', '_loginFailures'] };
  return [state, passwordMatches ? success : failure, cleanup];
}

/** Options of {@link UserStore}. */
export interface UserStoreOptions {
  /** bcrypt cost factor (log2 of the rounds), 4 to 13 (`MAX_BCRYPT_COST`). Default 10. */
  bcryptRounds?: number;
  /** Lockout thresholds. Default: 5 failures lock for 30 minutes. */
  lockout?: LockoutPolicy;
}

/** Input of {@link UserStore.createUser}. */
export interface NewUser {
  /** Email address; stored trimmed and lower-cased. */
  email: string;
  /** Plain password, 8 to 72 bytes; only its bcrypt hash is stored. */
  password: string;
  /** QynAuth user id; a random UUID when absent. */
  qynAuthUserId?: string;
}

/** A user as look-ups return it: without `password` and `refreshTokenHash`. */
export type PublicUser = Omit<UserDocument, 'password' | 'refreshTokenHash'>;

/** Result of one login attempt and the lockout state after it. */
export interface LoginAttempt {
  result: LoginResult;
  failedLoginAttempts: number;
  lockUntil: Date | null;
}

/**
 * Compares `password` with the stored bcrypt hash of the user with `email`. Throws
 * `StoreValidationError` before hashing when the hash's cost is outside the accepted range,
 * because a cost of 31 would keep bcryptjs busy for hours, and when bcryptjs rejects the hash.
 */
async function comparePassword(password: string, hash: string, email: string): Promise<boolean> {
  const cost = bcryptCost(hash);
  if (cost !== undefined && !isAcceptedBcryptCost(cost)) {
    throw new StoreValidationError(
      `the stored password hash of ${email} has bcrypt cost ${cost}; accepted costs are ` +
        `${BCRYPT_COST_RANGE}. Reset the user's password`,
    );
  }

  try {
    return await bcrypt.compare(password, hash);
  } catch (error) {
    throw new StoreValidationError(
      `the stored password hash of ${email} is not a bcrypt hash that bcryptjs can verify: ` +
        `${(error as Error).message}. Reset the user's password`,
      { cause: error },
    );
  }
}

function strip(user: UserDocument): PublicUser {
  const { password: _password, refreshTokenHash: _token, ...rest } = user;
  return rest;
}

/** Sign-up, look-up and login attempts of QynAuth users. */
export class UserStore {
  private readonly rounds: number;
  private readonly policy: LockoutPolicy;

  constructor(
    private readonly context: StoreContext,
    options: UserStoreOptions = {},
  ) {
    this.rounds = options.bcryptRounds ?? DEFAULT_BCRYPT_ROUNDS;
    if (!isAcceptedBcryptCost(this.rounds)) {
      throw new StoreValidationError(
        `bcryptRounds must be an integer from ${BCRYPT_COST_RANGE}, got ${this.rounds}`,
      );
    }
    this.policy = checkLockoutPolicy(options.lockout ?? DEFAULT_LOCKOUT_POLICY);
  }

  /**
   * Creates a user with a bcrypt hash of `password` and the schema's defaults. Throws
   * `StoreValidationError` for an invalid email or password and `StoreConflictError` when the
   * email or the `qynAuthUserId` is taken.
   */
  async createUser(input: NewUser): Promise<PublicUser> {
    const email = normalizeEmail(input.email);
    const password = checkPassword(input.password);
    const qynAuthUserId = input.qynAuthUserId ?? randomUUID();
    if (typeof qynAuthUserId !== 'string' || qynAuthUserId.length === 0) {
      throw new StoreValidationError('qynAuthUserId must be a non-empty string');
    }

    const hash = await bcrypt.hash(password, this.rounds);
    return this.insertUser({ email, passwordHash: hash, qynAuthUserId });
  }

  /**
   * Inserts a user whose password is already a bcrypt hash, as the import of former QynAuth
   * users does. Optional lockout fields and dates are kept as given.
   */
  async insertUser(input: {
    email: string;
    passwordHash: string;
    qynAuthUserId: string;
    createdAt?: Date;
    lastLoginAt?: Date | null;
    failedLoginAttempts?: number;
    lockUntil?: Date | null;
  }): Promise<PublicUser> {
    const now = new Date();
    const document = {
      _id: new ObjectId(),
      email: normalizeEmail(input.email),
      password: input.passwordHash,
      qynAuthUserId: input.qynAuthUserId,
      lastLoginAt: input.lastLoginAt ?? null,
      failedLoginAttempts: input.failedLoginAttempts ?? 0,
      lockUntil: input.lockUntil ?? null,
      pqcEnabled: false,
      classicalFallback: true,
      createdAt: input.createdAt ?? now,
      updatedAt: now,
    } satisfies UserDocument;

    await claimQynAuthUserId(this.context, document.qynAuthUserId, document._id);
    try {
      await this.context.users.insertOne(document);
    } catch (error) {
      await releaseQynAuthUserId(this.context, document.qynAuthUserId, document._id);
      if (isDuplicateKey(error)) {
        throw new StoreConflictError(
          `a user with email ${document.email} or qynAuthUserId ${document.qynAuthUserId} ` +
            'already exists; sign in or use another address',
          { cause: error },
        );
      }
      throw error;
    }
    return strip(document);
  }

  /** Returns the user with `email` (normalised first), or `null`. */
  async getByEmail(email: string): Promise<PublicUser | null> {
    return this.find({ email: normalizeEmail(email) });
  }

  /** Returns the user with `qynAuthUserId`, or `null`. */
  async getByQynAuthUserId(qynAuthUserId: string): Promise<PublicUser | null> {
    if (typeof qynAuthUserId !== 'string' || qynAuthUserId === '') return null;
    return this.find({ qynAuthUserId });
  }

  /**
   * Checks `password` against the stored hash and records the attempt. Throws
   * `StoreNotFoundError` for an unknown email, and `StoreValidationError` without recording the
   * attempt when the stored hash has a bcrypt cost outside 4 to 13 or bcryptjs cannot read it. A
   * correct password on a locked account returns `locked` and changes nothing.
   */
  async authenticate(email: string, password: string): Promise<LoginAttempt> {
    const normalized = normalizeEmail(email);
    const user = await this.context.users.findOne(
      { email: normalized },
      { projection: { password: 1 } },
    );
    if (user === null) throw new StoreNotFoundError(`no user with email ${normalized}`);

    const matches =
      typeof password === 'string' &&
      typeof user.password === 'string' &&
      (await comparePassword(password, user.password, normalized));
    return this.recordLoginAttempt(normalized, matches);
  }

  /**
   * Records one login attempt whose password check gave `passwordMatches`, under the lockout
   * rule, as one isolated update of the user's counter. Throws `StoreNotFoundError` for an
   * unknown email.
   */
  async recordLoginAttempt(email: string, passwordMatches: boolean): Promise<LoginAttempt> {
    const filter = { email: normalizeEmail(email) };
    if (this.context.server.atomicUpdates) {
      return this.recordWithPipeline(filter, passwordMatches);
    }

    // FerretDB v1.24 rejects update pipelines (NotImplemented, measured on v1.24.2), so the rule
    // runs here on a document read under the user's write lease.
    return updateUser(this.context, filter, LOGIN_FIELDS, (user) => {
      const now = new Date();
      const state = {
        failedLoginAttempts: user.failedLoginAttempts ?? 0,
        lockUntil: user.lockUntil ?? null,
        lastLoginAt: user.lastLoginAt ?? null,
      };
      const { result, next } = nextLoginState(state, passwordMatches, now, this.policy);
      const after = next ?? state;

      return {
        change: next === null ? null : { set: { ...next, updatedAt: now } },
        result: { result, failedLoginAttempts: after.failedLoginAttempts, lockUntil: after.lockUntil },
      };
    });
  }

  /**
   * Applies the lockout rule of lockout.ts in one `findOneAndUpdate` whose pipeline computes the
   * counter and the lock from the stored values and the server's `$$NOW`.
   */
  private async recordWithPipeline(
    filter: Filter<UserDocument>,
    passwordMatches: boolean,
  ): Promise<LoginAttempt> {
    // NOTE: this branch has not been run against a MongoDB server. The tests use FerretDB, which
    // rejects update pipelines.
    const pipeline = loginPipeline(passwordMatches, this.policy);
    const after = await this.context.users.findOneAndUpdate(filter, pipeline, {
      returnDocument: 'after',
    });
    if (after === null) throw new StoreNotFoundError(`no user with email ${String(filter.email)}`);

    // Every attempt that does not end locked sets lockUntil to null, so a date here means locked.
    const lockUntil = after.lockUntil ?? null;
    const unlocked: LoginResult = passwordMatches ? 'accepted' : 'rejected';
    return {
      result: lockUntil === null ? unlocked : 'locked',
      failedLoginAttempts: after.failedLoginAttempts ?? 0,
      lockUntil,
    };
  }

  private async find(filter: Filter<UserDocument>): Promise<PublicUser | null> {
    return this.context.users.findOne(filter, { projection: HIDDEN_FIELDS });
  }
}

/**
 * {@link DemoUsers} on the SDK's persistence layer (src/store): sign-up, look-up and login
 * attempts go through its UserStore, which applies the lockout rule in one isolated update.
 */
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { keyPairId } from '../../src/index.js';
import { createStoreContext } from '../../src/store/context.js';
import type { PublicUser } from '../../src/store/users.js';
import { UserStore } from '../../src/store/users.js';
import { StoreNotFoundError } from '../../src/store/errors.js';
import type { DemoUser, DemoUsers, LoginOutcome } from './users.js';

/** Lifetime of registered keys: pqcKeyExpiresAt marks when they must be rotated. */
const KEY_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

function toDemoUser(user: PublicUser): DemoUser {
  return {
    email: user.email,
    pqcEnabled: user.pqcEnabled ?? false,
    classicalFallback: user.classicalFallback ?? true,
    pqcKeyId: typeof user.pqcKeyId === 'string' ? user.pqcKeyId : null,
    pqcPublicKey: user.pqcPublicKey ?? null,
    pqcSignaturePublicKey: user.pqcSignaturePublicKey ?? null,
    pqcKeyGeneratedAt: user.pqcKeyGeneratedAt ?? null,
    pqcKeyExpiresAt: user.pqcKeyExpiresAt ?? null,
    lastLoginAt: user.lastLoginAt ?? null,
    lockUntil: user.lockUntil ?? null,
  };
}

/** Opens the store on `db` and returns the demo's view of it. */
export async function openStoreUsers(db: Db, logger: Logger): Promise<DemoUsers> {
  const context = await createStoreContext(db, { logger: logger.child({ component: 'store' }) });
  const store = new UserStore(context);

  // The Portal Backend's model keeps email unique with its own index. The demo's database has no
  // Portal Backend, so the demo creates that index itself.
  await context.users.createIndex({ email: 1 }, { unique: true, name: 'email_1' });

  const requireUser = async (email: string): Promise<DemoUser> => {
    const user = await store.getByEmail(email);
    if (user === null) {
      throw new StoreNotFoundError(`no user with email ${email}`);
    }
    return toDemoUser(user);
  };

  return {
    async create(email, password) {
      return toDemoUser(await store.createUser({ email, password }));
    },

    async findByEmail(email) {
      const user = await store.getByEmail(email);
      return user === null ? null : toDemoUser(user);
    },

    async authenticate(email, password): Promise<LoginOutcome> {
      const attempt = await store.authenticate(email, password);
      return { result: attempt.result, lockUntil: attempt.lockUntil };
    },

    async recordLoginAttempt(email, succeeded): Promise<LoginOutcome> {
      const attempt = await store.recordLoginAttempt(email, succeeded);
      return { result: attempt.result, lockUntil: attempt.lockUntil };
    },

    // TODO: call the store's key enrollment and its classicalFallback setter once src/store has
    // them. Until then these two methods write the schema's fields directly, without the
    // store's key history (pqcKeys) and per-user lease.
    async registerKeys(email, kemPublicKey, signaturePublicKey) {
      const user = await requireUser(email);
      const pqcKeyId = keyPairId(
        { algorithm: 'ML-KEM-768', publicKey: kemPublicKey },
        { algorithm: 'ML-DSA-65', publicKey: signaturePublicKey },
      );
      const now = new Date();
      await context.users.updateOne(
        { email: user.email },
        {
          $set: {
            pqcKeyId,
            pqcPublicKey: Buffer.from(kemPublicKey).toString('base64'),
            pqcSignaturePublicKey: Buffer.from(signaturePublicKey).toString('base64'),
            pqcEnabled: true,
            pqcKeyGeneratedAt: now,
            pqcKeyExpiresAt: new Date(now.getTime() + KEY_LIFETIME_MS),
          },
        },
      );
      return requireUser(email);
    },

    async setClassicalFallback(email, enabled) {
      const user = await requireUser(email);
      await context.users.updateOne(
        { email: user.email },
        { $set: { classicalFallback: enabled } },
      );
      return requireUser(email);
    },
  };
}

/**
 * {@link DemoUsers} on the SDK's persistence layer (src/store): sign-up, look-up and login
 * attempts go through its UserStore, which applies the lockout rule in one isolated update, and
 * public keys go through its KeyStore, which checks them, keeps their history in pqcKeys and
 * serialises writes to one user.
 */
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { createStoreContext } from '../../src/store/context.js';
import { KeyStore } from '../../src/store/keys.js';
import { migrateUp } from '../../src/store/migrations/runner.js';
import type { PublicUser } from '../../src/store/users.js';
import { UserStore } from '../../src/store/users.js';
import { StoreNotFoundError } from '../../src/store/errors.js';
import { normalizeEmail } from '../../src/store/schema.js';
import type { DemoUser, DemoUsers, LoginOutcome } from './users.js';
/** Lifetime of registered keys: pqcKeyExpiresAt marks when they must be rotated. */
const KEY_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

function toDemoUser(user: PublicUser): DemoUser {
  return {
    id: user._id.toHexString(),
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

/** Applies the store's migrations to `db`, opens the store and returns the demo's view of it. */
export async function openStoreUsers(db: Db, logger: Logger): Promise<DemoUsers> {
  const context = await createStoreContext(db, { logger: logger.child({ component: 'store' }) });

  const migrations = await migrateUp(context);
  for (const step of migrations.steps) {
    logger.info({ migration: step.id, durationMs: step.durationMs }, 'migration applied');
  }

  // The Portal Backend's model keeps email unique with its own index. The demo's database has no
  // Portal Backend, so the demo creates that index itself.
  await context.users.createIndex({ email: 1 }, { unique: true, name: 'email_1' });

  const store = new UserStore(context);
  const keys = new KeyStore(context, { keyLifetimeMs: KEY_LIFETIME_MS });

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

    // Keys made again in the browser replace the current ones, which stay in pqcKeys as retired.
    // The store guards its update on replacesKeyId, so of two registrations that expect the
    // same key id only one succeeds.
    async registerKeys(email, kemPublicKey, signaturePublicKey, replacesKeyId) {
      const user = await requireUser(email);
      await keys.registerPublicKeys({ email: user.email }, kemPublicKey, signaturePublicKey, {
        replacesKeyId,
      });
      return requireUser(email);
    },

    async hasOtherHolder(email, kemPublicKey, signaturePublicKey) {
      const holder = await context.users.findOne(
        {
          email: { $ne: normalizeEmail(email) },
          $or: [
            { pqcPublicKey: Buffer.from(kemPublicKey).toString('base64') },
            { pqcSignaturePublicKey: Buffer.from(signaturePublicKey).toString('base64') },
          ],
        },
        { projection: { _id: 1 } },
      );
      return holder !== null;
    },

    async setClassicalFallback(email, enabled) {
      await keys.setClassicalFallback({ email }, enabled);
      return requireUser(email);
    },
  };
}

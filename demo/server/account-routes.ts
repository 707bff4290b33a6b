/** Account routes: session, sign-up, password login, logout, key registration, fallback. */
import { StoreConflictError } from '../../src/store/errors.js';
import {
  HttpError,
  readCookie,
  readJsonObject,
  sendJson,
  SESSION_COOKIE,
  sessionCookie,
} from './http.js';
import { optionalString, requireBase64, requireBoolean } from './input.js';
import { rejectZeroKemKey, rejectZeroSignatureKey } from './public-keys.js';
import {
  KEM_ALGORITHM,
  lockedError,
  passwordLoginDisabled,
  requireEmail,
  requirePassword,
  requireSessionUser,
  requireUser,
  SIGNATURE_ALGORITHM,
  signIn,
} from './route-context.js';
import type { DemoServices, RouteHandler } from './route-context.js';
import { toUserView } from './users.js';
import type { DemoUser } from './users.js';

/** Maximum length of a key id in a request: the ids are 43 base64url characters of SHA-256. */
const MAX_KEY_ID_LENGTH = 64;

/**
 * Returns the 403 error for a password session that tries to `action`. An attacker with only
 * the password must not be able to lock the key holder out.
 */
function signatureSessionRequired(action: string): HttpError {
  return new HttpError(
    403,
    'ERR_SIGNATURE_SESSION_REQUIRED',
    `a password session cannot ${action}; sign in with the ${SIGNATURE_ALGORITHM} key first`,
  );
}

/**
 * Registers the keys through the store. Turns the store's conflicts for keys that changed since
 * the client read them, and for keys that another account stores, into 409s written for the
 * page's user.
 */
async function registerOrExplain(
  services: DemoServices,
  email: string,
  kemPublicKey: Uint8Array,
  signaturePublicKey: Uint8Array,
  replacesKeyId: string | null,
): Promise<DemoUser> {
  try {
    return await services.users.registerKeys(
      email,
      kemPublicKey,
      signaturePublicKey,
      replacesKeyId,
    );
  } catch (error) {
    if (!(error instanceof StoreConflictError)) {
      throw error;
    }
    const current = (await services.users.findByEmail(email))?.pqcKeyId ?? null;
    if (current === replacesKeyId) {
      // The store's message names the other user's internal id, which this user must not see.
      if (await services.users.hasOtherHolder(email, kemPublicKey, signaturePublicKey)) {
        throw new HttpError(
          409,
          'ERR_STORE_CONFLICT',
          'one of these public keys is already registered for another account; generate a new key pair',
        );
      }
      throw error;
    }
    throw new HttpError(
      409,
      'ERR_STORE_CONFLICT',
      `the keys of this account changed in another tab or device: the request replaces key id ` +
        `${replacesKeyId ?? 'none'}, but the account now has ${current ?? 'none'}. ` +
        'Reload and generate keys again',
    );
  }
}

/** Returns the account routes keyed by `METHOD /path`. */
export function createAccountRoutes(services: DemoServices): Record<string, RouteHandler> {
  const kem = services.pqc.kem(KEM_ALGORITHM);
  const signature = services.pqc.signature(SIGNATURE_ALGORITHM);

  return {
    'GET /api/session': async ({ request, response }) => {
      const session = await services.sessions.find(readCookie(request, SESSION_COOKIE));
      const user = session === null ? null : await services.users.findByEmail(session.email);
      sendJson(response, 200, {
        session:
          session === null ? null : { ...session, expiresAt: session.expiresAt.toISOString() },
        user: user === null ? null : toUserView(user),
      });
    },

    'POST /api/accounts': async (context) => {
      const body = await readJsonObject(context.request);
      const email = requireEmail(body);
      const password = requirePassword(body);

      const user = await services.users.create(email, password);
      context.log.info({ email: user.email }, 'account created');
      await signIn(services, context, user, 'password', 201);
    },

    'POST /api/login/password': async (context) => {
      const body = await readJsonObject(context.request);
      const email = requireEmail(body);
      const password = requirePassword(body);

      const user = await services.users.findByEmail(email);
      if (user === null) {
        throw new HttpError(401, 'ERR_INVALID_CREDENTIALS', 'wrong email or password');
      }
      if (!user.classicalFallback) {
        throw passwordLoginDisabled();
      }

      const outcome = await services.users.authenticate(email, password);
      if (outcome.result === 'locked') {
        throw lockedError(outcome.lockUntil);
      }
      if (outcome.result === 'rejected') {
        throw new HttpError(401, 'ERR_INVALID_CREDENTIALS', 'wrong email or password');
      }
      await signIn(services, context, await requireUser(services, email), 'password');
    },

    'POST /api/logout': async ({ request, response, log }) => {
      const sessionId = readCookie(request, SESSION_COOKIE);
      if (sessionId !== undefined && sessionId.length > 0) {
        await services.sessions.close(sessionId);
        log.info('session closed');
      }
      response.setHeader('set-cookie', sessionCookie('', 0));
      sendJson(response, 200, {});
    },

    'POST /api/keys': async ({ request, response, log }) => {
      const { session, user: current } = await requireSessionUser(services, request);
      const body = await readJsonObject(request);
      const kemPublicKey = requireBase64(body, 'kemPublicKey', kem.publicKeyLength);
      const signaturePublicKey = requireBase64(
        body,
        'signaturePublicKey',
        signature.publicKeyLength,
      );
      kem.checkPublicKey(kemPublicKey);
      rejectZeroKemKey(kemPublicKey, 'kemPublicKey');
      rejectZeroSignatureKey(signaturePublicKey, 'signaturePublicKey');
      // The key id the client saw, or null for a first registration. The store writes only
      // while the account still has it, so two tabs that replace the same keys cannot both win.
      const replacesKeyId = optionalString(body, 'replacesKeyId', MAX_KEY_ID_LENGTH);

      // A password session may only give keys to an account without any. It gets past this check
      // only with replacesKeyId null, so the store's guarded write rejects keys added meanwhile.
      const replacing = current.pqcKeyId !== null || replacesKeyId !== null;
      if (replacing && session.method !== 'signature') {
        throw signatureSessionRequired('replace the registered keys');
      }
      const user = await registerOrExplain(
        services,
        session.email,
        kemPublicKey,
        signaturePublicKey,
        replacesKeyId,
      );
      log.info(
        { email: user.email, pqcKeyId: user.pqcKeyId, previousKeyId: replacesKeyId },
        'public keys registered',
      );
      if (replacesKeyId !== null) {
        const closed = await services.sessions.closeOthers(
          user.email,
          readCookie(request, SESSION_COOKIE),
        );
        log.info({ email: user.email, closed }, 'other sessions closed after key rotation');
      }
      sendJson(response, 200, { user: toUserView(user) });
    },

    'PUT /api/account/classical-fallback': async ({ request, response, log }) => {
      const { session, user: current } = await requireSessionUser(services, request);
      const body = await readJsonObject(request);
      const enabled = requireBoolean(body, 'enabled');
      if (!enabled && current.pqcKeyId === null) {
        throw new HttpError(
          409,
          'ERR_NO_PQC_KEYS',
          'register post-quantum keys before turning password login off, or the account has no way in',
        );
      }
      if (session.method !== 'signature') {
        throw signatureSessionRequired('turn password login on or off');
      }

      const user = await services.users.setClassicalFallback(current.email, enabled);
      log.info({ email: user.email, classicalFallback: enabled }, 'classical fallback changed');
      if (!enabled) {
        const closed = await services.sessions.closeOthers(
          user.email,
          readCookie(request, SESSION_COOKIE),
        );
        log.info({ email: user.email, closed }, 'other sessions closed after fallback change');
      }
      sendJson(response, 200, { user: toUserView(user) });
    },
  };
}

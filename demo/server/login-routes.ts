/**
 * Signature login: a one-time challenge signed with ML-DSA-65 under the context
 * {@link LOGIN_CONTEXT}, plus proof of the ML-KEM-768 secret key as HMAC-SHA-256 under the
 * shared secret of an encapsulation to the user's registered public key.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { CHALLENGE_ID_LENGTH, MAX_OPEN_CHALLENGES } from './challenges.js';
import { HttpError, readJsonObject, sendJson } from './http.js';
import { requireBase64, requireBase64Url, toBase64 } from './input.js';
import { LogRateLimiter } from './log-limiter.js';
import {
  KEM_ALGORITHM,
  lockedError,
  requireEmail,
  requireUser,
  SIGNATURE_ALGORITHM,
  signIn,
} from './route-context.js';
import type { DemoServices, RouteHandler } from './route-context.js';

/** FIPS 204 context string of login signatures, so they cannot be replayed as another kind. */
export const LOGIN_CONTEXT = 'qynauth-login-v1';
/** Length of the KEM proof (an HMAC-SHA-256 tag), in bytes. */
const KEM_PROOF_LENGTH = 32;

/**
 * Sets Retry-After on `response` and returns the 429 error for a user with `count` open
 * challenges, the first of which expires at `firstExpiresAt`.
 */
function tooManyChallenges(
  response: ServerResponse,
  count: number,
  firstExpiresAt: Date | null,
  now: number,
): HttpError {
  const retryAt = firstExpiresAt ?? new Date(now);
  const retryAfterSeconds = Math.max(1, Math.ceil((retryAt.getTime() - now) / 1000));
  response.setHeader('retry-after', String(retryAfterSeconds));
  return new HttpError(
    429,
    'ERR_TOO_MANY_CHALLENGES',
    `${count} login challenges are open for this account, and the maximum is ${MAX_OPEN_CHALLENGES}. ` +
      `Answer one of them, or retry after ${retryAt.toISOString()} (in ${retryAfterSeconds} seconds)`,
  );
}

/** Returns the challenge and signature-login routes. */
export function createLoginRoutes(services: DemoServices): Record<string, RouteHandler> {
  const kem = services.pqc.kem(KEM_ALGORITHM);
  const signature = services.pqc.signature(SIGNATURE_ALGORITHM);
  const context = new TextEncoder().encode(LOGIN_CONTEXT);
  // Wrong answers do not count toward the lockout, so their log lines are limited per account.
  const rejectedAnswers = new LogRateLimiter();

  return {
    'POST /api/login/challenge': async ({ request, response, log }) => {
      const body = await readJsonObject(request);
      const email = requireEmail(body);

      const user = await services.users.findByEmail(email);
      if (user === null || user.pqcKeyId === null || user.pqcPublicKey === null) {
        throw new HttpError(
          404,
          'ERR_NO_PQC_KEYS',
          'no post-quantum keys are registered for this email; sign in with the password and register keys',
        );
      }
      if (user.lockUntil !== null && user.lockUntil.getTime() > services.now()) {
        throw lockedError(user.lockUntil);
      }

      const reservation = await services.challenges.reserve(user.id);
      if (reservation === null) {
        const open = await services.challenges.findOpen(user.id);
        throw tooManyChallenges(response, open.count, open.firstExpiresAt, services.now());
      }

      try {
        const swept = await services.challenges.sweep();
        const { ciphertext, sharedSecret } = kem.encapsulate(
          new Uint8Array(Buffer.from(user.pqcPublicKey, 'base64')),
        );
        try {
          const issued = await services.challenges.issue(
            reservation,
            user.email,
            user.pqcKeyId,
            sharedSecret,
          );
          log.info(
            { email: user.email, challengeId: issued.challengeId, swept },
            'login challenge issued',
          );
          sendJson(response, 200, {
            challengeId: issued.challengeId,
            challenge: toBase64(issued.challenge),
            kemCiphertext: toBase64(ciphertext),
            expiresAt: issued.expiresAt.toISOString(),
          });
        } finally {
          sharedSecret.fill(0);
        }
      } catch (error) {
        await services.challenges.release(reservation).catch((releaseError: unknown) => {
          log.error(
            { err: releaseError, slotId: reservation.slotId },
            'could not free a challenge slot; it frees itself when the challenge would expire',
          );
        });
        throw error;
      }
    },

    'POST /api/login/signature': async (routeContext) => {
      const { request, log } = routeContext;
      const body = await readJsonObject(request);
      const challengeId = requireBase64Url(body, 'challengeId', CHALLENGE_ID_LENGTH);
      const signatureBytes = requireBase64(body, 'signature', signature.signatureLength);
      const kemProof = requireBase64(body, 'kemProof', KEM_PROOF_LENGTH);

      const challenge = await services.challenges.consume(challengeId);
      if (challenge === null) {
        throw new HttpError(
          401,
          'ERR_CHALLENGE_NOT_FOUND',
          'the challenge is unknown or was already used; request a new one',
        );
      }
      if (challenge.expired) {
        throw new HttpError(
          401,
          'ERR_CHALLENGE_EXPIRED',
          'the challenge has expired; request a new one',
        );
      }

      const user = await services.users.findByEmail(challenge.email);
      if (
        user === null ||
        user.pqcKeyId !== challenge.pqcKeyId ||
        user.pqcSignaturePublicKey === null
      ) {
        throw new HttpError(
          401,
          'ERR_KEYS_CHANGED',
          'the account keys changed after the challenge was issued; request a new one',
        );
      }
      const publicKey = new Uint8Array(Buffer.from(user.pqcSignaturePublicKey, 'base64'));
      const signatureValid = signature.verify(challenge.challenge, signatureBytes, publicKey, {
        context,
      });
      const proofValid = timingSafeEqual(kemProof, challenge.kemProofTag);

      // A wrong signature or KEM proof is not counted toward the lockout. Neither can be
      // guessed, and counting them would let anyone lock out an account without a password.
      if (!signatureValid || !proofValid) {
        const counts = rejectedAnswers.record(user.email);
        if (counts !== undefined) {
          const fields = { email: user.email, challengeId, signatureValid, proofValid, ...counts };
          log.info({ ...fields, result: 'rejected' }, 'signature login attempt');
        }
      }
      if (!signatureValid) {
        throw new HttpError(
          401,
          'ERR_SIGNATURE_INVALID',
          `the ${SIGNATURE_ALGORITHM} signature does not verify against the registered key`,
        );
      }
      if (!proofValid) {
        throw new HttpError(
          401,
          'ERR_KEM_PROOF_INVALID',
          `the ${KEM_ALGORITHM} proof does not match; the ciphertext was decapsulated with another key`,
        );
      }

      const outcome = await services.users.recordLoginAttempt(user.email, true);
      log.info(
        { email: user.email, challengeId, signatureValid, proofValid, result: outcome.result },
        'signature login attempt',
      );
      if (outcome.result === 'locked') {
        throw lockedError(outcome.lockUntil);
      }
      await signIn(services, routeContext, await requireUser(services, user.email), 'signature');
    },
  };
}

/** Shared parts of the routes: services, request context, and input and session helpers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { PqcInstance } from '../../src/index.js';
import { MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH } from '../../src/store/schema.js';
import type { ChallengeStore } from './challenges.js';
import { HttpError, readCookie, sendJson, SESSION_COOKIE, sessionCookie } from './http.js';
import { requireString } from './input.js';
import { SESSION_TTL_SECONDS } from './sessions.js';
import type { LoginMethod, Session, SessionStore } from './sessions.js';
import { toUserView } from './users.js';
import type { DemoUser, DemoUsers } from './users.js';

/** Parameter sets the demo uses. */
export const KEM_ALGORITHM = 'ML-KEM-768';
export const SIGNATURE_ALGORITHM = 'ML-DSA-65';

/** Maximum email address length, in characters (RFC 5321 path limit). */
const MAX_EMAIL_LENGTH = 254;
/** Characters read from the password field before its byte length is checked. */
const MAX_PASSWORD_FIELD_LENGTH = 1024;

/** Services the routes call. */
export interface DemoServices {
  users: DemoUsers;
  challenges: ChallengeStore;
  sessions: SessionStore;
  pqc: PqcInstance;
  /** Current time in milliseconds since the epoch; tests move it forward. */
  now: () => number;
}

/** One request and its response, as passed to a route. */
export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  /** Logger bound to the request id, method and path. */
  log: Logger;
}

/** Handles one route; throws HttpError (or an SDK input error) for a 4xx response. */
export type RouteHandler = (context: RouteContext) => Promise<void>;

/**
 * Control characters (Cc), format characters (Cf, such as U+200B and U+202E), lone surrogates
 * (Cs, which the `u` flag matches only when unpaired) and U+FFFD. They can make two addresses
 * look alike or hide a decoding error.
 */
const FORBIDDEN_EMAIL_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}\uFFFD]/u;

/** Returns the email field, which the store trims and lower-cases. */
export function requireEmail(body: Record<string, unknown>): string {
  const email = requireString(body, 'email', MAX_EMAIL_LENGTH).trim();
  if (FORBIDDEN_EMAIL_CHARACTERS.test(email)) {
    throw new HttpError(
      400,
      'ERR_INVALID_EMAIL',
      'email contains a lone surrogate, U+FFFD, a control character or a format character; ' +
        'send the address as plain text',
    );
  }
  if (!email.includes('@')) {
    throw new HttpError(
      400,
      'ERR_INVALID_EMAIL',
      'email must be an address such as user@example.com',
    );
  }
  return email;
}

export function requirePassword(body: Record<string, unknown>): string {
  const password = requireString(body, 'password', MAX_PASSWORD_FIELD_LENGTH);
  const bytes = Buffer.byteLength(password, 'utf8');
  // Count code points, as the store does, so an emoji counts as one character and not two.
  const characters = [...password].length;
  if (characters < MIN_PASSWORD_LENGTH || bytes > MAX_PASSWORD_BYTES) {
    throw new HttpError(
      400,
      'ERR_INVALID_PASSWORD',
      `password must have at least ${MIN_PASSWORD_LENGTH} characters and at most ${MAX_PASSWORD_BYTES} UTF-8 bytes`,
    );
  }
  return password;
}

/**
 * Opens a session for `user`, sets its cookie and sends the user with `status`. A password
 * session is closed again and rejected when classical fallback was turned off meanwhile.
 */
export async function signIn(
  services: DemoServices,
  context: RouteContext,
  user: DemoUser,
  method: LoginMethod,
  status = 200,
): Promise<void> {
  const sessionId = await services.sessions.open(user.email, method);
  if (method === 'password') {
    // Turning the fallback off writes the user and then deletes the other sessions. This read
    // comes after the insert, so it returns that write whenever the deletion missed the session.
    const current = await services.users.findByEmail(user.email);
    if (current === null || !current.classicalFallback) {
      await services.sessions.close(sessionId);
      throw passwordLoginDisabled();
    }
  }
  context.response.setHeader('set-cookie', sessionCookie(sessionId, SESSION_TTL_SECONDS));
  context.log.info({ email: user.email, method }, 'session opened');
  sendJson(context.response, status, { user: toUserView(user) });
}

/** Returns the session of the request's cookie; throws 401 without one. */
export async function requireSession(
  services: DemoServices,
  request: IncomingMessage,
): Promise<Session> {
  const session = await services.sessions.find(readCookie(request, SESSION_COOKIE));
  if (session === null) {
    throw new HttpError(401, 'ERR_NOT_SIGNED_IN', 'no valid session; sign in first');
  }
  return session;
}

/** Returns the session and the signed-in user; throws 401 without a session. */
export async function requireSessionUser(
  services: DemoServices,
  request: IncomingMessage,
): Promise<{ session: Session; user: DemoUser }> {
  const session = await requireSession(services, request);
  const user = await services.users.findByEmail(session.email);
  if (user === null) {
    throw new HttpError(
      401,
      'ERR_NOT_SIGNED_IN',
      'the account of this session no longer exists; sign in again',
    );
  }
  return { session, user };
}

/** Returns the 403 error for a password login while classical fallback is off. */
export function passwordLoginDisabled(): HttpError {
  return new HttpError(
    403,
    'ERR_PASSWORD_LOGIN_DISABLED',
    `password login is turned off for this account; sign in with the ${SIGNATURE_ALGORITHM} key`,
  );
}

/** Returns the 423 error for an account locked until `lockUntil`. */
export function lockedError(lockUntil: Date | null): HttpError {
  const until = lockUntil === null ? '' : ` until ${lockUntil.toISOString()}`;
  return new HttpError(
    423,
    'ERR_ACCOUNT_LOCKED',
    `the account is locked after repeated failed logins${until}; wait or contact support`,
  );
}

/** Returns the user with `email`; throws 401 when the account has gone meanwhile. */
export async function requireUser(services: DemoServices, email: string): Promise<DemoUser> {
  const user = await services.users.findByEmail(email);
  if (user === null) {
    throw new HttpError(401, 'ERR_INVALID_CREDENTIALS', `no account ${email} exists any more`);
  }
  return user;
}

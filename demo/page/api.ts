/** The page's calls to the demo server, with byte fields as standard base64. */

/** An account as the server returns it: no password hash and no secret. */
export interface UserView {
  email: string;
  pqcEnabled: boolean;
  classicalFallback: boolean;
  pqcKeyId: string | null;
  pqcKeyGeneratedAt: string | null;
  pqcKeyExpiresAt: string | null;
  lastLoginAt: string | null;
}

/** The current session, or null fields when the browser is signed out. */
export interface SessionView {
  session: { email: string; method: 'signature' | 'password'; expiresAt: string } | null;
  user: UserView | null;
}

/** A login challenge: bytes to sign and an ML-KEM ciphertext to decapsulate. */
export interface LoginChallenge {
  challengeId: string;
  challenge: Uint8Array;
  kemCiphertext: Uint8Array;
  expiresAt: string;
}

/** A 4xx or 5xx response of the server, with its `{ error: { code, message } }` body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Encodes bytes as standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

/** Decodes standard base64. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });

  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'ERR_HTTP',
      error?.message ?? `the server returned HTTP ${response.status}`,
    );
  }
  return payload as T;
}

/** Returns the session the cookie belongs to. */
export function getSession(): Promise<SessionView> {
  return call('GET', '/api/session');
}

/** Creates an account and signs in with it. */
export async function createAccount(email: string, password: string): Promise<UserView> {
  return (await call<{ user: UserView }>('POST', '/api/accounts', { email, password })).user;
}

/** Signs in with the password, which the server allows only while classical fallback is on. */
export async function loginWithPassword(email: string, password: string): Promise<UserView> {
  return (await call<{ user: UserView }>('POST', '/api/login/password', { email, password })).user;
}

/** Ends the session. */
export async function logout(): Promise<void> {
  await call('POST', '/api/logout', {});
}

/**
 * Registers the public keys for the signed-in account. The server rejects them with 409
 * `ERR_STORE_CONFLICT` unless the account's current key id is `replacesKeyId` (null for an
 * account without keys).
 */
export async function registerKeys(
  kemPublicKey: Uint8Array,
  signaturePublicKey: Uint8Array,
  replacesKeyId: string | null,
): Promise<UserView> {
  const body = {
    kemPublicKey: toBase64(kemPublicKey),
    signaturePublicKey: toBase64(signaturePublicKey),
    replacesKeyId,
  };
  return (await call<{ user: UserView }>('POST', '/api/keys', body)).user;
}

/** Requests a one-time login challenge for `email`. */
export async function requestChallenge(email: string): Promise<LoginChallenge> {
  const answer = await call<{
    challengeId: string;
    challenge: string;
    kemCiphertext: string;
    expiresAt: string;
  }>('POST', '/api/login/challenge', { email });
  return {
    challengeId: answer.challengeId,
    challenge: fromBase64(answer.challenge),
    kemCiphertext: fromBase64(answer.kemCiphertext),
    expiresAt: answer.expiresAt,
  };
}

/** Sends the ML-DSA signature and the ML-KEM proof for a challenge, and signs in. */
export async function loginWithSignature(
  challengeId: string,
  signature: Uint8Array,
  kemProof: Uint8Array,
): Promise<UserView> {
  const body = { challengeId, signature: toBase64(signature), kemProof: toBase64(kemProof) };
  return (await call<{ user: UserView }>('POST', '/api/login/signature', body)).user;
}

/** Turns password login on or off for the signed-in account. */
export async function setClassicalFallback(enabled: boolean): Promise<UserView> {
  return (await call<{ user: UserView }>('PUT', '/api/account/classical-fallback', { enabled }))
    .user;
}

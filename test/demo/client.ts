// The Node side of the demo tests: JSON calls with a cookie jar, the key record read back from
// the page's IndexedDB and decrypted with the passphrase, and challenge responses computed with
// the in-thread SDK, the same way the page computes them.
import { createHmac } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { PqcInstance } from '../../src/index.js';

/** The context string the page and the server use for login signatures. */
export const LOGIN_CONTEXT = new TextEncoder().encode('qynauth-login-v1');

/** A response: status, parsed JSON body, Set-Cookie header and all headers. */
export interface ApiResponse {
  status: number;
  body: Record<string, unknown>;
  setCookie: string | null;
  headers: Headers;
}

/** A minimal HTTP client of one origin that keeps the session cookie. */
export class DemoClient {
  readonly origin: string;
  cookie: string | undefined;

  constructor(origin: string) {
    this.origin = origin;
  }

  /** Sends `body` (JSON-encoded unless it is a string) and returns status and JSON body. */
  async send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ): Promise<ApiResponse> {
    let payload: string | null = null;
    if (typeof body === 'string') {
      payload = body;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
    }
    const response = await fetch(`${this.origin}${path}`, {
      method,
      headers: { ...headers, ...(this.cookie === undefined ? {} : { cookie: this.cookie }) },
      body: payload,
    });
    const setCookie = response.headers.get('set-cookie');
    const match = setCookie === null ? null : /^(qyn_session=[^;]*)/.exec(setCookie);
    if (match !== null) {
      this.cookie = match[1];
    }
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : JSON.parse(text),
      setCookie,
      headers: response.headers,
    };
  }
}

/** Returns the error code of a `{ error: { code } }` body. */
export function errorCode(response: ApiResponse): unknown {
  return (response.body['error'] as { code?: unknown } | undefined)?.code;
}

/** A key record as read from the page's IndexedDB, with bytes as Uint8Array. */
export interface StoredRecord {
  email: string;
  keyId: string;
  kemPublicKey: Uint8Array;
  signaturePublicKey: Uint8Array;
  kemSecretKeyLength: number;
  salt: Uint8Array<ArrayBuffer>;
  iterations: number;
  iv: Uint8Array<ArrayBuffer>;
  ciphertext: Uint8Array<ArrayBuffer>;
}

/** Reads the record of `email` from the page's IndexedDB, or null. */
export async function readKeyRecord(page: Page, email: string): Promise<StoredRecord | null> {
  const raw = await page.evaluate(async (wanted) => {
    const database = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('qynauth-demo');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const record = await new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
      const request = database.transaction('keys').objectStore('keys').get(wanted);
      request.onsuccess = () => resolve(request.result as Record<string, unknown> | undefined);
      request.onerror = () => reject(request.error);
    });
    database.close();
    if (record === undefined) return null;
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) {
      plain[key] = value instanceof Uint8Array ? { bytes: Array.from(value) } : value;
    }
    return plain;
  }, email);
  if (raw === null) {
    return null;
  }
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const bytes = (value as { bytes?: number[] } | null)?.bytes;
    record[key] = bytes === undefined ? value : new Uint8Array(bytes);
  }
  return record as unknown as StoredRecord;
}

/** The two secret keys decrypted from a record. */
export interface SecretKeys {
  kemSecretKey: Uint8Array;
  signatureSecretKey: Uint8Array;
}

/** Decrypts a record with Node's WebCrypto, independently of the page's code. */
export async function decryptRecord(record: StoredRecord, passphrase: string): Promise<SecretKeys> {
  const material = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(passphrase),
    'PBKDF2',
    false,
    ['deriveKey'],
  );
  const key = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: record.salt, iterations: record.iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['decrypt'],
  );
  const additionalData = new TextEncoder().encode(
    `qynauth-demo-keys-v1\u0000${record.email}\u0000${record.keyId}`,
  );
  const plaintext = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: record.iv, additionalData },
      key,
      record.ciphertext,
    ),
  );
  return {
    kemSecretKey: plaintext.slice(0, record.kemSecretKeyLength),
    signatureSecretKey: plaintext.slice(record.kemSecretKeyLength),
  };
}

/** A challenge as the server sends it. */
export interface ChallengeBody {
  challengeId: string;
  challenge: string;
  kemCiphertext: string;
  expiresAt: string;
}

/** Computes the response to `challenge`: signature and KEM proof as base64, ready to post. */
export function answerChallenge(
  pqc: PqcInstance,
  challenge: ChallengeBody,
  keys: SecretKeys,
  context: Uint8Array = LOGIN_CONTEXT,
): { challengeId: string; signature: string; kemProof: string } {
  const signature = pqc
    .signature('ML-DSA-65')
    .sign(Buffer.from(challenge.challenge, 'base64'), keys.signatureSecretKey, { context });
  const sharedSecret = pqc
    .kem('ML-KEM-768')
    .decapsulate(Buffer.from(challenge.kemCiphertext, 'base64'), keys.kemSecretKey);
  const kemProof = createHmac('sha256', sharedSecret).update(challenge.challengeId).digest();

  return {
    challengeId: challenge.challengeId,
    signature: Buffer.from(signature).toString('base64'),
    kemProof: kemProof.toString('base64'),
  };
}

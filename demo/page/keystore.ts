/**
 * Secret keys at rest in the browser: IndexedDB records whose secret keys are encrypted with
 * AES-256-GCM under a key derived from a passphrase with PBKDF2-HMAC-SHA-256. The derived key is
 * created non-extractable, and the passphrase never leaves the page.
 */

/** PBKDF2 iterations: the minimum for PBKDF2-HMAC-SHA-256 in the OWASP Password Storage Cheat Sheet (2023). */
export const PBKDF2_ITERATIONS = 600_000;
/** Bytes of PBKDF2 salt, fresh for every record. */
const SALT_LENGTH = 16;
/** Bytes of AES-GCM nonce, fresh for every record. */
const IV_LENGTH = 12;
/** Label bound into the AES-GCM additional data, so records of another format never decrypt. */
const RECORD_FORMAT = 'qynauth-demo-keys-v1';

const DATABASE_NAME = 'qynauth-demo';
const DATABASE_VERSION = 1;
const STORE_NAME = 'keys';

/** Bytes backed by a plain ArrayBuffer, as WebCrypto requires. */
type Bytes = Uint8Array<ArrayBuffer>;

/** One user's key pairs as stored in IndexedDB; only the public keys are in the clear. */
export interface KeyRecord {
  /** Account the keys belong to; the record's primary key. */
  email: string;
  /**
   * Key pair id that the page computes with `keyPairId`: SHA-256 over the SubjectPublicKeyInfo
   * encodings of both public keys. Registration checks that the server stores the same id.
   */
  keyId: string;
  /** ML-KEM-768 encapsulation key. */
  kemPublicKey: Uint8Array;
  /** ML-DSA-65 verification key. */
  signaturePublicKey: Uint8Array;
  /** Length of the ML-KEM secret key at the start of the plaintext, in bytes. */
  kemSecretKeyLength: number;
  /** PBKDF2 parameters. */
  salt: Bytes;
  iterations: number;
  /** AES-GCM nonce and ciphertext (with its 16-byte tag) of kemSecretKey || signatureSecretKey. */
  iv: Bytes;
  ciphertext: Bytes;
  /** ISO 8601 time the keys were generated. */
  createdAt: string;
}

/** The two secret keys of a record once decrypted. */
export interface SecretKeys {
  kemSecretKey: Uint8Array;
  signatureSecretKey: Uint8Array;
}

/** Input of {@link sealKeys}: the account, key id, public keys and secret keys. */
export interface KeysToSeal extends SecretKeys {
  email: string;
  keyId: string;
  kemPublicKey: Uint8Array;
  signaturePublicKey: Uint8Array;
}

/** Thrown when a record does not decrypt: a wrong passphrase or a damaged record. */
export class UnlockError extends Error {
  constructor() {
    super('the passphrase is wrong or the stored key record is damaged');
    this.name = 'UnlockError';
  }
}

function additionalData(email: string, keyId: string): Bytes {
  return new TextEncoder().encode(`${RECORD_FORMAT}\u0000${email}\u0000${keyId}`);
}

async function deriveWrappingKey(
  passphrase: string,
  salt: Bytes,
  iterations: number,
): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(passphrase),
    'PBKDF2',
    false,
    ['deriveKey'],
  );
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * Encrypts both secret keys under `passphrase` and returns the record to store. The plaintext
 * copy made here is zeroed before returning; the caller still owns the keys it passed in.
 */
export async function sealKeys(keys: KeysToSeal, passphrase: string): Promise<KeyRecord> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_LENGTH));
  const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const wrappingKey = await deriveWrappingKey(passphrase, salt, PBKDF2_ITERATIONS);

  const plaintext = new Uint8Array(keys.kemSecretKey.length + keys.signatureSecretKey.length);
  plaintext.set(keys.kemSecretKey, 0);
  plaintext.set(keys.signatureSecretKey, keys.kemSecretKey.length);
  try {
    const ciphertext = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: additionalData(keys.email, keys.keyId) },
      wrappingKey,
      plaintext,
    );
    return {
      email: keys.email,
      keyId: keys.keyId,
      kemPublicKey: keys.kemPublicKey,
      signaturePublicKey: keys.signaturePublicKey,
      kemSecretKeyLength: keys.kemSecretKey.length,
      salt,
      iterations: PBKDF2_ITERATIONS,
      iv,
      ciphertext: new Uint8Array(ciphertext),
      createdAt: new Date().toISOString(),
    };
  } finally {
    plaintext.fill(0);
  }
}

/** Decrypts the secret keys of `record`; throws {@link UnlockError} for a wrong passphrase. */
export async function openKeys(record: KeyRecord, passphrase: string): Promise<SecretKeys> {
  const wrappingKey = await deriveWrappingKey(passphrase, record.salt, record.iterations);

  let plaintext: Uint8Array;
  try {
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: record.iv,
          additionalData: additionalData(record.email, record.keyId),
        },
        wrappingKey,
        record.ciphertext,
      ),
    );
  } catch {
    throw new UnlockError();
  }
  return {
    kemSecretKey: plaintext.subarray(0, record.kemSecretKeyLength),
    signatureSecretKey: plaintext.subarray(record.kemSecretKeyLength),
  };
}

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.addEventListener('success', () => resolve(request.result));
    request.addEventListener('error', () =>
      reject(request.error ?? new Error('IndexedDB request failed')),
    );
  });
}

async function openDatabase(): Promise<IDBDatabase> {
  const request = indexedDB.open(DATABASE_NAME, DATABASE_VERSION);
  request.addEventListener('upgradeneeded', () => {
    request.result.createObjectStore(STORE_NAME, { keyPath: 'email' });
  });
  return requestResult(request);
}

function transactionDone(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (): void =>
      reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    transaction.addEventListener('complete', () => resolve());
    transaction.addEventListener('error', fail);
    transaction.addEventListener('abort', fail);
  });
}

async function withStore<T>(
  mode: IDBTransactionMode,
  action: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const database = await openDatabase();
  try {
    const transaction = database.transaction(STORE_NAME, mode);
    const done = transactionDone(transaction);
    const [result] = await Promise.all([
      requestResult(action(transaction.objectStore(STORE_NAME))),
      done,
    ]);
    return result;
  } finally {
    database.close();
  }
}

/** Stores `record`, replacing the one for the same email. */
export async function saveKeyRecord(record: KeyRecord): Promise<void> {
  await withStore('readwrite', (store) => store.put(record));
}

/** Deletes the record for `email`, if there is one. */
export async function deleteKeyRecord(email: string): Promise<void> {
  await withStore('readwrite', (store) => store.delete(email));
}

/**
 * Puts back `previous`, or deletes the record when `previous` is undefined, but only while the
 * stored record for `record.email` is still `record`. The check and the write share one
 * transaction, so keys that another tab saved meanwhile stay. Resolves with whether it changed
 * anything.
 */
export async function restoreKeyRecord(
  record: KeyRecord,
  previous: KeyRecord | undefined,
): Promise<boolean> {
  const database = await openDatabase();
  try {
    const transaction = database.transaction(STORE_NAME, 'readwrite');
    const done = transactionDone(transaction);
    const store = transaction.objectStore(STORE_NAME);
    let restored = false;
    const stored = store.get(record.email) as IDBRequest<KeyRecord | undefined>;
    stored.addEventListener('success', () => {
      // The write must be issued in this callback, or the transaction commits without it.
      if (stored.result?.keyId !== record.keyId) {
        return;
      }
      restored = true;
      if (previous === undefined) {
        store.delete(record.email);
      } else {
        store.put(previous);
      }
    });
    await done;
    return restored;
  } finally {
    database.close();
  }
}

/** Returns the record for `email`, or undefined when this browser stores none. */
export async function loadKeyRecord(email: string): Promise<KeyRecord | undefined> {
  return withStore('readonly', (store) => store.get(email) as IDBRequest<KeyRecord | undefined>);
}

/** Returns every stored record, ordered by email. */
export async function listKeyRecords(): Promise<KeyRecord[]> {
  return withStore('readonly', (store) => store.getAll() as IDBRequest<KeyRecord[]>);
}

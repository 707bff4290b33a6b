/**
 * The documents one key pair produces: the fields set on the user and the entry in `pqcKeys`,
 * and the steps that move that entry through its life cycle (pending, current, retired).
 *
 * An entry is inserted as `pending` before the user document references its key id, and marked
 * `current` after. So a crash in between leaves either a pending entry that no user references
 * (deleted by key-repair.ts) or one the user references (marked current there). Only public keys
 * reach these documents.
 */
import { Binary } from 'mongodb';
import type { ObjectId, WithId } from 'mongodb';
import { keyPairId } from '../keys/fingerprint.js';
import type { StoreContext } from './context.js';
import { StoreConflictError } from './errors.js';
import { isDuplicateKey } from './lease.js';
import { checkKeyDates, USER_KEM_ALGORITHM, USER_SIGNATURE_ALGORITHM } from './schema.js';
import type { PqcKeyDocument, UserDocument } from './schema.js';

/** Filter of users without a key pair: `pqcKeyId` absent, null, or anything but a string. */
export const WITHOUT_KEY = { pqcKeyId: { $not: { $type: 'string' } } } as const;

/**
 * Look-ups in flight at once when {@link readKeyIds} reads users one by one on FerretDB. There
 * only an exact `{ _id }` filter uses the index: an `$in` over 500 ids scans the collection,
 * which took 1.2 s on 10,000 users against 0.25 s for 500 concurrent look-ups (FerretDB v1.24.2,
 * 2 x86-64 cores).
 */
const FERRETDB_LOOKUP_CONCURRENCY = 16;

/** The public halves of a user's two key pairs. */
export interface UserPublicKeys {
  /** ML-KEM-768 encapsulation key, 1184 bytes. */
  kemPublicKey: Uint8Array;
  /** ML-DSA-65 verification key, 1952 bytes. */
  signaturePublicKey: Uint8Array;
}

/** The user fields that one key pair sets. */
export type KeyFields = Required<
  Pick<
    UserDocument,
    | 'pqcPublicKey'
    | 'pqcSignaturePublicKey'
    | 'pqcKeyGeneratedAt'
    | 'pqcKeyExpiresAt'
    | 'pqcKemAlgorithm'
    | 'pqcSignatureAlgorithm'
    | 'pqcEnabled'
    | 'updatedAt'
  >
> & { pqcKeyId: string };

/** Everything written for one key pair. */
export interface KeyRecord {
  /** Key id: base64url SHA-256 over the SubjectPublicKeyInfo of both public keys. */
  keyId: string;
  /** Fields set on the user document. */
  userFields: KeyFields;
  /** The `pqcKeys` entry, with status `pending`. */
  history: PqcKeyDocument;
}

/** Returns padded base64 from Buffer's native encoder; the store runs only in Node. */
function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Returns the key id of `keys`. Throws `InvalidLengthError` for a public key of the wrong
 * length and `InvalidPublicKeyError` for an ML-KEM key that fails the FIPS 203 modulus check.
 */
export function userKeyPairId(keys: UserPublicKeys): string {
  return keyPairId(
    { algorithm: USER_KEM_ALGORITHM, publicKey: keys.kemPublicKey },
    { algorithm: USER_SIGNATURE_ALGORITHM, publicKey: keys.signaturePublicKey },
  );
}

/**
 * Builds the documents for `keys` of user `userId`. Throws `InvalidLengthError` for a public key
 * of the wrong length, `InvalidPublicKeyError` for an ML-KEM key that fails the FIPS 203 modulus
 * check, and `StoreValidationError` unless `expiresAt` is after `generatedAt`.
 */
export function buildKeyRecord(
  userId: ObjectId,
  keys: UserPublicKeys,
  generatedAt: Date,
  expiresAt: Date,
): KeyRecord {
  const keyId = userKeyPairId(keys);
  checkKeyDates(generatedAt, expiresAt);

  const userFields: KeyFields = {
    pqcPublicKey: toBase64(keys.kemPublicKey),
    pqcSignaturePublicKey: toBase64(keys.signaturePublicKey),
    pqcKeyId: keyId,
    pqcKeyGeneratedAt: generatedAt,
    pqcKeyExpiresAt: expiresAt,
    pqcKemAlgorithm: USER_KEM_ALGORITHM,
    pqcSignatureAlgorithm: USER_SIGNATURE_ALGORITHM,
    pqcEnabled: true,
    updatedAt: generatedAt,
  };
  const history: PqcKeyDocument = {
    _id: keyId,
    userId,
    kemAlgorithm: USER_KEM_ALGORITHM,
    kemPublicKey: new Binary(keys.kemPublicKey),
    signatureAlgorithm: USER_SIGNATURE_ALGORITHM,
    signaturePublicKey: new Binary(keys.signaturePublicKey),
    generatedAt,
    expiresAt,
    status: 'pending',
    createdAt: generatedAt,
  };
  return { keyId, userFields, history };
}

/**
 * Inserts `history` as a pending entry. Throws `StoreConflictError` when its key id exists
 * already, which for generated keys means a caller registered the same public keys twice.
 */
export async function insertPendingKey(
  context: StoreContext,
  history: PqcKeyDocument,
): Promise<void> {
  try {
    await context.pqcKeys.insertOne({ ...history, status: 'pending' });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;

    const existing = await context.pqcKeys.findOne(
      { _id: history._id },
      { projection: { userId: 1 } },
    );
    throw new StoreConflictError(
      `key id ${history._id} is already registered for user ` +
        `${existing?.userId.toHexString() ?? 'unknown'}; generate a new key pair`,
      { cause: error },
    );
  }
}

/** Deletes the entry `keyId` while it is still pending: the user update it was made for failed. */
export async function discardPendingKey(context: StoreContext, keyId: string): Promise<void> {
  await context.pqcKeys.deleteOne({ _id: keyId, status: 'pending' });
}

/**
 * Marks the entry of a key the user now references as current. When a concurrent repair deleted
 * the pending entry in the meantime, this inserts it again as current. An entry that has moved
 * on (current or retired) is left as it is.
 */
export async function markKeyCurrent(
  context: StoreContext,
  history: PqcKeyDocument,
): Promise<void> {
  const { _id, status: _status, ...fields } = history;
  try {
    await context.pqcKeys.updateOne(
      { _id, status: 'pending' },
      { $set: { status: 'current' }, $setOnInsert: fields },
      { upsert: true },
    );
  } catch (error) {
    // The upsert found no pending entry and its insert met one with the same key id.
    if (!isDuplicateKey(error)) throw error;
  }
}

/** Marks the entry `keyId` retired at `retiredAt`, unless it is retired already. */
export async function retireKey(
  context: StoreContext,
  keyId: string,
  retiredAt: Date,
): Promise<void> {
  await context.pqcKeys.updateOne(
    { _id: keyId, status: { $ne: 'retired' } },
    { $set: { status: 'retired', retiredAt } },
  );
}

/**
 * Returns the `pqcKeyId` of each existing user of `ids` by hex id: the key id, or null for a
 * user without one. Users that do not exist are absent from the map.
 */
export async function readKeyIds(
  context: StoreContext,
  ids: readonly ObjectId[],
  timeoutMS?: number,
): Promise<Map<string, string | null>> {
  const options = {
    projection: { pqcKeyId: 1 },
    ...(timeoutMS === undefined ? {} : { timeoutMS }),
  };
  const found: WithId<UserDocument>[] = [];

  if (context.server.kind === 'ferretdb') {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const user = await context.users.findOne({ _id: ids[next++]! }, options);
        if (user !== null) found.push(user);
      }
    };
    const workers = Math.min(FERRETDB_LOOKUP_CONCURRENCY, ids.length);
    await Promise.all(Array.from({ length: workers }, worker));
  } else if (ids.length > 0) {
    found.push(...(await context.users.find({ _id: { $in: [...ids] } }, options).toArray()));
  }

  return new Map(
    found.map((user) => [
      user._id.toHexString(),
      typeof user.pqcKeyId === 'string' ? user.pqcKeyId : null,
    ]),
  );
}

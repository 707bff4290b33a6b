// Key enrollment against a real server with real ML-KEM-768 and ML-DSA-65 keys: the stored
// fields, rotation, disabling, removal, look-ups, registration of outside keys, expiry and the
// repair of entries a crash leaves pending.
import { BSON } from 'mongodb';
import type { Db, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPqc } from '../../src/core/pqc.js';
import type { PqcInstance } from '../../src/core/pqc.js';
import { isPqcError } from '../../src/errors.js';
import { decodeBase64, encodeBase64, encodeBase64Url } from '../../src/keys/base64.js';
import { keyPairId } from '../../src/keys/fingerprint.js';
import { createStoreContext } from '../../src/store/context.js';
import type { StoreContext } from '../../src/store/context.js';
import { buildKeyRecord, insertPendingKey } from '../../src/store/key-records.js';
import { KeyStore } from '../../src/store/keys.js';
import type { EnrolledKeys } from '../../src/store/keys.js';
import type { StoreLogger } from '../../src/store/logger.js';
import { PQC_KEY_FIELDS } from '../../src/store/schema.js';
import { UserStore } from '../../src/store/users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

const PASSWORD = 'correct horse battery';
const DAY_MS = 24 * 60 * 60 * 1000;

interface LogEntry {
  level: string;
  fields: object;
  message: string;
}

let environment: StoreTestEnvironment;
let db: Db;
let context: StoreContext;
let pqc: PqcInstance;
let users: UserStore;
let keys: KeyStore;
const logs: LogEntry[] = [];

function recordingLogger(): StoreLogger {
  const record =
    (level: string) =>
    (fields: object, message: string): void => {
      logs.push({ level, fields, message });
    };
  return {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}

async function newUser(email: string): Promise<ObjectId> {
  const user = await users.createUser({ email, password: PASSWORD });
  return user._id;
}

async function storedUser(id: ObjectId) {
  const user = await context.users.findOne({ _id: id });
  if (user === null) throw new Error(`user ${id.toHexString()} vanished`);
  return user;
}

async function historyOf(id: ObjectId) {
  return context.pqcKeys.find({ userId: id }).sort({ createdAt: 1 }).toArray();
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isPqcError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection, but the promise fulfilled');
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but the promise fulfilled');
}

/** Re-packs the first 12-bit coefficient of an ML-KEM encapsulation key as `value`. */
function withFirstCoefficient(publicKey: Uint8Array, value: number): Uint8Array {
  const changed = publicKey.slice();
  changed[0] = value & 0xff;
  changed[1] = (changed[1]! & 0xf0) | (value >> 8);
  return changed;
}

/** Returns every document of every collection of `target`, BSON-serialised. */
async function dumpDatabase(target: Db): Promise<Buffer[]> {
  const dumps: Buffer[] = [];
  for (const { name } of await target.listCollections({}, { nameOnly: true }).toArray()) {
    for (const document of await target.collection(name).find({}).toArray()) {
      dumps.push(Buffer.from(BSON.serialize(document)));
    }
  }
  return dumps;
}

function containsArrayBufferView(value: unknown, seen = new Set<unknown>()): boolean {
  if (ArrayBuffer.isView(value)) return true;
  if (typeof value !== 'object' || value === null || seen.has(value)) return false;
  seen.add(value);
  return Object.values(value).some((inner) => containsArrayBufferView(inner, seen));
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  db = await environment.database('enrollment');
  context = await createStoreContext(db, { logger: recordingLogger() });
  pqc = await loadPqc();
  users = new UserStore(context, { bcryptRounds: 4 });
  keys = new KeyStore(context, { keySource: pqc, keyLifetimeMs: 90 * DAY_MS });
});

afterAll(async () => {
  await environment?.close();
});

describe('enroll', () => {
  let userId: ObjectId;
  let enrolled: EnrolledKeys;

  it('stores public keys, key id and dates', async () => {
    userId = await newUser('ada@example.com');
    const before = Date.now();
    enrolled = await keys.enroll({ email: 'Ada@Example.com' });

    const user = await storedUser(userId);
    const expectedId = keyPairId(
      { algorithm: 'ML-KEM-768', publicKey: enrolled.kem.publicKey },
      { algorithm: 'ML-DSA-65', publicKey: enrolled.signature.publicKey },
    );
    expect(enrolled.keyId).toBe(expectedId);
    expect(user.pqcKeyId).toBe(expectedId);
    expect(user.pqcPublicKey).toBe(encodeBase64(enrolled.kem.publicKey));
    expect(user.pqcSignaturePublicKey).toBe(encodeBase64(enrolled.signature.publicKey));
    expect(enrolled.kem.publicKey).toHaveLength(1184);
    expect(enrolled.signature.publicKey).toHaveLength(1952);
    expect(user.pqcEnabled).toBe(true);
    expect(user.classicalFallback).toBe(true);
    expect(user.pqcKemAlgorithm).toBe('ML-KEM-768');
    expect(user.pqcSignatureAlgorithm).toBe('ML-DSA-65');
    expect(user.pqcKeyGeneratedAt).toBeInstanceOf(Date);
    expect(user.pqcKeyGeneratedAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(user.pqcKeyExpiresAt!.getTime() - user.pqcKeyGeneratedAt!.getTime()).toBe(90 * DAY_MS);
    expect(user.updatedAt!.getTime()).toBe(user.pqcKeyGeneratedAt!.getTime());
    expect(enrolled.previousKeyId).toBeNull();
  });

  it('records the key as current in history', async () => {
    const history = await historyOf(userId);

    expect(history).toHaveLength(1);
    expect(history[0]!._id).toBe(enrolled.keyId);
    expect(history[0]!.status).toBe('current');
    expect(Buffer.from(history[0]!.kemPublicKey.buffer)).toEqual(
      Buffer.from(enrolled.kem.publicKey),
    );
    expect(Buffer.from(history[0]!.signaturePublicKey.buffer)).toEqual(
      Buffer.from(enrolled.signature.publicKey),
    );
    expect(history[0]!.expiresAt.getTime()).toBe(enrolled.expiresAt.getTime());
  });

  it('returns working secret keys', async () => {
    const kem = pqc.kem('ML-KEM-768');
    const { ciphertext, sharedSecret } = kem.encapsulate(enrolled.kem.publicKey);
    expect(kem.decapsulate(ciphertext, enrolled.kem.secretKey)).toEqual(sharedSecret);

    const message = new TextEncoder().encode('login challenge');
    const signature = pqc.signature('ML-DSA-65');
    const signed = signature.sign(message, enrolled.signature.secretKey);
    expect(signature.verify(message, signed, enrolled.signature.publicKey)).toBe(true);
  });

  it('never stores or logs secret keys', async () => {
    const dumps = await dumpDatabase(db);
    expect(dumps.length).toBeGreaterThan(2);

    // Windows of bytes that are secret: an ML-KEM secret key embeds the public key and an
    // ML-DSA one starts with the public rho, so those parts are left out.
    const kemSecret = enrolled.kem.secretKey;
    const signatureSecret = enrolled.signature.secretKey;
    const secrets: [Uint8Array, Uint8Array[]][] = [
      [kemSecret, [kemSecret.subarray(0, 32), kemSecret.subarray(kemSecret.length - 32)]],
      [enrolled.kem.seed, [enrolled.kem.seed]],
      [signatureSecret, [signatureSecret.subarray(32, 64), signatureSecret.subarray(-32)]],
      [enrolled.signature.seed, [enrolled.signature.seed]],
    ];
    const logText = JSON.stringify(logs);
    for (const [secret, windows] of secrets) {
      const encodings = [
        encodeBase64(secret),
        encodeBase64Url(secret),
        Buffer.from(secret).toString('hex'),
      ];
      for (const dump of dumps) {
        for (const window of windows) expect(dump.indexOf(Buffer.from(window))).toBe(-1);
        for (const encoded of encodings) expect(dump.indexOf(Buffer.from(encoded))).toBe(-1);
      }
      for (const encoded of encodings) expect(logText.includes(encoded)).toBe(false);
    }
    expect(logs.some((entry) => containsArrayBufferView(entry.fields))).toBe(false);
    expect(logs.some((entry) => entry.message === 'enrolled user key pair')).toBe(true);
  });

  it('rejects a second enrollment', async () => {
    const error = await errorOf(keys.enroll({ userId }));

    expect(isPqcError(error, 'ERR_STORE_CONFLICT')).toBe(true);
    expect(error.message).toContain('rotate');
    expect((await storedUser(userId)).pqcKeyId).toBe(enrolled.keyId);
    expect(await historyOf(userId)).toHaveLength(1);
  });

  it('rejects an unknown user', async () => {
    const before = await context.pqcKeys.countDocuments();

    expect(await codeOf(keys.enroll({ email: 'nobody@example.com' }))).toBe('ERR_STORE_NOT_FOUND');
    expect(await codeOf(keys.enroll({ qynAuthUserId: 'missing' }))).toBe('ERR_STORE_NOT_FOUND');
    expect(await context.pqcKeys.countDocuments()).toBe(before);
  });

  it('rejects a malformed selector', async () => {
    expect(await codeOf(keys.enroll({ email: 'not an address' }))).toBe('ERR_STORE_VALIDATION');
    expect(await codeOf(keys.enroll({ qynAuthUserId: '' }))).toBe('ERR_STORE_VALIDATION');
    expect(await codeOf(keys.enroll({} as { email: string }))).toBe('ERR_STORE_VALIDATION');
  });

  it('requires a key source to generate', async () => {
    const withoutSource = new KeyStore(context);
    await newUser('nosource@example.com');

    expect(await codeOf(withoutSource.enroll({ email: 'nosource@example.com' }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('rejects a non-positive key lifetime', () => {
    for (const keyLifetimeMs of [0, -1, 1.5, Number.NaN]) {
      expect(() => new KeyStore(context, { keyLifetimeMs })).toThrow(/keyLifetimeMs/);
    }
  });
});

describe('rotate', () => {
  it('retires the old key pair', async () => {
    const userId = await newUser('rotate@example.com');
    const first = await keys.enroll({ userId });

    const second = await keys.rotate({ email: 'rotate@example.com' });

    expect(second.keyId).not.toBe(first.keyId);
    expect(second.previousKeyId).toBe(first.keyId);
    const user = await storedUser(userId);
    expect(user.pqcKeyId).toBe(second.keyId);
    expect(user.pqcPublicKey).toBe(encodeBase64(second.kem.publicKey));
    const history = await historyOf(userId);
    expect(history.map((entry) => [entry._id, entry.status])).toEqual([
      [first.keyId, 'retired'],
      [second.keyId, 'current'],
    ]);
    expect(history[0]!.retiredAt).toBeInstanceOf(Date);
  });

  it('rejects a user without keys', async () => {
    const userId = await newUser('rotate-none@example.com');

    expect(await codeOf(keys.rotate({ userId }))).toBe('ERR_STORE_NOT_FOUND');
    expect(await historyOf(userId)).toHaveLength(0);
  });
});

describe('disable and classical fallback', () => {
  it('disable keeps keys and fallback', async () => {
    const userId = await newUser('disable@example.com');
    const enrolled = await keys.enroll({ userId });

    expect(await keys.disable({ userId })).toBe(true);
    expect(await keys.disable({ userId })).toBe(false);

    const user = await storedUser(userId);
    expect(user.pqcEnabled).toBe(false);
    expect(user.classicalFallback).toBe(true);
    expect(user.pqcKeyId).toBe(enrolled.keyId);
    expect(user.pqcPublicKey).toBe(encodeBase64(enrolled.kem.publicKey));
    expect(await keys.enable({ userId })).toBe(true);
    expect((await storedUser(userId)).pqcEnabled).toBe(true);
  });

  it('disable rejects without classical fallback', async () => {
    const userId = await newUser('pqc-only@example.com');
    await keys.enroll({ userId });
    expect(await keys.setClassicalFallback({ userId }, false)).toBe(true);

    const error = await errorOf(keys.disable({ userId }));

    expect(isPqcError(error, 'ERR_STORE_VALIDATION')).toBe(true);
    expect(error.message).toContain('setClassicalFallback');
    expect((await storedUser(userId)).pqcEnabled).toBe(true);

    expect(await keys.setClassicalFallback({ userId }, true)).toBe(true);
    expect(await keys.disable({ userId })).toBe(true);
    expect((await storedUser(userId)).pqcEnabled).toBe(false);
  });

  it('fallback stays on while PQC is off', async () => {
    const userId = await newUser('password-only@example.com');

    expect(await codeOf(keys.setClassicalFallback({ userId }, false))).toBe('ERR_STORE_VALIDATION');
    expect((await storedUser(userId)).classicalFallback).toBe(true);

    await keys.enroll({ userId });
    await keys.disable({ userId });
    expect(await codeOf(keys.setClassicalFallback({ userId }, false))).toBe('ERR_STORE_VALIDATION');
    expect((await storedUser(userId)).classicalFallback).toBe(true);
  });

  it('enable rejects a user without keys', async () => {
    const userId = await newUser('enable-none@example.com');

    expect(await codeOf(keys.enable({ userId }))).toBe('ERR_STORE_NOT_FOUND');
    expect((await storedUser(userId)).pqcEnabled).toBe(false);
  });
});

describe('removeKeys', () => {
  it('unsets key fields and retires the entry', async () => {
    const userId = await newUser('remove@example.com');
    const enrolled = await keys.enroll({ userId });

    expect(await keys.removeKeys({ userId })).toBe(enrolled.keyId);

    const user = await storedUser(userId);
    for (const field of PQC_KEY_FIELDS) expect(user).not.toHaveProperty(field);
    expect(user.pqcEnabled).toBe(false);
    expect(user.classicalFallback).toBe(true);
    const history = await historyOf(userId);
    expect(history).toHaveLength(1);
    expect(history[0]!.status).toBe('retired');
    expect(history[0]!.retiredAt).toBeInstanceOf(Date);
    expect(await keys.removeKeys({ userId })).toBeNull();
  });

  it('allows enrolling again after removal', async () => {
    const again = await keys.enroll({ email: 'remove@example.com' });
    const user = await context.users.findOne({ email: 'remove@example.com' });

    expect(user?.pqcKeyId).toBe(again.keyId);
    const statuses = (await historyOf(user!._id)).map((entry) => entry.status);
    expect(statuses).toEqual(['retired', 'current']);
  });

  it('rejects removal without classical fallback', async () => {
    const userId = await newUser('remove-pqc-only@example.com');
    const enrolled = await keys.enroll({ userId });
    await keys.setClassicalFallback({ userId }, false);

    expect(await codeOf(keys.removeKeys({ userId }))).toBe('ERR_STORE_VALIDATION');
    expect((await storedUser(userId)).pqcKeyId).toBe(enrolled.keyId);
  });
});

describe('look-ups', () => {
  let userId: ObjectId;
  let enrolled: EnrolledKeys;

  beforeAll(async () => {
    const created = await users.createUser({
      email: 'lookup@example.com',
      password: PASSWORD,
      qynAuthUserId: 'qa-lookup',
    });
    userId = created._id;
    enrolled = await keys.enroll({ userId });
  });

  it('finds the user by each selector', async () => {
    const found = [
      await keys.getByEmail(' LOOKUP@example.com '),
      await keys.getByQynAuthUserId('qa-lookup'),
      await keys.getByKeyId(enrolled.keyId),
    ];

    for (const info of found) {
      expect(info?.userId.equals(userId)).toBe(true);
      expect(info?.email).toBe('lookup@example.com');
      expect(info?.qynAuthUserId).toBe('qa-lookup');
      expect(info?.state).toBe('active');
      expect(info?.key?.keyId).toBe(enrolled.keyId);
      expect(info?.key?.kemPublicKey).toEqual(enrolled.kem.publicKey);
      expect(info?.key?.signaturePublicKey).toEqual(enrolled.signature.publicKey);
    }
  });

  it('returns null for unknown values', async () => {
    expect(await keys.getByEmail('unknown@example.com')).toBeNull();
    expect(await keys.getByQynAuthUserId('unknown')).toBeNull();
    expect(await keys.getByQynAuthUserId('')).toBeNull();
    expect(await keys.getByKeyId('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBeNull();
  });

  it('retired key id finds nobody', async () => {
    const rotated = await keys.rotate({ userId });

    expect(await keys.getByKeyId(enrolled.keyId)).toBeNull();
    expect((await keys.getByKeyId(rotated.keyId))?.userId.equals(userId)).toBe(true);
  });

  it('reports a user without keys', async () => {
    await newUser('lookup-none@example.com');
    const info = await keys.getByEmail('lookup-none@example.com');

    expect(info?.state).toBe('none');
    expect(info?.key).toBeNull();
    expect(info?.pqcEnabled).toBe(false);
  });
});

describe('registerPublicKeys', () => {
  it('stores keys generated elsewhere', async () => {
    const userId = await newUser('browser@example.com');
    const kem = pqc.kem('ML-KEM-768').keygen();
    const signature = pqc.signature('ML-DSA-65').keygen();

    const stored = await keys.registerPublicKeys({ userId }, kem.publicKey, signature.publicKey);

    const expectedId = keyPairId(
      { algorithm: 'ML-KEM-768', publicKey: kem.publicKey },
      { algorithm: 'ML-DSA-65', publicKey: signature.publicKey },
    );
    expect(stored.keyId).toBe(expectedId);
    const user = await storedUser(userId);
    expect(user.pqcKeyId).toBe(expectedId);
    expect(user.pqcPublicKey).toBe(encodeBase64(kem.publicKey));
    expect(user.pqcEnabled).toBe(true);
    expect((await historyOf(userId)).map((entry) => entry.status)).toEqual(['current']);
  });

  it('rejects bad public keys and writes nothing', async () => {
    const userId = await newUser('bad-keys@example.com');
    const kem = pqc.kem('ML-KEM-768').keygen().publicKey;
    const signature = pqc.signature('ML-DSA-65').keygen().publicKey;
    const before = await storedUser(userId);
    const historyBefore = await context.pqcKeys.countDocuments();

    const cases: [Uint8Array, Uint8Array, string][] = [
      [kem.subarray(0, 1183), signature, 'ERR_INVALID_LENGTH'],
      [new Uint8Array([...kem, 0]), signature, 'ERR_INVALID_LENGTH'],
      [kem, signature.subarray(0, 1951), 'ERR_INVALID_LENGTH'],
      [withFirstCoefficient(kem, 3329), signature, 'ERR_INVALID_PUBLIC_KEY'],
      [new Uint8Array(1184).fill(0xff), signature, 'ERR_INVALID_PUBLIC_KEY'],
    ];
    for (const [kemKey, signatureKey, code] of cases) {
      expect(await codeOf(keys.registerPublicKeys({ userId }, kemKey, signatureKey))).toBe(code);
    }

    expect(await storedUser(userId)).toEqual(before);
    expect(await context.pqcKeys.countDocuments()).toBe(historyBefore);

    const unknown = keys.registerPublicKeys({ email: 'nobody@example.com' }, kem, new Uint8Array(7));
    expect(await codeOf(unknown)).toBe('ERR_INVALID_LENGTH');
  });

  it('accepts the largest valid coefficient', async () => {
    const userId = await newUser('boundary@example.com');
    const kem = withFirstCoefficient(pqc.kem('ML-KEM-768').keygen().publicKey, 3328);
    const signature = pqc.signature('ML-DSA-65').keygen().publicKey;

    const stored = await keys.registerPublicKeys({ userId }, kem, signature);

    expect((await storedUser(userId)).pqcKeyId).toBe(stored.keyId);
  });

  it('rejects keys registered for another user', async () => {
    const first = await newUser('shared-keys-1@example.com');
    const second = await newUser('shared-keys-2@example.com');
    const kem = pqc.kem('ML-KEM-768').keygen().publicKey;
    const signature = pqc.signature('ML-DSA-65').keygen().publicKey;
    await keys.registerPublicKeys({ userId: first }, kem, signature);

    expect(await codeOf(keys.registerPublicKeys({ userId: second }, kem, signature))).toBe(
      'ERR_STORE_CONFLICT',
    );
    expect((await storedUser(second)).pqcKeyId).toBeUndefined();
    expect(await historyOf(second)).toHaveLength(0);
  });

  it('rejects one key of another user', async () => {
    const owner = await newUser('key-owner@example.com');
    const copier = await newUser('key-copier@example.com');
    const enrolled = await keys.enroll({ userId: owner });
    const ownerKeys = await storedUser(owner);
    const ownKem = pqc.kem('ML-KEM-768').keygen().publicKey;
    const ownSignature = pqc.signature('ML-DSA-65').keygen().publicKey;
    const cases: [string, Uint8Array, Uint8Array][] = [
      ['ML-KEM-768', decodeBase64(ownerKeys.pqcPublicKey!, 'pqcPublicKey'), ownSignature],
      ['ML-DSA-65', ownKem, decodeBase64(ownerKeys.pqcSignaturePublicKey!, 'pqcSignaturePublicKey')],
    ];
    const historyBefore = await context.pqcKeys.countDocuments();

    for (const [algorithm, kem, signature] of cases) {
      const error = await keys.registerPublicKeys({ userId: copier }, kem, signature).catch((e: unknown) => e);

      expect(isPqcError(error, 'ERR_STORE_CONFLICT'), algorithm).toBe(true);
      expect((error as Error).message, algorithm).toContain(
        `the ${algorithm} public key is already stored for user ${owner.toHexString()}`,
      );
    }
    expect((await storedUser(copier)).pqcKeyId).toBeUndefined();
    expect(await context.pqcKeys.countDocuments()).toBe(historyBefore);
    expect((await storedUser(owner)).pqcKeyId).toBe(enrolled.keyId);

    const stored = await keys.registerPublicKeys({ userId: copier }, ownKem, ownSignature);
    expect((await storedUser(copier)).pqcKeyId).toBe(stored.keyId);
  });

  it('rotates to registered keys on request', async () => {
    const userId = await newUser('browser-rotate@example.com');
    const first = await keys.enroll({ userId });
    const kem = pqc.kem('ML-KEM-768').keygen().publicKey;
    const signature = pqc.signature('ML-DSA-65').keygen().publicKey;

    expect(await codeOf(keys.registerPublicKeys({ userId }, kem, signature))).toBe(
      'ERR_STORE_CONFLICT',
    );
    const stored = await keys.registerPublicKeys({ userId }, kem, signature, { rotate: true });

    expect(stored.previousKeyId).toBe(first.keyId);
    expect((await historyOf(userId)).map((entry) => entry.status)).toEqual(['retired', 'current']);
  });
});

describe('registerPublicKeys with replacesKeyId', () => {
  function newPublicKeys(): { kem: Uint8Array; signature: Uint8Array } {
    return {
      kem: pqc.kem('ML-KEM-768').keygen().publicKey,
      signature: pqc.signature('ML-DSA-65').keygen().publicKey,
    };
  }

  it('rejects a stale expected key id', async () => {
    const userId = await newUser('replaces-stale@example.com');
    const first = newPublicKeys();
    const second = newPublicKeys();
    const third = newPublicKeys();

    const enrolled = await keys.registerPublicKeys({ userId }, first.kem, first.signature, {
      replacesKeyId: null,
    });
    const rotated = await keys.registerPublicKeys({ userId }, second.kem, second.signature, {
      replacesKeyId: enrolled.keyId,
    });
    expect(rotated.previousKeyId).toBe(enrolled.keyId);

    const stale = keys.registerPublicKeys({ userId }, third.kem, third.signature, {
      rotate: true,
      replacesKeyId: enrolled.keyId,
    });
    expect(await codeOf(stale)).toBe('ERR_STORE_CONFLICT');
    const asFirst = keys.registerPublicKeys({ userId }, third.kem, third.signature, {
      replacesKeyId: null,
    });
    expect(await codeOf(asFirst)).toBe('ERR_STORE_CONFLICT');
    expect((await storedUser(userId)).pqcKeyId).toBe(rotated.keyId);
    expect((await historyOf(userId)).map((entry) => [entry._id, entry.status])).toEqual([
      [enrolled.keyId, 'retired'],
      [rotated.keyId, 'current'],
    ]);
  });

  for (const atomicUpdates of [false, true]) {
    it(`lets one of two rotations win (atomicUpdates ${atomicUpdates})`, async () => {
      const store = new KeyStore(
        { ...context, server: { ...context.server, atomicUpdates } },
        { keySource: pqc },
      );
      const userId = await newUser(`replaces-race-${atomicUpdates}@example.com`);
      const original = await store.enroll({ userId });
      const candidates = [newPublicKeys(), newPublicKeys()];

      const outcomes = await Promise.allSettled(
        candidates.map((candidate) =>
          store.registerPublicKeys({ userId }, candidate.kem, candidate.signature, {
            rotate: true,
            replacesKeyId: original.keyId,
          }),
        ),
      );

      const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      const reason = (rejected[0] as PromiseRejectedResult).reason as unknown;
      expect(isPqcError(reason) ? reason.code : reason).toBe('ERR_STORE_CONFLICT');
      const winner = (fulfilled[0] as PromiseFulfilledResult<{ keyId: string }>).value;
      expect((await storedUser(userId)).pqcKeyId).toBe(winner.keyId);
      expect((await historyOf(userId)).map((entry) => [entry._id, entry.status])).toEqual([
        [original.keyId, 'retired'],
        [winner.keyId, 'current'],
      ]);
    });
  }
});

describe('expired keys', () => {
  it('stay readable and rotatable', async () => {
    const userId = await newUser('expired@example.com');
    const past = new Date('2020-01-01T00:00:00Z');
    const oldStore = new KeyStore(context, {
      keySource: pqc,
      keyLifetimeMs: DAY_MS,
      now: () => past,
    });
    const old = await oldStore.enroll({ userId });

    expect(old.expiresAt.toISOString()).toBe('2020-01-02T00:00:00.000Z');
    const info = await keys.getByEmail('expired@example.com');
    expect(info?.state).toBe('expired');
    expect(info?.key?.keyId).toBe(old.keyId);
    expect(info?.key?.kemPublicKey).toEqual(old.kem.publicKey);

    const rotated = await keys.rotate({ userId });

    expect(rotated.previousKeyId).toBe(old.keyId);
    expect((await keys.getByEmail('expired@example.com'))?.state).toBe('active');
  });

  it('expired keys disable and remove', async () => {
    const userId = await newUser('expired-remove@example.com');
    const oldStore = new KeyStore(context, {
      keySource: pqc,
      keyLifetimeMs: DAY_MS,
      now: () => new Date('2021-06-01T00:00:00Z'),
    });
    const old = await oldStore.enroll({ userId });

    expect(await keys.disable({ userId })).toBe(true);
    expect(await keys.removeKeys({ userId })).toBe(old.keyId);
  });
});

describe('conditional-update path', () => {
  it('enrolls, rejects re-enrollment and rotates', async () => {
    const conditional = new KeyStore(
      { ...context, server: { ...context.server, atomicUpdates: true } },
      { keySource: pqc },
    );
    const userId = await newUser('conditional@example.com');

    const first = await conditional.enroll({ userId });
    expect(await codeOf(conditional.enroll({ userId }))).toBe('ERR_STORE_CONFLICT');
    const second = await conditional.rotate({ userId });

    expect((await storedUser(userId)).pqcKeyId).toBe(second.keyId);
    expect((await historyOf(userId)).map((entry) => [entry._id, entry.status])).toEqual([
      [first.keyId, 'retired'],
      [second.keyId, 'current'],
    ]);
  });
});

describe('repairPendingKeys', () => {
  function record(userId: ObjectId, createdAt: Date) {
    const kem = pqc.kem('ML-KEM-768').keygen().publicKey;
    const signature = pqc.signature('ML-DSA-65').keygen().publicKey;
    return buildKeyRecord(
      userId,
      { kemPublicKey: kem, signaturePublicKey: signature },
      createdAt,
      new Date(createdAt.getTime() + DAY_MS),
    );
  }

  it('deletes entries no user references', async () => {
    const userId = await newUser('crash-before@example.com');
    const orphan = record(userId, new Date());
    await insertPendingKey(context, orphan.history);

    const report = await keys.repairPendingKeys();

    expect(report.discarded).toBe(1);
    expect(await historyOf(userId)).toHaveLength(0);
    expect((await storedUser(userId)).pqcKeyId).toBeUndefined();
  });

  it('promotes referenced entries', async () => {
    const userId = await newUser('crash-after@example.com');
    const old = await keys.enroll({ userId });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const next = record(userId, new Date());
    await insertPendingKey(context, next.history);
    await context.users.updateOne({ _id: userId }, { $set: next.userFields });

    const report = await keys.repairPendingKeys();

    expect(report.promoted).toBe(1);
    expect(report.retired).toBe(1);
    const history = await historyOf(userId);
    expect(history.map((entry) => [entry._id, entry.status])).toEqual([
      [old.keyId, 'retired'],
      [next.keyId, 'current'],
    ]);
    expect(await context.pqcKeys.countDocuments({ status: 'pending' })).toBe(0);
  });

  it('leaves fresh entries with minAgeMs', async () => {
    const userId = await newUser('crash-fresh@example.com');
    await insertPendingKey(context, record(userId, new Date()).history);

    const report = await keys.repairPendingKeys({ minAgeMs: 60_000 });

    expect(report.discarded).toBe(0);
    expect(await historyOf(userId)).toHaveLength(1);
    expect((await keys.repairPendingKeys()).discarded).toBe(1);
  });
});

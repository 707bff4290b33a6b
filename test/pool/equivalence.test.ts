// The pool must return exactly what the in-thread core returns for the same seeds and
// randomness, for single calls and for batches split across workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEM_ALGORITHMS, loadPqc, SIGNATURE_ALGORITHMS } from '../../src/index.js';
import type { PqcInstance } from '../../src/index.js';
import type { PqcPool, VerifyItem } from '../../src/pool/index.js';
import { pattern, startPool } from './helpers.js';

let pool: PqcPool;
let pqc: PqcInstance;

beforeAll(async () => {
  [pool, pqc] = await Promise.all([startPool({ size: 2 }), loadPqc()]);
});

afterAll(async () => {
  await pool?.close();
});

describe('pool metadata', () => {
  it('reports the liboqs version and lengths of the core', () => {
    expect(pool.liboqsVersion).toBe(pqc.liboqsVersion);
    expect(pool.size).toBe(2);
    for (const name of KEM_ALGORITHMS) {
      const { publicKeyLength, secretKeyLength, ciphertextLength, sharedSecretLength, seedLength } =
        pqc.kem(name);
      expect(pool.kem(name)).toMatchObject({
        name,
        publicKeyLength,
        secretKeyLength,
        ciphertextLength,
        sharedSecretLength,
        seedLength,
      });
    }
    for (const name of SIGNATURE_ALGORITHMS) {
      const { publicKeyLength, secretKeyLength, signatureLength, seedLength } = pqc.signature(name);
      expect(pool.signature(name)).toMatchObject({
        name,
        publicKeyLength,
        secretKeyLength,
        signatureLength,
        seedLength,
      });
    }
  });
});

describe.each(KEM_ALGORITHMS)('%s in the pool', (name) => {
  it('matches the core for seeded keygen, encapsulate and decapsulate', async () => {
    const kem = pool.kem(name);
    const core = pqc.kem(name);
    const seed = pattern(64, 1);
    const message = pattern(32, 100);

    const pooled = await kem.keygen(seed);
    const expected = core.keygen(seed);
    expect(pooled.publicKey).toEqual(expected.publicKey);
    expect(pooled.secretKey).toEqual(expected.secretKey);
    expect(pooled.seed).toEqual(seed);

    const encapsulation = await kem.encapsulate(pooled.publicKey, message);
    const expectedEncapsulation = core.encapsulate(expected.publicKey, message);
    expect(encapsulation.ciphertext).toEqual(expectedEncapsulation.ciphertext);
    expect(encapsulation.sharedSecret).toEqual(expectedEncapsulation.sharedSecret);

    const sharedSecret = await kem.decapsulate(encapsulation.ciphertext, pooled.secretKey);
    expect(sharedSecret).toEqual(expectedEncapsulation.sharedSecret);
  });

  it('matches the core for batches split across workers', async () => {
    const kem = pool.kem(name);
    const core = pqc.kem(name);
    const seeds = Array.from({ length: 13 }, (_, i) => pattern(64, i * 7));
    const randomness = seeds.map((_, i) => pattern(32, 200 + i));

    const pairs = await kem.keygenBatch(seeds);
    expect(pairs).toHaveLength(seeds.length);
    pairs.forEach((pair, i) => {
      const expected = core.keygen(seeds[i]);
      expect(pair.publicKey).toEqual(expected.publicKey);
      expect(pair.secretKey).toEqual(expected.secretKey);
    });

    const publicKeys = pairs.map((pair) => pair.publicKey);
    const encapsulations = await kem.encapsulateBatch(publicKeys, { randomness });
    encapsulations.forEach((encapsulation, i) => {
      const expected = core.encapsulate(publicKeys[i]!, randomness[i]);
      expect(encapsulation.ciphertext).toEqual(expected.ciphertext);
      expect(encapsulation.sharedSecret).toEqual(expected.sharedSecret);
    });

    // Every ciphertext is for the first key pair here, so one secret key decapsulates them all.
    const toFirst = await kem.encapsulateBatch(
      publicKeys.map(() => publicKeys[0]!),
      { randomness },
    );
    const secrets = await kem.decapsulateBatch(
      toFirst.map((encapsulation) => encapsulation.ciphertext),
      pairs[0]!.secretKey,
    );
    expect(secrets).toEqual(toFirst.map((encapsulation) => encapsulation.sharedSecret));
  });

  it('generates distinct random key pairs by count', async () => {
    const pairs = await pool.kem(name).keygenBatch(9);
    expect(pairs).toHaveLength(9);
    const distinct = new Set(pairs.map((pair) => Buffer.from(pair.seed).toString('hex')));
    expect(distinct.size).toBe(9);
    const { sharedSecret, ciphertext } = pqc.kem(name).encapsulate(pairs[8]!.publicKey);
    expect(pqc.kem(name).decapsulate(ciphertext, pairs[8]!.secretKey)).toEqual(sharedSecret);
  });
});

describe.each(SIGNATURE_ALGORITHMS)('%s in the pool', (name) => {
  it('matches the core for seeded keygen and sign with randomness and context', async () => {
    const scheme = pool.signature(name);
    const core = pqc.signature(name);
    const seed = pattern(32, 3);
    const message = new TextEncoder().encode('message signed in a worker');
    const context = new TextEncoder().encode('pool test');
    const randomness = pattern(32, 50);

    const pooled = await scheme.keygen(seed);
    const expected = core.keygen(seed);
    expect(pooled.publicKey).toEqual(expected.publicKey);
    expect(pooled.secretKey).toEqual(expected.secretKey);

    const signature = await scheme.sign(message, pooled.secretKey, { context, randomness });
    expect(signature).toEqual(core.sign(message, expected.secretKey, { context, randomness }));

    await expect(scheme.verify(message, signature, pooled.publicKey, { context })).resolves.toBe(
      true,
    );
    await expect(scheme.verify(message, signature, pooled.publicKey)).resolves.toBe(false);
    expect(core.verify(message, signature, expected.publicKey, { context })).toBe(true);
  });

  it('matches the core for batches split across workers', async () => {
    const scheme = pool.signature(name);
    const core = pqc.signature(name);
    const seeds = Array.from({ length: 11 }, (_, i) => pattern(32, i * 5));
    const pairs = await scheme.keygenBatch(seeds);
    pairs.forEach((pair, i) => {
      expect(pair.publicKey).toEqual(core.keygen(seeds[i]).publicKey);
    });

    const messages = seeds.map((_, i) => pattern(10 + i * 100, i));
    const randomness = seeds.map((_, i) => pattern(32, 90 + i));
    const context = pattern(255, 9);
    const secretKey = pairs[0]!.secretKey;
    const signatures = await scheme.signBatch(messages, secretKey, { context, randomness });
    signatures.forEach((signature, i) => {
      expect(signature).toEqual(
        core.sign(messages[i]!, secretKey, { context, randomness: randomness[i] }),
      );
    });

    const items: VerifyItem[] = messages.map((message, i) => ({
      message,
      signature: signatures[i]!,
      publicKey: pairs[0]!.publicKey,
      context,
    }));
    // Break every third item: a wrong key, a flipped signature bit, or a missing context.
    items[1] = { ...items[1]!, publicKey: pairs[1]!.publicKey };
    const flipped = signatures[4]!.slice();
    flipped[0]! ^= 1;
    items[4] = { ...items[4]!, signature: flipped };
    const { context: _dropped, ...withoutContext } = items[7]!;
    items[7] = withoutContext;

    const verdicts = await scheme.verifyBatch(items);
    const expected = items.map((item) =>
      core.verify(item.message, item.signature, item.publicKey, { context: item.context }),
    );
    expect(verdicts).toEqual(expected);
    expect(verdicts.filter((verdict) => !verdict)).toHaveLength(3);
  });
});

describe('empty batches', () => {
  it('resolve to empty arrays', async () => {
    await expect(pool.kem('ML-KEM-512').keygenBatch(0)).resolves.toEqual([]);
    await expect(pool.kem('ML-KEM-512').encapsulateBatch([])).resolves.toEqual([]);
    await expect(pool.signature('ML-DSA-44').verifyBatch([])).resolves.toEqual([]);
  });
});

describe('transfer option', () => {
  it('detaches whole-buffer inputs and keeps views', async () => {
    const kem = pool.kem('ML-KEM-512');
    const seed = pattern(64, 40);
    const expected = pqc.kem('ML-KEM-512').keygen(pattern(64, 40));
    const backing = new Uint8Array(128);
    backing.set(pattern(64, 40), 32);
    const view = backing.subarray(32, 96);

    const transferred = await kem.keygen(seed, { transfer: true });
    const copied = await kem.keygen(view, { transfer: true });

    expect(seed.byteLength).toBe(0);
    expect(view.byteLength).toBe(64);
    expect(view).toEqual(pattern(64, 40));
    expect(transferred.publicKey).toEqual(expected.publicKey);
    expect(copied.publicKey).toEqual(expected.publicKey);
  });

  it('copies a secret key shared by several tasks', async () => {
    const scheme = pool.signature('ML-DSA-44');
    const { secretKey, publicKey } = pqc.signature('ML-DSA-44').keygen(pattern(32, 8));
    const messages = Array.from({ length: 6 }, (_, i) => pattern(16, i));

    const signatures = await scheme.signBatch(messages, secretKey, { transfer: true });

    expect(secretKey.byteLength).toBe(2560);
    expect(messages.every((message) => message.byteLength === 0)).toBe(true);
    const verdicts = signatures.map((signature, i) =>
      pqc.signature('ML-DSA-44').verify(pattern(16, i), signature, publicKey),
    );
    expect(verdicts).toEqual(messages.map(() => true));
  });

  it('gives every result a buffer of its own', async () => {
    const pairs = await pool.kem('ML-KEM-768').keygenBatch(3);

    for (const pair of pairs) {
      for (const value of [pair.publicKey, pair.secretKey, pair.seed]) {
        expect(value.byteOffset).toBe(0);
        expect(value.buffer.byteLength).toBe(value.byteLength);
      }
    }
  });
});

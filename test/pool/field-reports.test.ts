// Inputs that broke other post-quantum libraries, sent through the worker pool: malformed
// signatures and keys in verify, and context strings at and beyond the FIPS 204 limit of 255
// bytes. The in-thread core runs the same checks in test/core/field-reports.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextTooLongError, loadPqc } from '../../src/index.js';
import type { KeyPair, PqcInstance } from '../../src/index.js';
import type { PqcPool } from '../../src/pool/index.js';
import { hex, loadWycheproof, toHex } from '../helpers/vectors.js';
import { pattern, rejectionOf, startPool } from './helpers.js';

const POOL_SIZE = 2;

let pool: PqcPool;
let pqc: PqcInstance;
let keys: KeyPair;

beforeAll(async () => {
  [pool, pqc] = await Promise.all([startPool({ size: POOL_SIZE }), loadPqc()]);
  keys = pqc.signature('ML-DSA-65').keygen(pattern(32, 21));
});

afterAll(async () => {
  await pool?.close();
});

describe('pooled ML-DSA verify on malformed signatures', () => {
  it('resolves to false and never rejects', async () => {
    const dsa = pool.signature('ML-DSA-65');
    const message = new TextEncoder().encode('malformed signatures');
    const signature = await dsa.sign(message, keys.secretKey);
    const lastBitFlipped = signature.slice();
    lastBitFlipped[lastBitFlipped.length - 1]! ^= 0x80;
    const candidates: Array<[string, Uint8Array]> = [
      ['last byte removed', signature.slice(0, signature.length - 1)],
      ['one byte appended', Uint8Array.from([...signature, 0])],
      ['empty', new Uint8Array(0)],
      ['3309 bytes of 0xFF', new Uint8Array(3309).fill(0xff)],
      ['last bit flipped', lastBitFlipped],
    ];

    for (const [label, candidate] of candidates) {
      await expect(dsa.verify(message, candidate, keys.publicKey), label).resolves.toBe(false);
    }
    const shortKey = keys.publicKey.slice(0, keys.publicKey.length - 1);
    await expect(dsa.verify(message, signature, shortKey)).resolves.toBe(false);
    await expect(dsa.verify(message, signature, keys.publicKey)).resolves.toBe(true);
  });

  it('resolves to false in a batch', async () => {
    const dsa = pool.signature('ML-DSA-65');
    const message = new TextEncoder().encode('malformed signatures in a batch');
    const signature = await dsa.sign(message, keys.secretKey);
    const shortKey = keys.publicKey.slice(0, keys.publicKey.length - 1);

    const results = await dsa.verifyBatch([
      { message, signature: signature.slice(0, -1), publicKey: keys.publicKey },
      { message, signature: Uint8Array.from([...signature, 0]), publicKey: keys.publicKey },
      { message, signature: new Uint8Array(0), publicKey: keys.publicKey },
      { message, signature: new Uint8Array(3309).fill(0xff), publicKey: keys.publicKey },
      { message, signature, publicKey: shortKey },
      { message, signature, publicKey: keys.publicKey },
    ]);

    expect(results).toEqual([false, false, false, false, false, true]);
  });
});

describe('pooled ML-DSA context length limit', () => {
  it('rejects over 255 bytes, pool survives', async () => {
    const dsa = pool.signature('ML-DSA-65');
    const empty = new Uint8Array(0);

    const tooLong = await rejectionOf(
      dsa.sign(empty, keys.secretKey, { context: new Uint8Array(256) }),
    );
    expect(tooLong).toBeInstanceOf(ContextTooLongError);
    expect((tooLong as ContextTooLongError).code).toBe('ERR_CONTEXT_TOO_LONG');
    const signature = await dsa.sign(empty, keys.secretKey);
    const verifyError = await rejectionOf(
      dsa.verify(empty, signature, keys.publicKey, { context: new Uint8Array(256) }),
    );
    expect((verifyError as ContextTooLongError).code).toBe('ERR_CONTEXT_TOO_LONG');

    const huge = await rejectionOf(
      dsa.sign(empty, keys.secretKey, { context: new Uint8Array(100_000) }),
    );
    expect(huge).toBeInstanceOf(ContextTooLongError);
    expect((huge as ContextTooLongError).code).toBe('ERR_CONTEXT_TOO_LONG');
    expect(huge.message).toContain('got 100000');
    expect(pool.stats.workers).toBe(POOL_SIZE);

    const context = new Uint8Array(255).fill(7);
    const message = new Uint8Array(1024 * 1024).fill(1);
    const large = await dsa.sign(message, keys.secretKey, { context });
    expect(large).toHaveLength(dsa.signatureLength);
    await expect(dsa.verify(message, large, keys.publicKey, { context })).resolves.toBe(true);
    const core = pqc.signature('ML-DSA-65');
    expect(core.verify(message, large, keys.publicKey, { context })).toBe(true);

    // The next ten operations on the same pool: seeded key generation, compared with the core.
    for (let i = 0; i < 10; i++) {
      const seed = pattern(32, 40 + i);
      const pooled = await dsa.keygen(seed);
      const expected = core.keygen(seed);
      expect(pooled.publicKey, `keygen ${i}`).toEqual(expected.publicKey);
      expect(pooled.secretKey, `keygen ${i}`).toEqual(expected.secretKey);
    }
    expect(pool.stats.workers).toBe(POOL_SIZE);
  });

  it('signs Wycheproof vectors after a rejected context', async () => {
    const dsa = pool.signature('ML-DSA-65');
    await expect(
      dsa.sign(new Uint8Array(0), keys.secretKey, { context: new Uint8Array(100_000) }),
    ).rejects.toThrow(ContextTooLongError);

    const group = loadWycheproof('mldsa_65_sign_seed_test').testGroups[0]!;
    const vectors = group.tests
      .filter((test) => test.msg !== undefined && test.result === 'valid')
      .slice(0, 10);
    expect(vectors).toHaveLength(10);
    const vectorKeys = await dsa.keygen(hex(group.privateSeed));
    for (const vector of vectors) {
      const options = {
        randomness: vector.rnd === undefined ? new Uint8Array(32) : hex(vector.rnd),
        context: vector.ctx === undefined ? undefined : hex(vector.ctx),
      };
      const signature = await dsa.sign(hex(vector.msg), vectorKeys.secretKey, options);
      expect(toHex(signature), `tcId ${vector.tcId}`).toBe(vector.sig);
    }
  });
});

// Inputs that broke other post-quantum libraries, each checked against the shipped module.
import { beforeAll, describe, expect, it } from 'vitest';
import { ContextTooLongError, InvalidArgumentError, isPqcError, loadPqc, PqcError } from '../../src/index.js';
import type { PqcInstance } from '../../src/index.js';
import { hex, loadWycheproof, toHex } from '../helpers/vectors.js';

let pqc: PqcInstance;
beforeAll(async () => {
  pqc = await loadPqc();
});

function codeOf(operation: () => unknown): string {
  try {
    operation();
  } catch (error) {
    if (isPqcError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

/** Re-packs coefficient 0 of an ML-KEM public key (12 bits in bytes 0 and 1) as `value`. */
function withFirstCoefficient(publicKey: Uint8Array, value: number): Uint8Array {
  const copy = publicKey.slice();
  copy[0] = value & 0xff;
  copy[1] = (copy[1]! & 0xf0) | (value >> 8);
  return copy;
}

describe('ML-KEM encapsulation key with a coefficient equal to q', () => {
  it('rejects 3329, accepts 3328, rejects all 0xFF', () => {
    const kem = pqc.kem('ML-KEM-768');
    const { publicKey } = kem.keygen();
    expect(codeOf(() => kem.encapsulate(withFirstCoefficient(publicKey, 3329)))).toBe(
      'ERR_INVALID_PUBLIC_KEY',
    );
    const boundary = kem.encapsulate(withFirstCoefficient(publicKey, 3328));
    expect(boundary.ciphertext).toHaveLength(1088);
    expect(codeOf(() => kem.encapsulate(new Uint8Array(1184).fill(0xff)))).toBe('ERR_INVALID_PUBLIC_KEY');
  });
});

describe('ML-KEM decapsulation key integrity', () => {
  it('rejects a flipped hash, a flipped embedded key and wrong lengths', () => {
    const kem = pqc.kem('ML-KEM-768');
    const keys = kem.keygen();
    const { ciphertext } = kem.encapsulate(keys.publicKey);
    const flipped = (offset: number) => {
      const copy = keys.secretKey.slice();
      copy[offset]! ^= 0x01;
      return copy;
    };
    expect(codeOf(() => kem.decapsulate(ciphertext, flipped(2336)))).toBe('ERR_INVALID_PRIVATE_KEY');
    expect(codeOf(() => kem.decapsulate(ciphertext, flipped(2367)))).toBe('ERR_INVALID_PRIVATE_KEY');
    expect(codeOf(() => kem.decapsulate(ciphertext, flipped(1152)))).toBe('ERR_INVALID_PRIVATE_KEY');
    expect(codeOf(() => kem.decapsulate(ciphertext, flipped(2335)))).toBe('ERR_INVALID_PRIVATE_KEY');
    expect(codeOf(() => kem.decapsulate(ciphertext, keys.secretKey.subarray(0, 2399)))).toBe(
      'ERR_INVALID_LENGTH',
    );
    expect(codeOf(() => kem.decapsulate(ciphertext, new Uint8Array(2401)))).toBe('ERR_INVALID_LENGTH');
    expect(codeOf(() => kem.decapsulate(ciphertext.subarray(0, 1087), keys.secretKey))).toBe(
      'ERR_INVALID_LENGTH',
    );
  });
});

describe('ML-DSA verify on malformed signatures', () => {
  it('returns false and never throws', () => {
    const dsa = pqc.signature('ML-DSA-65');
    const keys = dsa.keygen();
    const message = new TextEncoder().encode('malformed signatures');
    const signature = dsa.sign(message, keys.secretKey);
    const lastBitFlipped = signature.slice();
    lastBitFlipped[lastBitFlipped.length - 1]! ^= 0x80;
    const candidates = [
      signature.subarray(0, signature.length - 1),
      new Uint8Array([...signature, 0]),
      new Uint8Array(0),
      new Uint8Array(3309).fill(0xff),
      lastBitFlipped,
    ];
    for (const candidate of candidates) {
      expect(dsa.verify(message, candidate, keys.publicKey)).toBe(false);
    }
    expect(dsa.verify(message, signature, keys.publicKey.subarray(0, keys.publicKey.length - 1))).toBe(false);
    expect(dsa.verify(message, signature, keys.publicKey)).toBe(true);
  });
});

describe('ML-DSA context and randomness as named options', () => {
  it('rejects a byte array in the options position', () => {
    const dsa = pqc.signature('ML-DSA-65');
    const keys = dsa.keygen();
    const randomBytes = crypto.getRandomValues(new Uint8Array(32));
    const sign = dsa.sign as (...args: unknown[]) => Uint8Array;
    expect(() => sign.call(dsa, new Uint8Array(1), keys.secretKey, randomBytes)).toThrow(InvalidArgumentError);
    expect(codeOf(() => sign.call(dsa, new Uint8Array(1), keys.secretKey, randomBytes))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('binds the context, and deterministic signing matches a FIPS 204 vector', () => {
    const dsa = pqc.signature('ML-DSA-65');
    const keys = dsa.keygen();
    const message = new TextEncoder().encode('context binding');
    const context = crypto.getRandomValues(new Uint8Array(32));
    const signature = dsa.sign(message, keys.secretKey, { context });
    expect(dsa.verify(message, signature, keys.publicKey)).toBe(false);
    expect(dsa.verify(message, signature, keys.publicKey, { context })).toBe(true);

    const group = loadWycheproof('mldsa_65_sign_seed_test').testGroups[0]!;
    const vector = group.tests.find((test) => test.msg !== undefined && test.rnd === undefined && test.result === 'valid')!;
    const vectorKeys = dsa.keygen(hex(group.privateSeed));
    const options = { randomness: new Uint8Array(32), context: vector.ctx === undefined ? undefined : hex(vector.ctx) };
    const first = dsa.sign(hex(vector.msg), vectorKeys.secretKey, options);
    const second = dsa.sign(hex(vector.msg), vectorKeys.secretKey, options);
    expect(toHex(first)).toBe(toHex(second));
    expect(toHex(first)).toBe(vector.sig);

    const hedgedA = dsa.sign(message, keys.secretKey);
    const hedgedB = dsa.sign(message, keys.secretKey);
    expect(toHex(hedgedA)).not.toBe(toHex(hedgedB));
    expect(dsa.verify(message, hedgedA, keys.publicKey)).toBe(true);
    expect(dsa.verify(message, hedgedB, keys.publicKey)).toBe(true);
  });
});

describe('ML-DSA context length limit', () => {
  it('rejects over 255 bytes, heap intact', () => {
    const dsa = pqc.signature('ML-DSA-65');
    const keys = dsa.keygen();
    const empty = new Uint8Array(0);
    const signature = dsa.sign(empty, keys.secretKey);
    expect(() => dsa.sign(empty, keys.secretKey, { context: new Uint8Array(256) })).toThrow(ContextTooLongError);
    expect(() => dsa.verify(empty, signature, keys.publicKey, { context: new Uint8Array(256) })).toThrow(
      ContextTooLongError,
    );
    expect(codeOf(() => dsa.sign(empty, keys.secretKey, { context: new Uint8Array(100_000) }))).toBe(
      'ERR_CONTEXT_TOO_LONG',
    );

    const context = new Uint8Array(255).fill(7);
    const message = new Uint8Array(1024 * 1024).fill(1);
    const large = dsa.sign(message, keys.secretKey, { context });
    expect(dsa.verify(message, large, keys.publicKey, { context })).toBe(true);

    const group = loadWycheproof('mldsa_65_sign_seed_test').testGroups[0]!;
    const vectors = group.tests.filter((test) => test.msg !== undefined && test.result === 'valid').slice(0, 10);
    expect(vectors).toHaveLength(10);
    const vectorKeys = dsa.keygen(hex(group.privateSeed));
    for (const vector of vectors) {
      const options = {
        randomness: vector.rnd === undefined ? new Uint8Array(32) : hex(vector.rnd),
        context: vector.ctx === undefined ? undefined : hex(vector.ctx),
      };
      expect(toHex(dsa.sign(hex(vector.msg), vectorKeys.secretKey, options))).toBe(vector.sig);
    }
  });
});

describe('error messages', () => {
  it('carry no key bytes', () => {
    const kem = pqc.kem('ML-KEM-768');
    const keys = kem.keygen();
    const bad = withFirstCoefficient(keys.publicKey, 3329);
    let caught: unknown;
    try {
      kem.encapsulate(bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PqcError);
    const message = (caught as Error).message;
    expect(message).not.toContain(toHex(bad.subarray(0, 8)));
    expect(message).not.toContain(Buffer.from(bad.subarray(0, 8)).toString('base64'));
  });
});

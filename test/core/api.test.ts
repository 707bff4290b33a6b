import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidLengthError,
  isPqcError,
  KEM_ALGORITHMS,
  loadPqc,
  SIGNATURE_ALGORITHMS,
  UnknownAlgorithmError,
} from '../../src/index.js';
import type { KemAlgorithm, PqcInstance, SignatureAlgorithm } from '../../src/index.js';

let pqc: PqcInstance;
beforeAll(async () => {
  pqc = await loadPqc();
});

const noble = { 'ML-KEM-512': ml_kem512, 'ML-KEM-768': ml_kem768, 'ML-KEM-1024': ml_kem1024 };

describe('algorithm objects', () => {
  it('expose FIPS 203 and FIPS 204 lengths', () => {
    expect(pqc.kem('ML-KEM-768')).toMatchObject({
      publicKeyLength: 1184,
      secretKeyLength: 2400,
      ciphertextLength: 1088,
      sharedSecretLength: 32,
      seedLength: 64,
    });
    expect(pqc.signature('ML-DSA-65')).toMatchObject({
      publicKeyLength: 1952,
      secretKeyLength: 4032,
      signatureLength: 3309,
      seedLength: 32,
    });
    expect(pqc.liboqsVersion).toBe('0.13.0');
  });

  it('reject unknown names with the list of known ones', () => {
    expect(() => pqc.kem('Kyber768' as KemAlgorithm)).toThrow(UnknownAlgorithmError);
    expect(() => pqc.signature('Dilithium3' as SignatureAlgorithm)).toThrow(/ML-DSA-65/);
  });
});

describe('bad input', () => {
  it('names the parameter, expected and actual length', () => {
    const kem = pqc.kem('ML-KEM-768');
    let caught: unknown;
    try {
      kem.encapsulate(new Uint8Array(1183));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidLengthError);
    expect((caught as InvalidLengthError).code).toBe('ERR_INVALID_LENGTH');
    expect((caught as Error).message).toBe('publicKey must be 1184 bytes for ML-KEM-768, got 1183');
  });

  it('rejects values that are not Uint8Array', () => {
    const kem = pqc.kem('ML-KEM-512');
    const dsa = pqc.signature('ML-DSA-44');
    const inputs: unknown[] = ['abc', null, [1, 2, 3], 42, new ArrayBuffer(800)];
    for (const input of inputs) {
      const call = () => kem.encapsulate(input as Uint8Array);
      expect(call).toThrow(/publicKey must be a Uint8Array/);
      expect(() => dsa.sign(input as Uint8Array, new Uint8Array(2560))).toThrow(/message must be a Uint8Array/);
    }
  });

  it('rejects seeds and randomness of the wrong length', () => {
    const kem = pqc.kem('ML-KEM-1024');
    const dsa = pqc.signature('ML-DSA-87');
    const keys = kem.keygen();
    expect(() => kem.keygen(new Uint8Array(32))).toThrow('seed must be 64 bytes for ML-KEM-1024, got 32');
    expect(() => kem.encapsulate(keys.publicKey, new Uint8Array(31))).toThrow(/randomness must be 32 bytes/);
    expect(() => dsa.keygen(new Uint8Array(64))).toThrow('seed must be 32 bytes for ML-DSA-87, got 64');
    const dsaKeys = dsa.keygen();
    expect(() => dsa.sign(new Uint8Array(1), dsaKeys.secretKey, { randomness: new Uint8Array(33) })).toThrow(
      /randomness must be 32 bytes/,
    );
  });

  it('keeps answering correctly after every kind of rejection', () => {
    const kem = pqc.kem('ML-KEM-768');
    const seed = new Uint8Array(64).fill(3);
    const expected = ml_kem768.keygen(seed);
    const failures = [
      () => kem.encapsulate(new Uint8Array(1184).fill(0xff)),
      () => kem.decapsulate(new Uint8Array(1088), new Uint8Array(2400).fill(9)),
      () => kem.keygen(new Uint8Array(1)),
      () => pqc.signature('ML-DSA-65').sign(new Uint8Array(0), new Uint8Array(4032).fill(0xff)),
    ];
    for (const failure of failures) {
      expect(failure).toThrow();
      const keys = kem.keygen(seed);
      expect(keys.publicKey).toEqual(expected.publicKey);
      const { ciphertext, sharedSecret } = kem.encapsulate(keys.publicKey);
      expect(kem.decapsulate(ciphertext, keys.secretKey)).toEqual(sharedSecret);
    }
  });
});

describe('implicit rejection', () => {
  it('returns the FIPS 203 rejection secret for a tampered ciphertext', () => {
    const kem = pqc.kem('ML-KEM-768');
    const seed = crypto.getRandomValues(new Uint8Array(64));
    const keys = kem.keygen(seed);
    const { ciphertext, sharedSecret } = kem.encapsulate(keys.publicKey);
    const tampered = ciphertext.slice();
    tampered[0]! ^= 1;
    const rejected = kem.decapsulate(tampered, keys.secretKey);
    expect(rejected).not.toEqual(sharedSecret);
    expect(rejected).toEqual(ml_kem768.decapsulate(tampered, keys.secretKey));
  });
});

describe('interoperability with @noble/post-quantum', () => {
  for (const name of KEM_ALGORITHMS) {
    it(`${name}: same keys from one seed, each side decapsulates the other`, () => {
      const kem = pqc.kem(name);
      const seed = crypto.getRandomValues(new Uint8Array(64));
      const ours = kem.keygen(seed);
      const theirs = noble[name].keygen(seed);
      expect(ours.publicKey).toEqual(theirs.publicKey);
      expect(ours.secretKey).toEqual(theirs.secretKey);
      expect(ours.seed).toEqual(seed);

      const toNoble = kem.encapsulate(ours.publicKey);
      expect(noble[name].decapsulate(toNoble.ciphertext, theirs.secretKey)).toEqual(toNoble.sharedSecret);
      const fromNoble = noble[name].encapsulate(theirs.publicKey);
      expect(kem.decapsulate(fromNoble.cipherText, ours.secretKey)).toEqual(fromNoble.sharedSecret);
    });
  }

  it('ML-DSA-65: same keys from one seed, each side verifies the other', () => {
    const dsa = pqc.signature('ML-DSA-65');
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const ours = dsa.keygen(seed);
    const theirs = ml_dsa65.keygen(seed);
    expect(ours.publicKey).toEqual(theirs.publicKey);
    expect(ours.secretKey).toEqual(theirs.secretKey);

    const message = new TextEncoder().encode('interop');
    const context = new Uint8Array([1, 2, 3]);
    const ourSignature = dsa.sign(message, ours.secretKey, { context });
    expect(ml_dsa65.verify(ourSignature, message, theirs.publicKey, { context })).toBe(true);
    const theirSignature = ml_dsa65.sign(message, theirs.secretKey, { context });
    expect(dsa.verify(message, theirSignature, ours.publicKey, { context })).toBe(true);

    const deterministic = dsa.sign(message, ours.secretKey, { context, randomness: new Uint8Array(32) });
    expect(deterministic).toEqual(ml_dsa65.sign(message, theirs.secretKey, { context, extraEntropy: false }));
  });

  it('matches deterministic signatures for every ML-DSA parameter set', () => {
    const nobleDsa = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 };
    for (const name of SIGNATURE_ALGORITHMS) {
      const seed = crypto.getRandomValues(new Uint8Array(32));
      const ours = pqc.signature(name).keygen(seed);
      const theirs = nobleDsa[name].keygen(seed);
      expect(ours.publicKey).toEqual(theirs.publicKey);
      const message = crypto.getRandomValues(new Uint8Array(77));
      const signature = pqc.signature(name).sign(message, ours.secretKey, { randomness: new Uint8Array(32) });
      expect(signature).toEqual(nobleDsa[name].sign(message, theirs.secretKey, { extraEntropy: false }));
    }
  });
});

describe('secret clearing', () => {
  it('leaves the shadow stack and the I/O area zeroed after every operation', () => {
    const runtime = pqc.runtime;
    const check = () => expect(runtime.countDirtyStackBytes()).toBe(0);
    for (const name of KEM_ALGORITHMS) {
      const kem = pqc.kem(name);
      const keys = kem.keygen();
      check();
      const { ciphertext } = kem.encapsulate(keys.publicKey);
      check();
      kem.decapsulate(ciphertext, keys.secretKey);
      check();
      const bad = keys.secretKey.slice();
      bad[bad.length - 40]! ^= 1;
      expect(() => kem.decapsulate(ciphertext, bad)).toThrow();
      check();
    }
    for (const name of SIGNATURE_ALGORITHMS) {
      const dsa = pqc.signature(name);
      const keys = dsa.keygen();
      check();
      const signature = dsa.sign(new Uint8Array(100), keys.secretKey);
      check();
      dsa.verify(new Uint8Array(100), signature, keys.publicKey);
      check();
    }
    const memory = runtime.view();
    const keys = pqc.kem('ML-KEM-768').keygen();
    const needle = Buffer.from(keys.secretKey.subarray(0, 32));
    expect(Buffer.from(memory.buffer, memory.byteOffset, memory.byteLength).indexOf(needle)).toBe(-1);
  });

  it('clears the I/O area when an input check fails inside liboqs', () => {
    const kem = pqc.kem('ML-KEM-512');
    const keys = kem.keygen();
    const { ciphertext } = kem.encapsulate(keys.publicKey);
    const corrupted = keys.secretKey.slice();
    corrupted[800]! ^= 1;
    let caught: unknown;
    try {
      kem.decapsulate(ciphertext, corrupted);
    } catch (error) {
      caught = error;
    }
    expect(isPqcError(caught, 'ERR_INVALID_PRIVATE_KEY')).toBe(true);
    const memory = pqc.runtime.view();
    const needle = Buffer.from(corrupted.subarray(0, 32));
    expect(Buffer.from(memory.buffer, memory.byteOffset, memory.byteLength).indexOf(needle)).toBe(-1);
    expect(pqc.runtime.countDirtyStackBytes()).toBe(0);
  });
});

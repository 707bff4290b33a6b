// Errors raised inside a worker must reach the caller as the SDK's own classes, with the code,
// name and message the in-thread core gives, and without key bytes in the message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContextTooLongError,
  InvalidArgumentError,
  InvalidLengthError,
  InvalidPrivateKeyError,
  InvalidPublicKeyError,
  loadPqc,
  PqcError,
  UnknownAlgorithmError,
} from '../../src/index.js';
import type { KemAlgorithm, PqcInstance } from '../../src/index.js';
import type { PqcPool } from '../../src/pool/index.js';
import { pattern, rejectionOf, startPool } from './helpers.js';

let pool: PqcPool;
let pqc: PqcInstance;

beforeAll(async () => {
  [pool, pqc] = await Promise.all([startPool({ size: 2 }), loadPqc()]);
});

afterAll(async () => {
  await pool?.close();
});

/** Returns the error `run` throws. */
function thrownBy(run: () => unknown, label = 'the call'): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected ${label} to throw`);
}

/** Asserts that no 8-byte window of `key` appears in `text` as hex or base64. */
function expectNoKeyBytes(text: string, key: Uint8Array): void {
  expect(text).not.toMatch(/[0-9a-f]{32,}/i);
  for (let offset = 0; offset + 8 <= key.length; offset += 8) {
    const window = Buffer.from(key.subarray(offset, offset + 8));
    expect(text).not.toContain(window.toString('hex'));
    expect(text).not.toContain(window.toString('base64').slice(0, 10));
  }
}

describe('worker errors', () => {
  it('rejects a 10-byte ciphertext as InvalidLengthError', async () => {
    const { secretKey } = pqc.kem('ML-KEM-768').keygen();
    const ciphertext = pattern(10, 0);

    const error = await rejectionOf(pool.kem('ML-KEM-768').decapsulate(ciphertext, secretKey));
    const expected = thrownBy(() => pqc.kem('ML-KEM-768').decapsulate(ciphertext, secretKey));

    expect(error).toBeInstanceOf(InvalidLengthError);
    expect(error).toBeInstanceOf(PqcError);
    expect(error).toBeInstanceOf(Error);
    expect((error as InvalidLengthError).code).toBe('ERR_INVALID_LENGTH');
    expect(error.name).toBe('InvalidLengthError');
    expect(error.message).toBe(expected.message);
    expect(error).toMatchObject({ parameter: 'ciphertext', expected: 1088, actual: 10 });
    expectNoKeyBytes(error.message, secretKey);
    expectNoKeyBytes(error.stack ?? '', secretKey);
  });

  it('rejects an out-of-range coefficient as InvalidPublicKeyError', async () => {
    const { publicKey } = pqc.kem('ML-KEM-768').keygen(pattern(64, 11));
    // Re-pack the first 12-bit coefficient as q = 3329, which FIPS 203's modulus check rejects.
    const tampered = publicKey.slice();
    tampered[0] = 3329 & 0xff;
    tampered[1] = (tampered[1]! & 0xf0) | (3329 >> 8);

    const error = await rejectionOf(pool.kem('ML-KEM-768').encapsulate(tampered));
    const expected = thrownBy(() => pqc.kem('ML-KEM-768').encapsulate(tampered));

    expect(error).toBeInstanceOf(InvalidPublicKeyError);
    expect((error as PqcError).code).toBe('ERR_INVALID_PUBLIC_KEY');
    expect(error.name).toBe('InvalidPublicKeyError');
    expect(error.message).toBe(expected.message);
    expectNoKeyBytes(error.message, tampered);
  });

  it('rebuilds each class the core throws', async () => {
    const kem = pqc.kem('ML-KEM-512');
    const scheme = pqc.signature('ML-DSA-44');
    const signer = scheme.keygen(pattern(32, 1));
    const corrupted = signer.secretKey.slice();
    corrupted.fill(0xff, 64, 200);
    const kemPair = kem.keygen(pattern(64, 1));
    // Changing a byte of the encapsulation key stored in the secret key breaks its hash H(ek).
    const mixed = kemPair.secretKey.slice();
    mixed[800]! ^= 1;

    const cases: Array<
      [string, () => unknown, () => Promise<unknown>, new (...args: never[]) => Error]
    > = [
      [
        'short seed',
        () => kem.keygen(pattern(10, 0)),
        () => pool.kem('ML-KEM-512').keygen(pattern(10, 0)),
        InvalidLengthError,
      ],
      [
        'string publicKey',
        () => kem.encapsulate('key' as unknown as Uint8Array),
        () => pool.kem('ML-KEM-512').encapsulate('key' as unknown as Uint8Array),
        InvalidArgumentError,
      ],
      [
        'long context',
        () => scheme.sign(pattern(4, 0), signer.secretKey, { context: pattern(256, 0) }),
        () =>
          pool
            .signature('ML-DSA-44')
            .sign(pattern(4, 0), signer.secretKey, { context: pattern(256, 0) }),
        ContextTooLongError,
      ],
      [
        'corrupted signing key',
        () => scheme.sign(pattern(4, 0), corrupted),
        () => pool.signature('ML-DSA-44').sign(pattern(4, 0), corrupted),
        InvalidPrivateKeyError,
      ],
      [
        'decapsulation key with a wrong stored key',
        () => kem.decapsulate(kem.encapsulate(kemPair.publicKey).ciphertext, mixed),
        () =>
          pool.kem('ML-KEM-512').decapsulate(kem.encapsulate(kemPair.publicKey).ciphertext, mixed),
        InvalidPrivateKeyError,
      ],
      [
        'positional randomness',
        () => scheme.sign(pattern(4, 0), signer.secretKey, pattern(32, 0) as never),
        () =>
          pool
            .signature('ML-DSA-44')
            .sign(pattern(4, 0), signer.secretKey, pattern(32, 0) as never),
        InvalidArgumentError,
      ],
    ];

    for (const [label, inThread, pooled, errorClass] of cases) {
      const expected = thrownBy(inThread, label);
      const error = await rejectionOf(pooled());
      expect(expected, label).toBeInstanceOf(errorClass);
      expect(error, label).toBeInstanceOf(errorClass);
      expect(error.name, label).toBe(expected.name);
      expect((error as PqcError).code, label).toBe((expected as PqcError).code);
      expect(error.message, label).toBe(expected.message);
    }
  });

  it('names the failing item of a batch', async () => {
    const publicKeys = (await pool.kem('ML-KEM-512').keygenBatch(6)).map((pair) => pair.publicKey);
    publicKeys[4] = pattern(7, 0);

    const error = await rejectionOf(pool.kem('ML-KEM-512').encapsulateBatch(publicKeys));

    expect(error).toBeInstanceOf(InvalidLengthError);
    expect(error.message).toBe(
      'publicKey must be 800 bytes for ML-KEM-512, got 7 (item 4 of the batch)',
    );
  });

  it('checks batch shapes on the calling thread', async () => {
    const kem = pool.kem('ML-KEM-512');
    const scheme = pool.signature('ML-DSA-44');
    const { secretKey } = pqc.signature('ML-DSA-44').keygen();

    await expect(kem.keygenBatch(-1)).rejects.toThrow(InvalidArgumentError);
    await expect(kem.keygenBatch(1.5)).rejects.toThrow(
      'count must be a non-negative integer, got 1.5',
    );
    await expect(kem.encapsulateBatch('keys' as never)).rejects.toThrow(
      'publicKeys must be an array',
    );
    await expect(
      kem.encapsulateBatch([pattern(800, 0)], { randomness: [pattern(32, 0), pattern(32, 1)] }),
    ).rejects.toThrow('randomness must have one entry per item (1), got 2');
    await expect(scheme.signBatch([pattern(1, 0)], secretKey, { randomness: [] })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(scheme.verifyBatch([null as never])).rejects.toThrow('items[0] must be an object');
    await expect(kem.keygen(undefined, { signal: 'stop' as never })).rejects.toThrow(
      'signal must be an AbortSignal',
    );
  });

  it('rejects ctx in sign and verify', async () => {
    const scheme = pool.signature('ML-DSA-65');
    const { publicKey, secretKey } = pqc.signature('ML-DSA-65').keygen(pattern(32, 6));
    const message = pattern(8, 0);
    const ctx = pattern(4, 1);
    const signature = pqc.signature('ML-DSA-65').sign(message, secretKey, { context: ctx });

    const signError = await rejectionOf(scheme.sign(message, secretKey, { ctx } as never));
    const verifyError = await rejectionOf(
      scheme.verify(message, signature, publicKey, { ctx } as never),
    );

    expect(signError).toBeInstanceOf(InvalidArgumentError);
    expect((signError as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
    expect(signError.message).toBe(
      'sign: unknown option "ctx"; the options are context, randomness, signal and transfer',
    );
    expect(verifyError).toBeInstanceOf(InvalidArgumentError);
    expect((verifyError as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
    expect(verifyError.message).toBe(
      'verify: unknown option "ctx"; the options are context, signal and transfer',
    );
    await expect(
      scheme.verify(message, signature, publicKey, { context: ctx, signal: undefined }),
    ).resolves.toBe(true);
  });

  it('rejects an array as options', async () => {
    const scheme = pool.signature('ML-DSA-65');
    const { publicKey, secretKey } = pqc.signature('ML-DSA-65').keygen(pattern(32, 7));
    const message = pattern(8, 0);
    const signature = pqc.signature('ML-DSA-65').sign(message, secretKey);

    const signError = await rejectionOf(scheme.sign(message, secretKey, [] as never));
    const verifyError = await rejectionOf(
      scheme.verify(message, signature, publicKey, [pattern(4, 1)] as never),
    );
    const expectedSign = thrownBy(() =>
      pqc.signature('ML-DSA-65').sign(message, secretKey, [] as never),
    );

    expect(signError).toBeInstanceOf(InvalidArgumentError);
    expect(signError.message).toBe(expectedSign.message);
    expect(signError.message).toBe(
      'sign: the last argument must be an options object such as { context }, got an array',
    );
    expect(verifyError).toBeInstanceOf(InvalidArgumentError);
    expect(verifyError.message).toContain('verify: the last argument must be an options object');
  });

  it('rejects an unknown option in every method', async () => {
    const kem = pool.kem('ML-KEM-512');
    const scheme = pool.signature('ML-DSA-44');
    const kemPair = pqc.kem('ML-KEM-512').keygen(pattern(64, 8));
    const signer = pqc.signature('ML-DSA-44').keygen(pattern(32, 8));
    const { ciphertext } = pqc.kem('ML-KEM-512').encapsulate(kemPair.publicKey);
    const message = pattern(8, 0);
    const signature = pqc.signature('ML-DSA-44').sign(message, signer.secretKey);
    const verifyItem = { message, signature, publicKey: signer.publicKey };
    const bogus = { bogus: true } as never;
    const calls: Array<[string, string, () => Promise<unknown>]> = [
      ['keygen', '', () => kem.keygen(undefined, bogus)],
      ['encapsulate', '', () => kem.encapsulate(kemPair.publicKey, undefined, bogus)],
      ['decapsulate', '', () => kem.decapsulate(ciphertext, kemPair.secretKey, bogus)],
      ['keygenBatch', '', () => kem.keygenBatch(2, bogus)],
      ['encapsulateBatch', 'randomness, ', () => kem.encapsulateBatch([kemPair.publicKey], bogus)],
      ['decapsulateBatch', '', () => kem.decapsulateBatch([ciphertext], kemPair.secretKey, bogus)],
      ['keygen', '', () => scheme.keygen(undefined, bogus)],
      ['sign', 'context, randomness, ', () => scheme.sign(message, signer.secretKey, bogus)],
      [
        'verify',
        'context, ',
        () => scheme.verify(message, signature, signer.publicKey, bogus),
      ],
      ['keygenBatch', '', () => scheme.keygenBatch(2, bogus)],
      [
        'signBatch',
        'context, randomness, ',
        () => scheme.signBatch([message], signer.secretKey, bogus),
      ],
      ['verifyBatch', '', () => scheme.verifyBatch([verifyItem], bogus)],
    ];

    for (const [method, ownOptions, call] of calls) {
      const error = await rejectionOf(call());
      expect(error, method).toBeInstanceOf(InvalidArgumentError);
      expect(error.message, method).toBe(
        `${method}: unknown option "bogus"; the options are ${ownOptions}signal and transfer`,
      );
    }
    expect(pool.stats.queued).toBe(0);
  });

  it('throws UnknownAlgorithmError synchronously for unknown names', () => {
    expect(() => pool.kem('Kyber768' as KemAlgorithm)).toThrow(UnknownAlgorithmError);
    expect(() => pool.signature('ML-KEM-768' as never)).toThrow(UnknownAlgorithmError);
  });

  it('explains an input with a detached buffer', async () => {
    const kem = pool.kem('ML-KEM-512');
    const seed = pattern(64, 2);
    const expected =
      'ML-KEM-512 keygen: an input Uint8Array cannot be sent to a worker because its buffer ' +
      'is detached';

    // The first call transfers the seed's buffer, so the second finds it detached when sent.
    const [first, second] = await Promise.allSettled([
      kem.keygen(seed, { transfer: true }),
      kem.keygen(seed),
    ]);
    const third = await rejectionOf(kem.keygen(seed));

    expect(first.status).toBe('fulfilled');
    expect(seed.byteLength).toBe(0);
    expect(second.status).toBe('rejected');
    for (const error of [(second as PromiseRejectedResult).reason as Error, third]) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toContain(expected);
      expect(error.message).toContain('for example by an earlier call with transfer: true');
      expect(error.message).toContain('pass a copy made with slice() before the transfer');
      expect(error.message).not.toContain('pass byte values as Uint8Array');
    }
  });

  it('finds a detached buffer inside batch items', async () => {
    const scheme = pool.signature('ML-DSA-44');
    const { publicKey, secretKey } = pqc.signature('ML-DSA-44').keygen(pattern(32, 4));
    const message = pattern(16, 0);
    const signature = pqc.signature('ML-DSA-44').sign(message, secretKey);
    structuredClone(message.buffer, { transfer: [message.buffer] });

    const error = await rejectionOf(scheme.verifyBatch([{ message, signature, publicKey }]));

    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toContain(
      'ML-DSA-44 verifyBatch: an input Uint8Array cannot be sent to a worker because its ' +
        'buffer is detached',
    );
  });

  it('rejects arguments that cannot be sent to a worker', async () => {
    const error = await rejectionOf(pool.kem('ML-KEM-512').keygen((() => 1) as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toContain('could not be sent to a worker');
    expect(error.message).toContain('pass byte values as Uint8Array');
    await expect(pool.kem('ML-KEM-512').keygen()).resolves.toHaveProperty('publicKey');
  });
});

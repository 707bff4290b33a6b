// Messages for inputs of the wrong kind: they name what was passed and how to fix it.
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { isPqcError, loadPqc } from '../../src/index.js';
import type { KemAlgorithm, PqcInstance, SignatureAlgorithm } from '../../src/index.js';

let pqc: PqcInstance;
beforeAll(async () => {
  pqc = await loadPqc();
});

/** Runs `operation` and returns the error it threw. Fails the test when it returns normally. */
function thrownBy(operation: () => unknown): Error {
  try {
    operation();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the operation to throw, but it returned');
}

describe('algorithm of the other kind', () => {
  it('kem names a signature algorithm', () => {
    const error = thrownBy(() => pqc.kem('ML-DSA-65' as KemAlgorithm));
    expect(isPqcError(error, 'ERR_UNKNOWN_ALGORITHM')).toBe(true);
    expect(error.message).toBe(
      "ML-DSA-65 is a signature algorithm, not a KEM; call pqc.signature('ML-DSA-65')",
    );
  });

  it('signature names a KEM', () => {
    const error = thrownBy(() => pqc.signature('ML-KEM-768' as SignatureAlgorithm));
    expect(isPqcError(error, 'ERR_UNKNOWN_ALGORITHM')).toBe(true);
    expect(error.message).toBe(
      "ML-KEM-768 is a KEM, not a signature algorithm; call pqc.kem('ML-KEM-768')",
    );
  });

  it('unknown names list one kind', () => {
    const kemError = thrownBy(() => pqc.kem('Kyber768' as KemAlgorithm));
    expect(kemError.message).toBe(
      'unknown algorithm "Kyber768"; use one of ML-KEM-512, ML-KEM-768, ML-KEM-1024',
    );
    const signatureError = thrownBy(() => pqc.signature('Dilithium3' as SignatureAlgorithm));
    expect(signatureError.message).toBe(
      'unknown algorithm "Dilithium3"; use one of ML-DSA-44, ML-DSA-65, ML-DSA-87',
    );
  });
});

describe('byte inputs of the wrong type', () => {
  const viewHint =
    '; view its bytes with new Uint8Array(publicKey.buffer, publicKey.byteOffset, ' +
    'publicKey.byteLength)';
  const cases: [string, () => unknown, string][] = [
    [
      'ArrayBuffer',
      () => new ArrayBuffer(1184),
      'ArrayBuffer; wrap it with new Uint8Array(publicKey)',
    ],
    [
      'SharedArrayBuffer',
      () => new SharedArrayBuffer(1184),
      'SharedArrayBuffer; wrap it with new Uint8Array(publicKey)',
    ],
    ['DataView', () => new DataView(new ArrayBuffer(1184)), `DataView${viewHint}`],
    ['Int8Array', () => new Int8Array(1184), `Int8Array${viewHint}`],
    ['Uint16Array', () => new Uint16Array(592), `Uint16Array${viewHint}`],
    [
      'Array',
      () => Array.from({ length: 1184 }, () => 0),
      'Array; convert an array of byte values with Uint8Array.from(publicKey)',
    ],
    [
      'Uint8Array of another realm',
      () => runInNewContext('new Uint8Array(1184)') as unknown,
      'Uint8Array; it comes from another realm (a vm context or an iframe), so copy it with ' +
        'new Uint8Array(publicKey)',
    ],
    ['string', () => 'AAAA', 'string'],
    ['null', () => null, 'null'],
    ['plain object', () => ({ length: 1184 }), 'Object'],
    ['Map', () => new Map(), 'Map'],
  ];

  it.each(cases)('encapsulate names %s', (_name, makeValue, expected) => {
    const kem = pqc.kem('ML-KEM-768');
    const error = thrownBy(() => kem.encapsulate(makeValue() as Uint8Array));
    expect(isPqcError(error, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect(error.message).toBe(`publicKey must be a Uint8Array, got ${expected}`);
  });

  it('sign names the message parameter', () => {
    const dsa = pqc.signature('ML-DSA-44');
    const keys = dsa.keygen();
    const error = thrownBy(() => dsa.sign(new ArrayBuffer(4) as never, keys.secretKey));
    expect(error.message).toBe(
      'message must be a Uint8Array, got ArrayBuffer; wrap it with new Uint8Array(message)',
    );
  });

  it('the suggested view gives the same bytes', () => {
    const kem = pqc.kem('ML-KEM-768');
    const keys = kem.keygen();
    const copy = new ArrayBuffer(keys.publicKey.length + 8);
    new Uint8Array(copy, 8).set(keys.publicKey);
    const publicKey = new DataView(copy, 8);
    const viewed = new Uint8Array(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength);
    const { ciphertext, sharedSecret } = kem.encapsulate(viewed);
    expect(kem.decapsulate(ciphertext, keys.secretKey)).toEqual(sharedSecret);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exportPrivateKey, importPrivateKey } from '../../src/keys/index.js';
import type { DeriveKeyPair } from '../../src/keys/index.js';
import type { KeyAlgorithm } from '../../src/keys/algorithms.js';
import { keygenFor } from './core.js';
import { algorithmIdentifier, pkcs8, tlv } from './der-builder.js';

const FAMILIES = [
  { algorithm: 'ML-KEM-512', seedLength: 64 },
  { algorithm: 'ML-DSA-44', seedLength: 32 },
] as const satisfies ReadonlyArray<{ algorithm: KeyAlgorithm; seedLength: number }>;

function expectCode(action: () => unknown, code: string): void {
  expect(action).toThrow(expect.objectContaining({ code }));
}

describe.each(FAMILIES)('$algorithm private key checks', ({ algorithm, seedLength }) => {
  const keygen = keygenFor(algorithm);
  const pair = keygen(randomBytes(seedLength));
  const other = keygen(randomBytes(seedLength));

  it('import rejects both with mismatched parts', () => {
    const data = pkcs8(algorithm, tlv(0x30, tlv(0x04, pair.seed), tlv(0x04, other.secretKey)));

    expectCode(
      () => importPrivateKey(algorithm, data, 'pkcs8-der', keygen),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('import rejects a mismatched v2 public key', () => {
    const data = tlv(
      0x30,
      tlv(0x02, Uint8Array.of(1)),
      algorithmIdentifier(algorithm),
      tlv(0x04, tlv(0x80, pair.seed)),
      tlv(0x81, Uint8Array.of(0), other.publicKey),
    );

    expectCode(
      () => importPrivateKey(algorithm, data, 'pkcs8-der', keygen),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('import rejects a mismatched JWK pub', () => {
    const jwk = exportPrivateKey(algorithm, pair, 'jwk');
    const otherPub = exportPrivateKey(algorithm, other, 'jwk').pub;

    expectCode(
      () => importPrivateKey(algorithm, { ...jwk, pub: otherPub }, 'jwk', keygen),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('import rejects a mismatched options.publicKey', () => {
    const data = exportPrivateKey(algorithm, pair, 'pkcs8-der');

    expectCode(
      () => importPrivateKey(algorithm, data, 'pkcs8-der', keygen, { publicKey: other.publicKey }),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('import accepts a matching options.publicKey', () => {
    const data = exportPrivateKey(algorithm, pair, 'pkcs8-der');
    const imported = importPrivateKey(algorithm, data, 'pkcs8-der', keygen, {
      publicKey: pair.publicKey,
    });

    expect(Buffer.from(imported.secretKey)).toEqual(Buffer.from(pair.secretKey));
  });

  it('export rejects a seed from another key', () => {
    const mixed = { seed: other.seed, secretKey: pair.secretKey, publicKey: pair.publicKey };

    expectCode(
      () => exportPrivateKey(algorithm, mixed, 'pkcs8-der', { form: 'both' }),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('export rejects a public key from another key', () => {
    const mixed = { seed: pair.seed, secretKey: pair.secretKey, publicKey: other.publicKey };

    expectCode(() => exportPrivateKey(algorithm, mixed, 'jwk'), 'ERR_INVALID_PRIVATE_KEY');
  });

  it('export rejects a public key that does not match the seed alone', () => {
    const mixed = { seed: pair.seed, publicKey: other.publicKey };

    expectCode(() => exportPrivateKey(algorithm, mixed, 'jwk'), 'ERR_INVALID_PRIVATE_KEY');
  });

  it('export needs the seed for the seed form', () => {
    const expandedOnly = { secretKey: pair.secretKey, publicKey: pair.publicKey };

    expectCode(
      () => exportPrivateKey(algorithm, expandedOnly, 'pkcs8-der'),
      'ERR_INVALID_ARGUMENT',
    );
    expectCode(() => exportPrivateKey(algorithm, expandedOnly, 'jwk'), 'ERR_INVALID_ARGUMENT');
  });

  it('export needs the secret key for expandedKey', () => {
    expectCode(
      () => exportPrivateKey(algorithm, { seed: pair.seed }, 'pkcs8-der', { form: 'expandedKey' }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('JWK export rejects forms other than seed', () => {
    expectCode(
      () => exportPrivateKey(algorithm, pair, 'jwk', { form: 'both' }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('export rejects unknown options', () => {
    expectCode(
      () => exportPrivateKey(algorithm, pair, 'pkcs8-der', { form: 'compact' as never }),
      'ERR_INVALID_ARGUMENT',
    );
    expectCode(
      () => exportPrivateKey(algorithm, pair, 'pkcs8-der', { includePublicKey: 'yes' as never }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('import needs a deriveFromSeed function', () => {
    const data = exportPrivateKey(algorithm, pair, 'pkcs8-der');

    expectCode(
      () => importPrivateKey(algorithm, data, 'pkcs8-der', undefined as unknown as DeriveKeyPair),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('import rejects a keygen of another algorithm', () => {
    const data = exportPrivateKey(algorithm, pair, 'pkcs8-der');
    const wrongKeygen = keygenFor(algorithm === 'ML-KEM-512' ? 'ML-KEM-768' : 'ML-DSA-87');
    const wrongDerive: DeriveKeyPair = (seed) => wrongKeygen(seed);

    expectCode(
      () => importPrivateKey(algorithm, data, 'pkcs8-der', wrongDerive),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('import leaves the input untouched', () => {
    const data = exportPrivateKey(algorithm, pair, 'pkcs8-der', { form: 'both' });
    const copy = data.slice();
    importPrivateKey(algorithm, data, 'pkcs8-der', keygen);

    expect(Buffer.from(data)).toEqual(Buffer.from(copy));
  });
});

/** Byte ranges of an expanded secret key that the seed or the public key determines. */
const SECRET_KEY_PARTS = [
  { algorithm: 'ML-KEM-768', part: 'rho inside ek', start: 2304, end: 2336 },
  { algorithm: 'ML-KEM-768', part: 'H(ek)', start: 2336, end: 2368 },
  { algorithm: 'ML-KEM-768', part: 'z', start: 2368, end: 2400 },
  { algorithm: 'ML-DSA-65', part: 'rho', start: 0, end: 32 },
  { algorithm: 'ML-DSA-65', part: 'K', start: 32, end: 64 },
  { algorithm: 'ML-DSA-65', part: 'tr', start: 64, end: 128 },
] as const;

describe('export detects an altered part', () => {
  it.each(SECRET_KEY_PARTS)('$algorithm $part', ({ algorithm, start, end }) => {
    const pair = keygenFor(algorithm)(randomBytes(algorithm === 'ML-KEM-768' ? 64 : 32));
    const secretKey = pair.secretKey.slice();
    secretKey[(start + end) >> 1]! ^= 0x01;

    expectCode(
      () => exportPrivateKey(algorithm, { ...pair, secretKey }, 'pkcs8-der', { form: 'both' }),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('ML-KEM seed with a foreign d', () => {
    const pair = keygenFor('ML-KEM-768')(randomBytes(64));
    const seed = pair.seed.slice();
    seed[0]! ^= 0x01;

    expectCode(
      () =>
        exportPrivateKey('ML-KEM-768', { seed, secretKey: pair.secretKey }, 'pkcs8-der', {
          form: 'both',
        }),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });
});

describe('expanded-key-only imports', () => {
  const kemKeygen = keygenFor('ML-KEM-768');
  const dsaKeygen = keygenFor('ML-DSA-65');
  const kem = kemKeygen(randomBytes(64));
  const dsa = dsaKeygen(randomBytes(32));
  const otherDsa = dsaKeygen(randomBytes(32));

  it('ML-KEM takes the public key from the secret key', () => {
    const data = pkcs8('ML-KEM-768', tlv(0x04, kem.secretKey));
    const imported = importPrivateKey('ML-KEM-768', data, 'pkcs8-der', kemKeygen);

    expect(imported.seed).toBeUndefined();
    expect(Buffer.from(imported.publicKey)).toEqual(Buffer.from(kem.publicKey));
    expect(Buffer.from(imported.secretKey)).toEqual(Buffer.from(kem.secretKey));
  });

  it('ML-KEM rejects a corrupted H(ek)', () => {
    const secretKey = kem.secretKey.slice();
    secretKey[secretKey.length - 40]! ^= 0x01;
    const data = pkcs8('ML-KEM-768', tlv(0x04, secretKey));

    expectCode(
      () => importPrivateKey('ML-KEM-768', data, 'pkcs8-der', kemKeygen),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('ML-KEM rejects an embedded key failing the modulus check', () => {
    const secretKey = kem.secretKey.slice();
    const ekStart = 384 * 3;
    secretKey[ekStart] = 0xff;
    secretKey[ekStart + 1] = secretKey[ekStart + 1]! | 0x0f;
    const data = pkcs8('ML-KEM-768', tlv(0x04, secretKey));

    expectCode(
      () => importPrivateKey('ML-KEM-768', data, 'pkcs8-der', kemKeygen),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('ML-DSA requires the public key', () => {
    const data = pkcs8('ML-DSA-65', tlv(0x04, dsa.secretKey));

    expectCode(
      () => importPrivateKey('ML-DSA-65', data, 'pkcs8-der', dsaKeygen),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('ML-DSA checks the public key against tr', () => {
    const data = pkcs8('ML-DSA-65', tlv(0x04, dsa.secretKey));
    const sameRho = otherDsa.publicKey.slice();
    sameRho.set(dsa.publicKey.subarray(0, 32));

    expectCode(
      () =>
        importPrivateKey('ML-DSA-65', data, 'pkcs8-der', dsaKeygen, {
          publicKey: otherDsa.publicKey,
        }),
      'ERR_INVALID_PRIVATE_KEY',
    );
    expectCode(
      () => importPrivateKey('ML-DSA-65', data, 'pkcs8-der', dsaKeygen, { publicKey: sameRho }),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });

  it('ML-DSA accepts the matching public key', () => {
    const data = pkcs8('ML-DSA-65', tlv(0x04, dsa.secretKey));
    const imported = importPrivateKey('ML-DSA-65', data, 'pkcs8-der', dsaKeygen, {
      publicKey: dsa.publicKey,
    });

    expect(imported.seed).toBeUndefined();
    expect(Buffer.from(imported.publicKey)).toEqual(Buffer.from(dsa.publicKey));
  });

  it('ML-DSA export rejects a secret key from another seed', () => {
    const mixed = { seed: dsa.seed, secretKey: otherDsa.secretKey };

    expectCode(
      () => exportPrivateKey('ML-DSA-65', mixed, 'pkcs8-der', { form: 'both' }),
      'ERR_INVALID_PRIVATE_KEY',
    );
  });
});

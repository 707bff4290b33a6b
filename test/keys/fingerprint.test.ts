import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintPublicKey, keyPairId } from '../../src/keys/fingerprint.js';
import type { KeyAlgorithm } from '../../src/keys/algorithms.js';
import { spki } from './der-builder.js';
import { fromHex, readVectorFile } from './vectors.js';

function sha256Base64Url(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}

const KEM_SETS = [
  ['ML-KEM-512', 'mlkem_512'],
  ['ML-KEM-768', 'mlkem_768'],
  ['ML-KEM-1024', 'mlkem_1024'],
] as const;
const SIGNATURE_SETS = [
  ['ML-DSA-44', 'mldsa_44'],
  ['ML-DSA-65', 'mldsa_65'],
  ['ML-DSA-87', 'mldsa_87'],
] as const;

/** Returns the first few encapsulation keys of each ML-KEM keygen vector file. */
function kemKeys(file: string, count: number): Uint8Array[] {
  const tests = readVectorFile(`${file}_keygen_seed_test`).testGroups.flatMap(
    (group) => group.tests,
  );
  return tests.slice(0, count).map((test) => fromHex(test['ek'] as string));
}

/** Returns every correctly sized public key and its DER from one ML-DSA verify vector file. */
function signatureKeys(
  file: string,
  publicKeyLength: number,
): Array<{ raw: Uint8Array; der: Uint8Array }> {
  return readVectorFile(`${file}_verify_test`)
    .testGroups.filter((group) => typeof group.publicKey === 'string')
    .map((group) => ({ raw: fromHex(group.publicKey!), der: fromHex(group.publicKeyDer!) }))
    .filter((key) => key.raw.length === publicKeyLength);
}

const SIGNATURE_LENGTHS = { 'ML-DSA-44': 1312, 'ML-DSA-65': 1952, 'ML-DSA-87': 2592 } as const;

describe('fingerprintPublicKey', () => {
  it.each(SIGNATURE_SETS)('%s matches SHA-256 of the Wycheproof SPKI', (algorithm, file) => {
    const keys = signatureKeys(file, SIGNATURE_LENGTHS[algorithm]);
    expect(keys.length).toBeGreaterThan(10);

    for (const { raw, der } of keys) {
      expect(Buffer.from(spki(algorithm, raw))).toEqual(Buffer.from(der));
      expect(fingerprintPublicKey(algorithm, raw)).toBe(sha256Base64Url(der));
    }
  });

  it.each(KEM_SETS)('%s matches SHA-256 of the reference SPKI', (algorithm, file) => {
    for (const publicKey of kemKeys(file, 5)) {
      const fingerprint = fingerprintPublicKey(algorithm, publicKey);

      expect(fingerprint).toBe(sha256Base64Url(spki(algorithm, publicKey)));
      expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });

  it('changes when one key bit changes', () => {
    const [publicKey] = kemKeys('mlkem_768', 1);
    const flipped = publicKey!.slice();
    flipped[flipped.length - 1]! ^= 0x01;

    expect(fingerprintPublicKey('ML-KEM-768', flipped)).not.toBe(
      fingerprintPublicKey('ML-KEM-768', publicKey!),
    );
  });

  it.each(KEM_SETS)('%s rejects Wycheproof modulus overflows', (algorithm, file) => {
    const overflows = readVectorFile(`${file}_encaps_test`)
      .testGroups.flatMap((group) => group.tests)
      .filter((test) => String(test.flags ?? '').includes('ModulusOverflow'));
    expect(overflows.length).toBeGreaterThan(0);

    for (const test of overflows) {
      const publicKey = fromHex(test['ek'] as string);
      expect(() => fingerprintPublicKey(algorithm, publicKey)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_PUBLIC_KEY' }),
      );
    }
  });

  it('rejects a key of the wrong length', () => {
    const [publicKey] = kemKeys('mlkem_512', 1);

    expect(() => fingerprintPublicKey('ML-KEM-768', publicKey!)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_LENGTH', expected: 1184, actual: 800 }),
    );
  });

  it('rejects an unknown algorithm', () => {
    expect(() => fingerprintPublicKey('ML-KEM-2048' as KeyAlgorithm, new Uint8Array(800))).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_ALGORITHM' }),
    );
  });
});

describe('keyPairId', () => {
  const [kemKey] = kemKeys('mlkem_768', 1);
  const [signatureKey] = signatureKeys('mldsa_65', SIGNATURE_LENGTHS['ML-DSA-65']);
  const kem = { algorithm: 'ML-KEM-768', publicKey: kemKey! };
  const signature = { algorithm: 'ML-DSA-65', publicKey: signatureKey!.raw };

  it('hashes both SPKI encodings in order', () => {
    const expected = sha256Base64Url(
      Buffer.concat([spki('ML-KEM-768', kemKey!), signatureKey!.der]),
    );

    expect(keyPairId(kem, signature)).toBe(expected);
  });

  it('differs from the fingerprints of each key', () => {
    const id = keyPairId(kem, signature);

    expect(id).not.toBe(fingerprintPublicKey('ML-KEM-768', kemKey!));
    expect(id).not.toBe(fingerprintPublicKey('ML-DSA-65', signatureKey!.raw));
  });

  it('changes when either key changes', () => {
    const [otherKem] = kemKeys('mlkem_768', 2).slice(1);
    const otherSignature = signatureKeys('mldsa_65', SIGNATURE_LENGTHS['ML-DSA-65'])[1]!;
    const id = keyPairId(kem, signature);

    expect(keyPairId({ ...kem, publicKey: otherKem! }, signature)).not.toBe(id);
    expect(keyPairId(kem, { ...signature, publicKey: otherSignature.raw })).not.toBe(id);
  });

  it('rejects swapped key roles', () => {
    expect(() => keyPairId(signature, kem)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects a missing key object', () => {
    expect(() => keyPairId(kem, null as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects a KEM key of the wrong length', () => {
    expect(() => keyPairId({ ...kem, publicKey: kemKey!.subarray(1) }, signature)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_LENGTH' }),
    );
  });
});

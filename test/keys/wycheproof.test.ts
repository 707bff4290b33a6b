import { describe, expect, it } from 'vitest';
import { exportPrivateKey, importPrivateKey } from '../../src/keys/index.js';
import { exportPublicKey, importPublicKey } from '../../src/keys/public-key.js';
import type { KeyAlgorithm } from '../../src/keys/algorithms.js';
import { keygenFor } from './core.js';
import { pkcs8, tlv } from './der-builder.js';
import { fromHex, readVectorFile, toHex } from './vectors.js';

const SETS = [
  { algorithm: 'ML-DSA-44', file: 'mldsa_44', publicKeyLength: 1312, secretKeyLength: 2560 },
  { algorithm: 'ML-DSA-65', file: 'mldsa_65', publicKeyLength: 1952, secretKeyLength: 4032 },
  { algorithm: 'ML-DSA-87', file: 'mldsa_87', publicKeyLength: 2592, secretKeyLength: 4896 },
] as const satisfies ReadonlyArray<{ algorithm: KeyAlgorithm; [key: string]: unknown }>;

describe.each(SETS)('Wycheproof $algorithm keys', (set) => {
  const { algorithm } = set;
  const derive = keygenFor(algorithm);

  it('verify groups import and export SPKI', () => {
    const groups = readVectorFile(`${set.file}_verify_test`).testGroups;
    let valid = 0;
    let wrongLength = 0;

    for (const group of groups) {
      const raw = fromHex(group.publicKey!);
      const der = fromHex(group.publicKeyDer!);

      if (raw.length !== set.publicKeyLength) {
        expect(() => importPublicKey(algorithm, der, 'spki-der')).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_LENGTH', actual: raw.length }),
        );
        expect(() => exportPublicKey(algorithm, raw, 'spki-der')).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_LENGTH' }),
        );
        wrongLength++;
        continue;
      }

      expect(toHex(importPublicKey(algorithm, der, 'spki-der'))).toBe(group.publicKey);
      expect(toHex(exportPublicKey(algorithm, raw, 'spki-der'))).toBe(group.publicKeyDer);
      valid++;
    }

    expect(valid).toBeGreaterThan(15);
    expect(wrongLength).toBe(4);
  });

  it('sign_seed groups import and export PKCS#8', () => {
    const groups = readVectorFile(`${set.file}_sign_seed_test`).testGroups;
    let withPkcs8 = 0;
    let withoutPkcs8 = 0;

    for (const group of groups) {
      const seed = fromHex(group.privateSeed!);
      if (seed.length !== 32) continue;

      const exported = exportPrivateKey(algorithm, { seed }, 'pkcs8-der');
      const reference = group.privateKeyPkcs8;
      if (typeof reference === 'string') {
        expect(toHex(exported)).toBe(reference);
        withPkcs8++;
      } else {
        withoutPkcs8++;
      }

      const imported = importPrivateKey(
        algorithm,
        reference ? fromHex(reference) : exported,
        'pkcs8-der',
        derive,
      );
      expect(toHex(imported.seed!)).toBe(group.privateSeed);
      expect(toHex(imported.publicKey)).toBe(group.publicKey);
      expect(imported.secretKey.length).toBe(set.secretKeyLength);
    }

    expect(withPkcs8).toBeGreaterThan(10);
    expect(withPkcs8 + withoutPkcs8).toBe(groups.length - 3);
  });

  it('sign_seed groups with bad seed lengths are rejected', () => {
    const groups = readVectorFile(`${set.file}_sign_seed_test`).testGroups.filter(
      (group) => fromHex(group.privateSeed!).length !== 32,
    );
    expect(groups).toHaveLength(3);

    for (const group of groups) {
      const seed = fromHex(group.privateSeed!);
      const wrapped = pkcs8(algorithm, tlv(0x80, seed));

      expect(() => exportPrivateKey(algorithm, { seed }, 'pkcs8-der')).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_LENGTH', actual: seed.length }),
      );
      expect(() => importPrivateKey(algorithm, wrapped, 'pkcs8-der', derive)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_LENGTH', actual: seed.length }),
      );
      expect(() =>
        importPrivateKey(algorithm, fromHex(group.privateKeyPkcs8 ?? ''), 'pkcs8-der', derive),
      ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ENCODING' }));
    }
  });

  it('sign_noseed expanded keys round-trip', () => {
    const groups = readVectorFile(`${set.file}_sign_noseed_test`).testGroups;
    let roundTrips = 0;

    for (const group of groups) {
      const secretKey = fromHex(group.privateKey!);
      if (secretKey.length !== set.secretKeyLength) {
        expect(() =>
          exportPrivateKey(algorithm, { secretKey }, 'pkcs8-der', { form: 'expandedKey' }),
        ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_LENGTH' }));
        continue;
      }

      const publicKey = fromHex(group.publicKey!);
      const der = exportPrivateKey(algorithm, { secretKey, publicKey }, 'pkcs8-der', {
        form: 'expandedKey',
      });
      const imported = importPrivateKey(algorithm, der, 'pkcs8-der', derive, { publicKey });
      expect(imported.seed).toBeUndefined();
      expect(toHex(imported.secretKey)).toBe(group.privateKey);
      expect(toHex(imported.publicKey)).toBe(group.publicKey);

      const withPublicKey = exportPrivateKey(algorithm, { secretKey, publicKey }, 'pkcs8-der', {
        form: 'expandedKey',
        includePublicKey: true,
      });
      const selfContained = importPrivateKey(algorithm, withPublicKey, 'pkcs8-der', derive);
      expect(toHex(selfContained.publicKey)).toBe(group.publicKey);
      roundTrips++;
    }

    expect(roundTrips).toBe(groups.length - 2);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintPublicKey } from '../../src/keys/fingerprint.js';
import { exportPrivateKey, importPrivateKey } from '../../src/keys/index.js';
import { exportPublicKey, importPublicKey, PUBLIC_KEY_FORMATS } from '../../src/keys/public-key.js';
import { PRIVATE_KEY_FORMS } from '../../src/keys/pkcs8.js';
import { ALGORITHMS, keygenFor } from './core.js';
import { algorithmIdentifier, spki, tlv } from './der-builder.js';
import { toHex } from './vectors.js';

const SEED_LENGTHS = { 'ML-KEM': 64, 'ML-DSA': 32 } as const;

describe.each(ALGORITHMS)('%s round trips', (algorithm) => {
  const keygen = keygenFor(algorithm);
  const family = algorithm.startsWith('ML-KEM') ? 'ML-KEM' : 'ML-DSA';
  const pair = keygen(randomBytes(SEED_LENGTHS[family]));

  it('public key in every format', () => {
    for (const format of PUBLIC_KEY_FORMATS) {
      const encoded = exportPublicKey(algorithm, pair.publicKey, format);
      const decoded = importPublicKey(algorithm, encoded, format);

      expect(toHex(decoded), format).toBe(toHex(pair.publicKey));
    }
  });

  it('public key encodings have the expected shape', () => {
    const der = exportPublicKey(algorithm, pair.publicKey, 'spki-der');
    const pem = exportPublicKey(algorithm, pair.publicKey, 'spki-pem');
    const base64 = exportPublicKey(algorithm, pair.publicKey, 'base64');
    const jwk = exportPublicKey(algorithm, pair.publicKey, 'jwk');
    const pemLines = pem.trimEnd().split('\n');

    expect(toHex(der)).toBe(toHex(spki(algorithm, pair.publicKey)));
    expect(pemLines[0]).toBe('-----BEGIN PUBLIC KEY-----');
    expect(pemLines.at(-1)).toBe('-----END PUBLIC KEY-----');
    expect(pemLines.slice(1, -2).every((line) => line.length === 64)).toBe(true);
    expect(pemLines.slice(1, -1).join('')).toBe(Buffer.from(der).toString('base64'));
    expect(pem.endsWith('\n')).toBe(true);
    expect(base64).toBe(Buffer.from(pair.publicKey).toString('base64'));
    expect(jwk).toEqual({
      kty: 'AKP',
      alg: algorithm,
      pub: Buffer.from(pair.publicKey).toString('base64url'),
    });
  });

  it('JWK imports from its JSON text', () => {
    const jwk = exportPublicKey(algorithm, pair.publicKey, 'jwk');
    const decoded = importPublicKey(algorithm, JSON.stringify(jwk), 'jwk');

    expect(toHex(decoded)).toBe(toHex(pair.publicKey));
  });

  it.each(PRIVATE_KEY_FORMS)('PKCS#8 DER and PEM in form %s', (form) => {
    for (const format of ['pkcs8-der', 'pkcs8-pem'] as const) {
      // An ML-DSA signing key does not contain t1, so that import needs the public key.
      const needsPublicKey = form === 'expandedKey' && family === 'ML-DSA';
      const options = needsPublicKey ? { publicKey: pair.publicKey } : undefined;
      const encoded = exportPrivateKey(algorithm, pair, format, { form });
      const imported = importPrivateKey(algorithm, encoded, format, keygen, options);

      expect(toHex(imported.publicKey), format).toBe(toHex(pair.publicKey));
      expect(toHex(imported.secretKey), format).toBe(toHex(pair.secretKey));
      if (form === 'expandedKey') {
        expect(imported.seed, format).toBeUndefined();
      } else {
        expect(toHex(imported.seed!), format).toBe(toHex(pair.seed));
      }
    }
  });

  it('PKCS#8 seed form is the LAMPS layout', () => {
    const der = exportPrivateKey(algorithm, pair, 'pkcs8-der');
    const expected = tlv(
      0x30,
      tlv(0x02, Uint8Array.of(0)),
      algorithmIdentifier(algorithm),
      tlv(0x04, tlv(0x80, pair.seed)),
    );

    expect(toHex(der)).toBe(toHex(expected));
  });

  it('PKCS#8 both form is the LAMPS layout', () => {
    const der = exportPrivateKey(algorithm, pair, 'pkcs8-der', { form: 'both' });
    const expected = tlv(
      0x30,
      tlv(0x02, Uint8Array.of(0)),
      algorithmIdentifier(algorithm),
      tlv(0x04, tlv(0x30, tlv(0x04, pair.seed), tlv(0x04, pair.secretKey))),
    );

    expect(toHex(der)).toBe(toHex(expected));
  });

  it('PKCS#8 v2 carries the public key', () => {
    const der = exportPrivateKey(algorithm, pair, 'pkcs8-der', {
      form: 'expandedKey',
      includePublicKey: true,
    });
    const expected = tlv(
      0x30,
      tlv(0x02, Uint8Array.of(1)),
      algorithmIdentifier(algorithm),
      tlv(0x04, tlv(0x04, pair.secretKey)),
      tlv(0x81, Uint8Array.of(0), pair.publicKey),
    );
    const imported = importPrivateKey(algorithm, der, 'pkcs8-der', keygen);

    expect(toHex(der)).toBe(toHex(expected));
    expect(toHex(imported.publicKey)).toBe(toHex(pair.publicKey));
  });

  it('private JWK carries seed and public key', () => {
    const jwk = exportPrivateKey(algorithm, pair, 'jwk');
    const imported = importPrivateKey(algorithm, jwk, 'jwk', keygen);

    expect(jwk).toEqual({
      kty: 'AKP',
      alg: algorithm,
      pub: Buffer.from(pair.publicKey).toString('base64url'),
      priv: Buffer.from(pair.seed).toString('base64url'),
    });
    expect(toHex(imported.seed!)).toBe(toHex(pair.seed));
    expect(toHex(imported.secretKey)).toBe(toHex(pair.secretKey));
    expect(toHex(imported.publicKey)).toBe(toHex(pair.publicKey));
  });

  it('fingerprint is the same from every format', () => {
    const expected = fingerprintPublicKey(algorithm, pair.publicKey);

    for (const format of PUBLIC_KEY_FORMATS) {
      const encoded = exportPublicKey(algorithm, pair.publicKey, format);
      const decoded = importPublicKey(algorithm, encoded, format);
      expect(fingerprintPublicKey(algorithm, decoded), format).toBe(expected);
    }
    const fromPrivate = importPrivateKey(
      algorithm,
      exportPrivateKey(algorithm, pair, 'pkcs8-pem'),
      'pkcs8-pem',
      keygen,
    );
    expect(fingerprintPublicKey(algorithm, fromPrivate.publicKey)).toBe(expected);
  });
});

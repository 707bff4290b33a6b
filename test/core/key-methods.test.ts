import { beforeAll, describe, expect, it } from 'vitest';
import { fingerprintPublicKey, keyPairId, loadPqc } from '../../src/index.js';
import type { PqcInstance } from '../../src/index.js';

let pqc: PqcInstance;
beforeAll(async () => {
  pqc = await loadPqc();
});

describe('key methods on algorithm objects', () => {
  it('round-trip ML-KEM-768 keys through SPKI and seed PKCS#8', () => {
    const kem = pqc.kem('ML-KEM-768');
    const keys = kem.keygen();
    const spki = kem.exportPublicKey(keys.publicKey, 'spki-der');
    expect(kem.importPublicKey(spki, 'spki-der')).toEqual(keys.publicKey);
    const pem = kem.exportPrivateKey(keys, 'pkcs8-pem');
    const imported = kem.importPrivateKey(pem, 'pkcs8-pem');
    expect(imported.secretKey).toEqual(keys.secretKey);
    expect(imported.publicKey).toEqual(keys.publicKey);
    expect(imported.seed).toEqual(keys.seed);
    expect(kem.fingerprint(keys.publicKey)).toBe(fingerprintPublicKey('ML-KEM-768', keys.publicKey));
  });

  it('round-trip ML-DSA-65 keys through JWK and the both form', () => {
    const dsa = pqc.signature('ML-DSA-65');
    const keys = dsa.keygen();
    const jwk = dsa.exportPublicKey(keys.publicKey, 'jwk');
    expect(jwk).toMatchObject({ kty: 'AKP', alg: 'ML-DSA-65' });
    expect(dsa.importPublicKey(jwk, 'jwk')).toEqual(keys.publicKey);
    const both = dsa.exportPrivateKey(keys, 'pkcs8-der', { form: 'both' });
    expect(dsa.importPrivateKey(both, 'pkcs8-der').secretKey).toEqual(keys.secretKey);
  });

  it('give a key pair id that depends on both public keys', () => {
    const kemKeys = pqc.kem('ML-KEM-768').keygen();
    const dsaKeys = pqc.signature('ML-DSA-65').keygen();
    const id = keyPairId(
      { algorithm: 'ML-KEM-768', publicKey: kemKeys.publicKey },
      { algorithm: 'ML-DSA-65', publicKey: dsaKeys.publicKey },
    );
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = pqc.signature('ML-DSA-65').keygen();
    expect(
      keyPairId(
        { algorithm: 'ML-KEM-768', publicKey: kemKeys.publicKey },
        { algorithm: 'ML-DSA-65', publicKey: other.publicKey },
      ),
    ).not.toBe(id);
  });
});

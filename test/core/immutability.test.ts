// The algorithm objects and tables are shared by every caller, so none of them may change.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  KEM_ALGORITHMS,
  loadPqc,
  PRIVATE_KEY_FORMATS,
  PRIVATE_KEY_FORMS,
  PUBLIC_KEY_FORMATS,
  SIGNATURE_ALGORITHMS,
} from '../../src/index.js';
import type { PqcInstance } from '../../src/index.js';
import { KEM_PARAMETERS, SIGNATURE_PARAMETERS } from '../../src/core/algorithms.js';
import { resolveKeyAlgorithm } from '../../src/keys/algorithms.js';

let pqc: PqcInstance;
beforeAll(async () => {
  pqc = await loadPqc();
});

/** Assigns `value` to `key` of `target` in sloppy-mode code, where a frozen target ignores it. */
const assignSloppy = new Function('target', 'key', 'value', 'target[key] = value;') as (
  target: object,
  key: string,
  value: unknown,
) => void;

/** Assigns `value` to `key` of `target`; this module is strict, so a frozen target throws. */
function assignStrict(target: object, key: string, value: unknown): void {
  (target as Record<string, unknown>)[key] = value;
}

describe('algorithm objects', () => {
  it('throw on assignment in strict mode', () => {
    const kem = pqc.kem('ML-KEM-768');
    expect(() => assignStrict(kem, 'publicKeyLength', 10)).toThrow(TypeError);
    expect(() => assignStrict(kem, 'ciphertextLength', 5e6)).toThrow(TypeError);
    expect(() => assignStrict(kem, 'decapsulate', () => new Uint8Array(32))).toThrow(TypeError);
    const dsa = pqc.signature('ML-DSA-65');
    expect(() => assignStrict(dsa, 'signatureLength', 1)).toThrow(TypeError);
    expect(() => assignStrict(dsa, 'verify', () => true)).toThrow(TypeError);
    expect(() => assignStrict(pqc, 'kem', () => kem)).toThrow(TypeError);
  });

  it('ignore assignment in sloppy mode', () => {
    const kem = pqc.kem('ML-KEM-768');
    assignSloppy(kem, 'publicKeyLength', 10);
    assignSloppy(kem, 'ciphertextLength', 5e6);
    expect(kem.publicKeyLength).toBe(1184);
    expect(kem.ciphertextLength).toBe(1088);
    expect(pqc.kem('ML-KEM-768').publicKeyLength).toBe(1184);
  });

  it('keep validating with the real lengths', () => {
    const kem = pqc.kem('ML-KEM-768');
    assignSloppy(kem, 'publicKeyLength', 10);
    assignSloppy(kem, 'ciphertextLength', 5e6);
    const keys = kem.keygen();
    const { ciphertext, sharedSecret } = kem.encapsulate(keys.publicKey);
    expect(kem.decapsulate(ciphertext, keys.secretKey)).toEqual(sharedSecret);
    expect(() => kem.decapsulate(new Uint8Array(5e6), keys.secretKey)).toThrow(
      'ciphertext must be 1088 bytes for ML-KEM-768, got 5000000',
    );
    expect(() => kem.encapsulate(new Uint8Array(10))).toThrow(
      'publicKey must be 1184 bytes for ML-KEM-768, got 10',
    );
  });
});

describe('shared tables', () => {
  it('parameter sets are frozen', () => {
    for (const table of [KEM_PARAMETERS, SIGNATURE_PARAMETERS]) {
      expect(Object.isFrozen(table)).toBe(true);
      for (const entry of Object.values(table)) {
        expect(Object.isFrozen(entry)).toBe(true);
      }
    }
    const parameters = KEM_PARAMETERS['ML-KEM-512'];
    expect(() => assignStrict(parameters, 'ciphertextLength', 1)).toThrow(TypeError);
    expect(Object.isFrozen(resolveKeyAlgorithm('ML-DSA-44'))).toBe(true);
  });

  it('exported name lists are frozen', () => {
    const lists: readonly (readonly string[])[] = [
      KEM_ALGORITHMS,
      SIGNATURE_ALGORITHMS,
      PUBLIC_KEY_FORMATS,
      PRIVATE_KEY_FORMATS,
      PRIVATE_KEY_FORMS,
    ];
    for (const list of lists) {
      expect(Object.isFrozen(list)).toBe(true);
      expect(() => (list as string[]).push('extra')).toThrow(TypeError);
    }
  });
});

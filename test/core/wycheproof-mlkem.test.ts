// Every Wycheproof ML-KEM vector for the three parameter sets, through the public API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPqcError, loadPqc } from '../../src/index.js';
import type { KemAlgorithm, MlKem, PqcInstance } from '../../src/index.js';
import { hex, loadWycheproof, toHex, VectorTally } from '../helpers/vectors.js';

const reports: string[] = [];
let pqc: PqcInstance;
beforeAll(async () => {
  pqc = await loadPqc();
});
afterAll(() => {
  console.log(reports.join('\n'));
});

/** Runs `operation` and returns the code of the SDK error it threw, or undefined. */
function errorCode(operation: () => unknown): string | undefined {
  try {
    operation();
    return undefined;
  } catch (error) {
    if (isPqcError(error)) return error.code;
    throw error;
  }
}

function runKeygenSeed(kem: MlKem, file: string): VectorTally {
  const tally = new VectorTally(file);
  for (const group of loadWycheproof(file).testGroups) {
    expect(group.type).toBe('MLKEMKeyGen');
    for (const test of group.tests) {
      const keys = kem.keygen(hex(test.seed));
      expect(toHex(keys.publicKey), `tcId ${test.tcId}`).toBe(test.ek);
      expect(toHex(keys.secretKey), `tcId ${test.tcId}`).toBe(test.dk);
      tally.ran++;
    }
  }
  return tally;
}

function runCombined(kem: MlKem, file: string): VectorTally {
  const tally = new VectorTally(file);
  for (const group of loadWycheproof(file).testGroups) {
    expect(group.type).toBe('MLKEMTest');
    for (const test of group.tests) {
      const seed = hex(test.seed);
      const ciphertext = hex(test.c);
      if (test.result === 'valid') {
        const keys = kem.keygen(seed);
        expect(toHex(keys.publicKey), `tcId ${test.tcId}`).toBe(test.ek);
        expect(toHex(kem.decapsulate(ciphertext, keys.secretKey)), `tcId ${test.tcId}`).toBe(test.K);
      } else if (seed.length !== kem.seedLength) {
        expect(errorCode(() => kem.keygen(seed)), `tcId ${test.tcId}`).toBe('ERR_INVALID_LENGTH');
      } else {
        const keys = kem.keygen(seed);
        expect(errorCode(() => kem.decapsulate(ciphertext, keys.secretKey)), `tcId ${test.tcId}`).toBe(
          'ERR_INVALID_LENGTH',
        );
      }
      tally.ran++;
    }
  }
  return tally;
}

function runEncaps(kem: MlKem, file: string): VectorTally {
  const tally = new VectorTally(file);
  for (const group of loadWycheproof(file).testGroups) {
    expect(group.type).toBe('MLKEMEncapsTest');
    for (const test of group.tests) {
      const publicKey = hex(test.ek);
      const randomness = hex(test.m);
      if (test.result === 'valid') {
        const { ciphertext, sharedSecret } = kem.encapsulate(publicKey, randomness);
        expect(toHex(ciphertext), `tcId ${test.tcId}`).toBe(test.c);
        expect(toHex(sharedSecret), `tcId ${test.tcId}`).toBe(test.K);
      } else {
        const expected =
          publicKey.length === kem.publicKeyLength ? 'ERR_INVALID_PUBLIC_KEY' : 'ERR_INVALID_LENGTH';
        expect(errorCode(() => kem.encapsulate(publicKey, randomness)), `tcId ${test.tcId}`).toBe(expected);
        if (expected === 'ERR_INVALID_PUBLIC_KEY') {
          expect(errorCode(() => kem.checkPublicKey(publicKey)), `tcId ${test.tcId}`).toBe(expected);
        }
      }
      tally.ran++;
    }
  }
  return tally;
}

function runSemiExpandedDecaps(kem: MlKem, file: string): VectorTally {
  const tally = new VectorTally(file);
  for (const group of loadWycheproof(file).testGroups) {
    expect(group.type).toBe('MLKEMDecapsValidationTest');
    for (const test of group.tests) {
      const secretKey = hex(test.dk);
      const ciphertext = hex(test.c);
      if (test.result === 'valid') {
        expect(toHex(kem.decapsulate(ciphertext, secretKey)), `tcId ${test.tcId}`).toBe(test.K);
      } else {
        const lengthsMatch =
          secretKey.length === kem.secretKeyLength && ciphertext.length === kem.ciphertextLength;
        const expected = lengthsMatch ? 'ERR_INVALID_PRIVATE_KEY' : 'ERR_INVALID_LENGTH';
        expect(errorCode(() => kem.decapsulate(ciphertext, secretKey)), `tcId ${test.tcId}`).toBe(expected);
      }
      tally.ran++;
    }
  }
  return tally;
}

const suites = [
  ['keygen_seed', runKeygenSeed],
  ['test', runCombined],
  ['encaps', runEncaps],
  ['semi_expanded_decaps', runSemiExpandedDecaps],
] as const;

for (const size of ['512', '768', '1024'] as const) {
  const name = `ML-KEM-${size}` as KemAlgorithm;
  describe(`Wycheproof ${name}`, () => {
    for (const [suffix, run] of suites) {
      const file = suffix === 'test' ? `mlkem_${size}_test` : `mlkem_${size}_${suffix}_test`;
      it(`passes ${file}`, () => {
        const vectors = loadWycheproof(file);
        const tally = run(pqc.kem(name), file);
        reports.push(tally.report());
        expect(tally.notApplicable.size).toBe(0);
        expect(tally.ran).toBe(vectors.testGroups.reduce((sum, group) => sum + group.tests.length, 0));
      });
    }
  });
}

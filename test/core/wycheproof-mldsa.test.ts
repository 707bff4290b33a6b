// Every Wycheproof ML-DSA vector for the three parameter sets that the API can express. Vectors
// that give only the precomputed mu (flag "Internal") need an external-mu signing interface.
// The SDK does not offer one, so those are counted and named as not applicable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPqcError, loadPqc } from '../../src/index.js';
import type { MlDsa, PqcInstance, SignatureAlgorithm } from '../../src/index.js';
import { hex, loadWycheproof, toHex, VectorTally } from '../helpers/vectors.js';
import type { WycheproofTest } from '../helpers/vectors.js';

const EXTERNAL_MU = 'external mu only';
const DETERMINISTIC = new Uint8Array(32);
const reports: string[] = [];
let pqc: PqcInstance;
beforeAll(async () => {
  pqc = await loadPqc();
});
afterAll(() => {
  console.log(reports.join('\n'));
});

function errorCode(operation: () => unknown): string | undefined {
  try {
    operation();
    return undefined;
  } catch (error) {
    if (isPqcError(error)) return error.code;
    throw error;
  }
}

function contextOf(test: WycheproofTest): Uint8Array | undefined {
  return test.ctx === undefined ? undefined : hex(test.ctx);
}

/** Signs one sign-file vector with the given secret key and checks the outcome. */
function checkSignVector(
  dsa: MlDsa,
  test: WycheproofTest,
  secretKey: Uint8Array,
  publicKey: Uint8Array,
): void {
  const message = hex(test.msg);
  const context = contextOf(test);
  const randomness = test.rnd === undefined ? DETERMINISTIC : hex(test.rnd);
  const sign = () => dsa.sign(message, secretKey, { context, randomness });
  if (test.result === 'valid') {
    const signature = sign();
    expect(toHex(signature), `tcId ${test.tcId}`).toBe(test.sig);
    expect(dsa.verify(message, signature, publicKey, { context }), `tcId ${test.tcId}`).toBe(true);
    return;
  }
  const flags = test.flags ?? [];
  const expected = flags.includes('InvalidContext')
    ? 'ERR_CONTEXT_TOO_LONG'
    : flags.includes('IncorrectPrivateKeyLength')
      ? 'ERR_INVALID_LENGTH'
      : 'ERR_INVALID_PRIVATE_KEY';
  expect(errorCode(sign), `tcId ${test.tcId}`).toBe(expected);
}

function runSignSeed(dsa: MlDsa, file: string): VectorTally {
  const tally = new VectorTally(file);
  for (const group of loadWycheproof(file).testGroups) {
    const seed = hex(group.privateSeed);
    if (seed.length !== dsa.seedLength) {
      for (const test of group.tests) {
        expect(test.result, `tcId ${test.tcId}`).toBe('invalid');
        expect(errorCode(() => dsa.keygen(seed)), `tcId ${test.tcId}`).toBe('ERR_INVALID_LENGTH');
        tally.ran++;
      }
      continue;
    }
    const keys = dsa.keygen(seed);
    expect(toHex(keys.publicKey)).toBe(group.publicKey);
    for (const test of group.tests) {
      if (test.msg === undefined) {
        tally.skip(EXTERNAL_MU, test.tcId);
        continue;
      }
      checkSignVector(dsa, test, keys.secretKey, keys.publicKey);
      tally.ran++;
    }
  }
  return tally;
}

function runSignNoSeed(dsa: MlDsa, file: string): VectorTally {
  const tally = new VectorTally(file);
  for (const group of loadWycheproof(file).testGroups) {
    const secretKey = hex(group.privateKey);
    const publicKey = group.publicKey == null ? new Uint8Array(0) : hex(group.publicKey);
    for (const test of group.tests) {
      if (test.msg === undefined) {
        tally.skip(EXTERNAL_MU, test.tcId);
        continue;
      }
      checkSignVector(dsa, test, secretKey, publicKey);
      tally.ran++;
    }
  }
  return tally;
}

function runVerify(dsa: MlDsa, file: string): VectorTally {
  const tally = new VectorTally(file);
  for (const group of loadWycheproof(file).testGroups) {
    const publicKey = hex(group.publicKey);
    for (const test of group.tests) {
      const message = hex(test.msg);
      const signature = hex(test.sig);
      const context = contextOf(test);
      if (context !== undefined && context.length > 255) {
        expect(test.result).toBe('invalid');
        expect(errorCode(() => dsa.verify(message, signature, publicKey, { context }))).toBe(
          'ERR_CONTEXT_TOO_LONG',
        );
      } else {
        const valid = dsa.verify(message, signature, publicKey, { context });
        expect(valid, `tcId ${test.tcId}: ${test.comment}`).toBe(test.result === 'valid');
      }
      tally.ran++;
    }
  }
  return tally;
}

const suites = [
  ['sign_seed', runSignSeed],
  ['sign_noseed', runSignNoSeed],
  ['verify', runVerify],
] as const;

for (const level of ['44', '65', '87'] as const) {
  const name = `ML-DSA-${level}` as SignatureAlgorithm;
  describe(`Wycheproof ${name}`, () => {
    for (const [suffix, run] of suites) {
      const file = `mldsa_${level}_${suffix}_test`;
      it(`passes ${file}`, () => {
        const vectors = loadWycheproof(file);
        const tally = run(pqc.signature(name), file);
        reports.push(tally.report());
        const total = vectors.testGroups.reduce((sum, group) => sum + group.tests.length, 0);
        const skipped = [...tally.notApplicable.values()].reduce((sum, ids) => sum + ids.length, 0);
        expect(tally.ran + skipped).toBe(total);
        expect([...tally.notApplicable.keys()].every((reason) => reason === EXTERNAL_MU)).toBe(true);
        expect(tally.ran).toBeGreaterThan(skipped);
      });
    }
  });
}

// isPqcError across the two builds in dist/: an error thrown by the require build, checked by
// the ESM build, and the reverse. Needs `npm run build` first.
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';

type Build = typeof import('../../src/index.js');

const require = createRequire(import.meta.url);
let commonJs: Build;
let esm: Build;

beforeAll(async () => {
  commonJs = require('../../dist/index.cjs') as Build;
  esm = (await import('../../dist/index.js')) as unknown as Build;
});

/** Returns the error `build` throws for an algorithm name it does not implement. */
async function unknownAlgorithmErrorOf(build: Build): Promise<unknown> {
  const pqc = await build.loadPqc();
  try {
    pqc.kem('Kyber768' as never);
  } catch (error) {
    return error;
  }
  throw new Error('expected kem() to throw for an unknown name');
}

describe('isPqcError across builds', () => {
  it('the builds have distinct classes', () => {
    expect(commonJs.PqcError).not.toBe(esm.PqcError);
  });

  it('ESM recognises a require-build error', async () => {
    const error = await unknownAlgorithmErrorOf(commonJs);
    expect(error instanceof esm.PqcError).toBe(false);
    expect(esm.isPqcError(error)).toBe(true);
    expect(esm.isPqcError(error, 'ERR_UNKNOWN_ALGORITHM')).toBe(true);
    expect(esm.isPqcError(error, 'ERR_INVALID_ARGUMENT')).toBe(false);
  });

  it('require build recognises an ESM error', async () => {
    const error = await unknownAlgorithmErrorOf(esm);
    expect(error instanceof commonJs.PqcError).toBe(false);
    expect(commonJs.isPqcError(error)).toBe(true);
    expect(commonJs.isPqcError(error, 'ERR_UNKNOWN_ALGORITHM')).toBe(true);
    expect(commonJs.isPqcError(error, 'ERR_WASM_LOAD')).toBe(false);
  });

  it('rejects look-alikes in both builds', () => {
    const lookAlike = Object.assign(new Error('not ours'), {
      name: 'InvalidArgumentError',
      code: 'ERR_INVALID_ARGUMENT',
    });
    for (const build of [commonJs, esm]) {
      expect(build.isPqcError(lookAlike)).toBe(false);
      expect(build.isPqcError({ code: 'ERR_INVALID_ARGUMENT' })).toBe(false);
      expect(build.isPqcError(null)).toBe(false);
      expect(build.isPqcError('ERR_INVALID_ARGUMENT')).toBe(false);
    }
  });
});

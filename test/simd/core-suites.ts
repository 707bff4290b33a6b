/**
 * Runs the conformance suites of test/core against one build of the module. Those suites call
 * loadPqc() without options, which takes the build from QYNPQC_WASM_VARIANT. This helper sets
 * the variable, registers the suites by importing them, and restores the variable after the
 * file's tests.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadPqc } from '../../src/index.js';
import type { ModuleVariant } from '../../src/core/loader.js';

const VARIANT_ENV = 'QYNPQC_WASM_VARIANT';

/** Registers the test/core conformance suites in the calling test file, pinned to `variant`. */
export async function runCoreSuites(variant: ModuleVariant): Promise<void> {
  const previous = process.env[VARIANT_ENV];
  process.env[VARIANT_ENV] = variant;
  afterAll(() => {
    if (previous === undefined) {
      delete process.env[VARIANT_ENV];
    } else {
      process.env[VARIANT_ENV] = previous;
    }
  });

  describe(`${variant} build`, () => {
    it('is what loadPqc() loads by default', async () => {
      expect((await loadPqc()).moduleVariant).toBe(variant);
    });
  });

  await import('../core/api.test.js');
  await import('../core/field-reports.test.js');
  await import('../core/kat.test.js');
  await import('../core/key-methods.test.js');
  await import('../core/wycheproof-mldsa.test.js');
  await import('../core/wycheproof-mlkem.test.js');
}

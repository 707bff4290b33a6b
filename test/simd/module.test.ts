// Audits of wasm/qynpqc-simd.wasm as a file, next to wasm/qynpqc.wasm, and of how the loader
// picks between the two.
import { readFileSync } from 'node:fs';
import wabtFactory from 'wabt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compilePqcModule, loadPqc, WasmLoadError } from '../../src/index.js';
import { isSimdSupported, moduleVariantOf, selectVariant } from '../../src/core/loader.js';

const SIMD_URL = new URL('../../wasm/qynpqc-simd.wasm', import.meta.url);
const BASELINE_URL = new URL('../../wasm/qynpqc.wasm', import.meta.url);
const DIVISION = /\b(i32|i64)\.(div|rem)_[su]\b/g;
const VARIANT_ENV = 'QYNPQC_WASM_VARIANT';
const ML_DSA_SETS = ['44', '65', '87'];
/** ML-DSA reference functions that the SIMD build replaces at link time (see the Makefile). */
const WRAPPED_ML_DSA_FUNCTIONS = [
  'ntt',
  'invntt_tomont',
  'poly_pointwise_montgomery',
  'polyvec_matrix_pointwise_montgomery',
  'polyvec_matrix_expand',
  'polyvecl_uniform_eta',
  'polyveck_uniform_eta',
  'polyvecl_uniform_gamma1',
];

/** Function names of a module from its name section, mapped to their division instructions. */
async function divisionsByFunction(url: URL): Promise<Map<string, string[]>> {
  const wabt = await wabtFactory();
  const module = wabt.readWasm(readFileSync(url), { readDebugNames: true, simd: true });
  module.applyNames();
  const text = module.toText({});
  module.destroy();

  const divisions = new Map<string, string[]>();
  for (const body of text.split(/\n {2}\(func /).slice(1)) {
    const name = /^\$(\S+)/.exec(body)?.[1] ?? '(anonymous)';
    divisions.set(name, body.match(DIVISION) ?? []);
  }
  return divisions;
}

function exportNames(url: URL): string[] {
  return WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(url)))
    .map((entry) => entry.name)
    .sort();
}

function importNames(url: URL): string[] {
  return WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(url)))
    .map((entry) => `${entry.module}.${entry.name}`)
    .sort();
}

describe('SIMD module file', () => {
  let functions: Map<string, string[]>;
  beforeAll(async () => {
    functions = await divisionsByFunction(SIMD_URL);
  });

  it('imports exactly what the baseline module imports', () => {
    expect(importNames(SIMD_URL)).toEqual(importNames(BASELINE_URL));
  });

  it('exports the baseline exports plus the SIMD marker and test entry', () => {
    const expected = [...exportNames(BASELINE_URL), 'qyn_simd128', 'qyn_test_keccak_x2'].sort();
    expect(exportNames(SIMD_URL)).toEqual(expected);
  });

  it('links the ML-DSA wrappers in place of the reference functions', () => {
    for (const set of ML_DSA_SETS) {
      for (const name of WRAPPED_ML_DSA_FUNCTIONS) {
        const original = `pqcrystals_ml_dsa_${set}_ref_${name}`;
        expect(functions.has(original), `${original} is still linked`).toBe(false);
      }
    }
    const wrappers = [...functions.keys()].filter((name) => name.startsWith('__wrap_pqcrystals'));
    expect(wrappers.length).toBeGreaterThan(0);
  });

  // The linker merges identical functions and inlines small ones, so only some of the kernel
  // names survive; at least one is enough to show the backend is compiled in.
  it('links the ML-KEM native arithmetic backend', () => {
    const kernels = [...functions.keys()].filter((name) => name.startsWith('qyn_mlkem_'));
    expect(kernels.length).toBeGreaterThan(0);
  });

  // The table set-up at load time (qyn_init and what it inlines) reduces public constants with
  // the remainder operator, so it is left out.
  it('has no division or remainder in the SIMD kernels or ML-KEM encoding', () => {
    const sensitive = [...functions].filter(
      ([name]) =>
        /^(qyn_|__wrap_)|MLKEM.*(compress|tomsg|frommsg|indcpa|_enc|_dec)/.test(name) &&
        !/_init$|_install$/.test(name),
    );
    expect(sensitive.length).toBeGreaterThan(10);
    const offenders = sensitive.filter(([, divisions]) => divisions.length > 0);
    expect(offenders).toEqual([]);
  });
});

describe('module variant selection', () => {
  const previous = process.env[VARIANT_ENV];
  afterEach(() => {
    if (previous === undefined) {
      delete process.env[VARIANT_ENV];
    } else {
      process.env[VARIANT_ENV] = previous;
    }
  });

  it('detects SIMD support in this Node', () => {
    expect(isSimdSupported()).toBe(true);
  });

  it('loads the build that the simd option asks for', async () => {
    expect((await loadPqc({ simd: true })).moduleVariant).toBe('simd');
    expect((await loadPqc({ simd: false })).moduleVariant).toBe('baseline');
  });

  it('prefers the simd option over the environment variable', () => {
    process.env[VARIANT_ENV] = 'baseline';
    expect(selectVariant({ simd: true })).toBe('simd');
    expect(selectVariant({})).toBe('baseline');
    process.env[VARIANT_ENV] = 'simd';
    expect(selectVariant({ simd: false })).toBe('baseline');
    expect(selectVariant({})).toBe('simd');
  });

  it('chooses SIMD by default where it is supported', () => {
    delete process.env[VARIANT_ENV];
    expect(selectVariant({})).toBe('simd');
  });

  it('rejects an unknown variant name in the environment', () => {
    process.env[VARIANT_ENV] = 'avx2';
    expect(() => selectVariant({})).toThrow(WasmLoadError);
    expect(() => selectVariant({})).toThrow(/QYNPQC_WASM_VARIANT 'avx2'/);
  });

  it('tells the builds apart from their exports', async () => {
    const simd = await compilePqcModule({ simd: true });
    const baseline = await compilePqcModule({ simd: false });
    expect(moduleVariantOf(simd)).toBe('simd');
    expect(moduleVariantOf(baseline)).toBe('baseline');
    expect((await loadPqc({ module: simd })).moduleVariant).toBe('simd');
    expect((await loadPqc({ module: baseline })).moduleVariant).toBe('baseline');
  });

  it('produces the same keys, ciphertexts and signatures in both builds', async () => {
    const simd = await loadPqc({ simd: true });
    const baseline = await loadPqc({ simd: false });
    const seed = new Uint8Array(64).map((_, i) => i * 7);
    const randomness = new Uint8Array(32).map((_, i) => 255 - i);
    const message = new TextEncoder().encode('same bytes from both builds');

    for (const name of ['ML-KEM-512', 'ML-KEM-768', 'ML-KEM-1024'] as const) {
      const fromSimd = simd.kem(name).keygen(seed);
      const fromBaseline = baseline.kem(name).keygen(seed);
      expect(fromSimd.publicKey).toEqual(fromBaseline.publicKey);
      expect(fromSimd.secretKey).toEqual(fromBaseline.secretKey);
      const encapsulation = simd.kem(name).encapsulate(fromSimd.publicKey, randomness);
      expect(encapsulation).toEqual(baseline.kem(name).encapsulate(fromSimd.publicKey, randomness));
      expect(baseline.kem(name).decapsulate(encapsulation.ciphertext, fromSimd.secretKey)).toEqual(
        encapsulation.sharedSecret,
      );
    }

    for (const name of ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const) {
      const fromSimd = simd.signature(name).keygen(seed.subarray(0, 32));
      const fromBaseline = baseline.signature(name).keygen(seed.subarray(0, 32));
      expect(fromSimd.publicKey).toEqual(fromBaseline.publicKey);
      expect(fromSimd.secretKey).toEqual(fromBaseline.secretKey);
      const signature = simd.signature(name).sign(message, fromSimd.secretKey, { randomness });
      expect(signature).toEqual(
        baseline.signature(name).sign(message, fromSimd.secretKey, { randomness }),
      );
      expect(baseline.signature(name).verify(message, signature, fromSimd.publicKey)).toBe(true);
    }
  });
});

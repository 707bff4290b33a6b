// The two-way SIMD Keccak sponge of wasm/qynpqc-simd.wasm against node:crypto's SHA-3 and SHAKE
// (OpenSSL's scalar Keccak), on random inputs of every length from 0 to 1,000 bytes, at every
// rate that SHA-3 and SHAKE use, in both lanes at once. liboqs's scalar Keccak, which both
// builds keep for single-state hashing, is covered by the known-answer tests of both builds.
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPqc } from '../../src/index.js';
import type { PqcInstance } from '../../src/index.js';

/** The test entry point exported by the SIMD build only (native/simd/exports.c). */
interface KeccakTestExports {
  qyn_test_keccak_x2(
    rate: number,
    domain: number,
    out0: number,
    out1: number,
    outlen: number,
    in0: number,
    in1: number,
    inlen: number,
    chunk: number,
  ): number;
}

interface HashFunction {
  name: string;
  /** Block size of the sponge in bytes. */
  rate: number;
  /** Domain-separation byte including the first padding bit. */
  domain: number;
  /** Digest length for SHA-3, undefined for the extendable-output functions. */
  digestLength?: number;
}

const SHA3_DOMAIN = 0x06;
const SHAKE_DOMAIN = 0x1f;
const HASH_FUNCTIONS: readonly HashFunction[] = [
  { name: 'sha3-224', rate: 144, domain: SHA3_DOMAIN, digestLength: 28 },
  { name: 'sha3-256', rate: 136, domain: SHA3_DOMAIN, digestLength: 32 },
  { name: 'sha3-384', rate: 104, domain: SHA3_DOMAIN, digestLength: 48 },
  { name: 'sha3-512', rate: 72, domain: SHA3_DOMAIN, digestLength: 64 },
  { name: 'shake128', rate: 168, domain: SHAKE_DOMAIN },
  { name: 'shake256', rate: 136, domain: SHAKE_DOMAIN },
];
const MAX_INPUT_LENGTH = 1000;
/** Largest output requested from SHAKE: a little over three SHAKE128 blocks. */
const MAX_OUTPUT_LENGTH = 3 * 168 + 23;

let pqc: PqcInstance;
let glue: KeccakTestExports;
beforeAll(async () => {
  pqc = await loadPqc({ simd: true });
  glue = pqc.runtime.glue as unknown as KeccakTestExports;
});

/** SHAKE output length for input length `length`, spread over 1 .. MAX_OUTPUT_LENGTH. */
function outputLengthFor(length: number): number {
  return 1 + ((length * 37) % MAX_OUTPUT_LENGTH);
}

function reference(hash: HashFunction, input: Uint8Array, outputLength: number): Buffer {
  const options = hash.digestLength === undefined ? { outputLength } : undefined;
  return createHash(hash.name, options).update(input).digest();
}

/** Hashes two inputs of equal length in the two lanes of the SIMD sponge. */
function simdHash(
  hash: HashFunction,
  inputs: readonly [Uint8Array, Uint8Array],
  outputLength: number,
  chunk: number,
): [Buffer, Buffer] {
  const inputLength = inputs[0].length;
  const base = pqc.runtime.reserve(2 * inputLength + 2 * outputLength);
  const in0 = base;
  const in1 = in0 + inputLength;
  const out0 = in1 + inputLength;
  const out1 = out0 + outputLength;
  pqc.runtime.write(in0, inputs[0]);
  pqc.runtime.write(in1, inputs[1]);

  const status = glue.qyn_test_keccak_x2(
    hash.rate,
    hash.domain,
    out0,
    out1,
    outputLength,
    in0,
    in1,
    inputLength,
    chunk,
  );
  expect(status).toBe(0);
  return [
    Buffer.from(pqc.runtime.read(out0, outputLength)),
    Buffer.from(pqc.runtime.read(out1, outputLength)),
  ];
}

describe('SIMD Keccak sponge', () => {
  for (const hash of HASH_FUNCTIONS) {
    it(`matches node:crypto ${hash.name} for inputs of 0 to ${MAX_INPUT_LENGTH} bytes`, () => {
      const mismatches: string[] = [];
      for (let length = 0; length <= MAX_INPUT_LENGTH; length++) {
        const inputs = [randomBytes(length), randomBytes(length)] as const;
        const outputLength = hash.digestLength ?? outputLengthFor(length);
        const [lane0, lane1] = simdHash(hash, inputs, outputLength, 0);

        if (!lane0.equals(reference(hash, inputs[0], outputLength))) {
          mismatches.push(`lane 0, input length ${length}`);
        }
        if (!lane1.equals(reference(hash, inputs[1], outputLength))) {
          mismatches.push(`lane 1, input length ${length}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
  }

  it('gives the same output when fed and read in pieces', () => {
    const shake128 = HASH_FUNCTIONS.find((hash) => hash.name === 'shake128')!;
    const mismatches: string[] = [];
    for (const length of [0, 1, 7, 8, 9, 167, 168, 169, 335, 336, 337, 1000]) {
      for (const chunk of [1, 3, 7, 8, 13, 64, 167, 168, 169]) {
        const inputs = [randomBytes(length), randomBytes(length)] as const;
        const outputLength = outputLengthFor(length + chunk);
        const [lane0, lane1] = simdHash(shake128, inputs, outputLength, chunk);

        if (!lane0.equals(reference(shake128, inputs[0], outputLength))) {
          mismatches.push(`lane 0, input length ${length}, pieces of ${chunk}`);
        }
        if (!lane1.equals(reference(shake128, inputs[1], outputLength))) {
          mismatches.push(`lane 1, input length ${length}, pieces of ${chunk}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('rejects rates of partial lanes or no capacity', () => {
    const base = pqc.runtime.reserve(64);
    expect(glue.qyn_test_keccak_x2(100, SHAKE_DOMAIN, base, base, 0, base, base, 0, 0)).toBe(-1);
    expect(glue.qyn_test_keccak_x2(200, SHAKE_DOMAIN, base, base, 0, base, base, 0, 0)).toBe(-1);
  });
});

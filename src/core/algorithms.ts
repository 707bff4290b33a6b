/**
 * Parameter sets and byte lengths of FIPS 203 (ML-KEM) and FIPS 204 (ML-DSA), with the index
 * each one has in the WebAssembly glue (`enum qyn_alg` in native/qynpqc.c).
 */
import { KEM_ALGORITHMS, SIGNATURE_ALGORITHMS } from './types.js';
import type { KemAlgorithm, SignatureAlgorithm } from './types.js';

/** Length of every ML-KEM shared secret and of the encapsulation message m, in bytes. */
export const ML_KEM_SHARED_SECRET_LENGTH = 32;
/** Length of an ML-KEM key-generation seed d || z, in bytes. */
export const ML_KEM_SEED_LENGTH = 64;
/** Length of the ML-KEM encapsulation randomness m, in bytes. */
export const ML_KEM_RANDOMNESS_LENGTH = 32;
/** Length of an ML-DSA key-generation seed xi, in bytes. */
export const ML_DSA_SEED_LENGTH = 32;
/** Length of the ML-DSA signing randomness rnd, in bytes. */
export const ML_DSA_RANDOMNESS_LENGTH = 32;
/** Longest ML-DSA context string FIPS 204 allows, in bytes. */
export const ML_DSA_MAX_CONTEXT_LENGTH = 255;

/** Sizes of one ML-KEM parameter set. */
export interface KemParameters {
  /** Index of the parameter set in the glue. */
  readonly index: number;
  /** Module rank k. */
  readonly k: number;
  /** Encapsulation key length: 384k + 32. */
  readonly publicKeyLength: number;
  /** Decapsulation key length: 768k + 96. */
  readonly secretKeyLength: number;
  /** Ciphertext length: 32(du k + dv). */
  readonly ciphertextLength: number;
}

/** Sizes of one ML-DSA parameter set. */
export interface SignatureParameters {
  /** Index of the parameter set in the glue. */
  readonly index: number;
  /** Rows k of the matrix A. */
  readonly k: number;
  /** Columns l of the matrix A. */
  readonly l: number;
  /** Bound eta of the secret coefficients of s1 and s2. */
  readonly eta: number;
  /** Public key length: 32 + 320k. */
  readonly publicKeyLength: number;
  /** Secret key length, expanded form. */
  readonly secretKeyLength: number;
  /** Signature length. */
  readonly signatureLength: number;
}

export const KEM_PARAMETERS: Readonly<Record<KemAlgorithm, KemParameters>> = {
  'ML-KEM-512': { index: 0, k: 2, publicKeyLength: 800, secretKeyLength: 1632, ciphertextLength: 768 },
  'ML-KEM-768': { index: 1, k: 3, publicKeyLength: 1184, secretKeyLength: 2400, ciphertextLength: 1088 },
  'ML-KEM-1024': { index: 2, k: 4, publicKeyLength: 1568, secretKeyLength: 3168, ciphertextLength: 1568 },
};

export const SIGNATURE_PARAMETERS: Readonly<Record<SignatureAlgorithm, SignatureParameters>> = {
  'ML-DSA-44': { index: 3, k: 4, l: 4, eta: 2, publicKeyLength: 1312, secretKeyLength: 2560, signatureLength: 2420 },
  'ML-DSA-65': { index: 4, k: 6, l: 5, eta: 4, publicKeyLength: 1952, secretKeyLength: 4032, signatureLength: 3309 },
  'ML-DSA-87': { index: 5, k: 8, l: 7, eta: 2, publicKeyLength: 2592, secretKeyLength: 4896, signatureLength: 4627 },
};

/** Freezes `table` and each of its entries, so that the shared parameter sets cannot change. */
function freezeTable(table: Readonly<Record<string, object>>): void {
  for (const entry of Object.values(table)) {
    Object.freeze(entry);
  }
  Object.freeze(table);
}

freezeTable(KEM_PARAMETERS);
freezeTable(SIGNATURE_PARAMETERS);

/** Every algorithm name the SDK implements. */
export const ALL_ALGORITHMS: readonly string[] = Object.freeze([
  ...KEM_ALGORITHMS,
  ...SIGNATURE_ALGORITHMS,
]);

export function isKemAlgorithm(name: unknown): name is KemAlgorithm {
  return typeof name === 'string' && Object.hasOwn(KEM_PARAMETERS, name);
}

export function isSignatureAlgorithm(name: unknown): name is SignatureAlgorithm {
  return typeof name === 'string' && Object.hasOwn(SIGNATURE_PARAMETERS, name);
}

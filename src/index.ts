/**
 * @qynauth/pqc: ML-KEM (FIPS 203) and ML-DSA (FIPS 204) from liboqs compiled to WebAssembly.
 *
 * ```ts
 * const pqc = await loadPqc();
 * const kem = pqc.kem('ML-KEM-768');
 * const { publicKey, secretKey } = kem.keygen();
 * ```
 *
 * `createPqcPool()` runs the same operations in worker threads. The MongoDB key store is a
 * separate entry point, `@qynauth/pqc/store`, so that code which never touches a database does
 * not load the driver.
 */
export { loadPqc, PqcInstance } from './core/pqc.js';
export { compilePqcModule } from './core/loader.js';
export type { LoadOptions } from './core/loader.js';
export { MlKem } from './core/kem.js';
export { MlDsa } from './core/signature.js';
export { KEM_ALGORITHMS, SIGNATURE_ALGORITHMS } from './core/types.js';
export type {
  AlgorithmLengths,
  Encapsulation,
  Kem,
  KemAlgorithm,
  KeyPair,
  Pqc,
  SignatureAlgorithm,
  SignatureScheme,
  SignOptions,
  VerifyOptions,
} from './core/types.js';
export {
  ML_DSA_MAX_CONTEXT_LENGTH,
  ML_DSA_RANDOMNESS_LENGTH,
  ML_DSA_SEED_LENGTH,
  ML_KEM_RANDOMNESS_LENGTH,
  ML_KEM_SEED_LENGTH,
  ML_KEM_SHARED_SECRET_LENGTH,
} from './core/algorithms.js';
export * from './errors.js';
export * from './keys/index.js';
export * from './pool/index.js';

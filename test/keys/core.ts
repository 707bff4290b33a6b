/** Seed-to-key-pair callbacks backed by the real WebAssembly core, for the key tests. */
import { loadPqc } from '../../src/index.js';
import type { KeyPair } from '../../src/index.js';
import { isKemAlgorithm } from '../../src/core/algorithms.js';
import type { KeyAlgorithm } from '../../src/keys/algorithms.js';

/** Every parameter set the key module encodes. */
export const ALGORITHMS: readonly KeyAlgorithm[] = [
  'ML-KEM-512',
  'ML-KEM-768',
  'ML-KEM-1024',
  'ML-DSA-44',
  'ML-DSA-65',
  'ML-DSA-87',
];

const pqc = await loadPqc();

/** Returns the core's keygen for `algorithm`, taking an optional seed. */
export function keygenFor(algorithm: KeyAlgorithm): (seed?: Uint8Array) => KeyPair {
  if (isKemAlgorithm(algorithm)) {
    const kem = pqc.kem(algorithm);
    return (seed) => kem.keygen(seed);
  }
  const scheme = pqc.signature(algorithm);
  return (seed) => scheme.keygen(seed);
}

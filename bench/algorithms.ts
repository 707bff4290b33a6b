/** The parameter sets and operations the benchmark walks through. */
import { KEM_ALGORITHMS, SIGNATURE_ALGORITHMS } from '../src/core/types.js';
import type { KemAlgorithm } from '../src/index.js';
import type { Algorithm, Operation } from './types.js';
import { KEM_OPERATIONS, SIGNATURE_OPERATIONS } from './types.js';

/** All six parameter sets, ML-KEM first. */
export const ALGORITHMS: readonly Algorithm[] = [...KEM_ALGORITHMS, ...SIGNATURE_ALGORITHMS];

/** Returns whether `algorithm` is an ML-KEM parameter set. */
export function isKemAlgorithm(algorithm: Algorithm): algorithm is KemAlgorithm {
  return (KEM_ALGORITHMS as readonly string[]).includes(algorithm);
}

/** Returns the three operations of `algorithm`. */
export function operationsOf(algorithm: Algorithm): readonly Operation[] {
  return isKemAlgorithm(algorithm) ? KEM_OPERATIONS : SIGNATURE_OPERATIONS;
}

/** Validation of raw public keys shared by every import, export and fingerprint function. */
import { InvalidArgumentError } from '../errors.js';
import { checkMlKemModulus } from '../core/modulus.js';
import { requireLength } from '../core/validate.js';
import { resolveKeyAlgorithm } from './algorithms.js';
import type { KeyAlgorithm, KeyAlgorithmInfo } from './algorithms.js';

/**
 * Throws `InvalidPublicKeyError` unless every 12-bit coefficient packed in the first 384k bytes
 * of the ML-KEM encapsulation key `publicKey` is below q = 3329 (the FIPS 203 modulus check,
 * section 7.2), and `InvalidLengthError` unless the key has the length of `algorithm`.
 */
export function checkMlKemPublicKeyModulus(algorithm: KeyAlgorithm, publicKey: Uint8Array): void {
  const info = resolveKeyAlgorithm(algorithm);
  if (info.family !== 'ML-KEM') {
    throw new InvalidArgumentError(
      `checkMlKemPublicKeyModulus applies to ML-KEM keys only, got ${info.name}`,
    );
  }

  requireLength(publicKey, 'publicKey', info.name, info.publicKeyLength);
  checkMlKemModulus(info.name, publicKey, info.k);
}

/**
 * Throws unless `publicKey` is a Uint8Array of the length `info` requires and, for ML-KEM,
 * passes the modulus check. ML-DSA public keys have no further input check: FIPS 204 pkDecode
 * accepts every byte string of the right length.
 */
export function checkPublicKey(
  info: KeyAlgorithmInfo,
  publicKey: unknown,
  parameter = 'publicKey',
): Uint8Array {
  const bytes = requireLength(publicKey, parameter, info.name, info.publicKeyLength);
  if (info.family === 'ML-KEM') {
    checkMlKemModulus(info.name, bytes, info.k);
  }
  return bytes;
}

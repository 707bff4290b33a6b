/** Range check of an expanded ML-DSA signing key, which the liboqs reference code omits. */
import { InvalidPrivateKeyError } from '../errors.js';
import type { SignatureParameters } from './algorithms.js';

/** Bytes of rho, K and tr that precede s1 in the signing key (FIPS 204, skEncode). */
const SECRET_KEY_PREFIX_LENGTH = 32 + 32 + 64;
const COEFFICIENTS_PER_POLYNOMIAL = 256;

/**
 * Throws unless every coefficient of s1 and s2 in `secretKey` decodes into [-eta, eta]. FIPS 204
 * packs each as eta - c in 3 bits (eta = 2) or 4 bits (eta = 4); a larger c means the key was
 * not produced by ML-DSA.KeyGen and would sign with an out-of-range secret.
 */
export function checkMlDsaSecretKey(
  algorithm: string,
  secretKey: Uint8Array,
  parameters: SignatureParameters,
): void {
  const bits = parameters.eta === 2 ? 3 : 4;
  const maxEncoded = 2 * parameters.eta;
  const polynomials = parameters.k + parameters.l;
  const length = (polynomials * COEFFICIENTS_PER_POLYNOMIAL * bits) / 8;
  const mask = (1 << bits) - 1;

  let accumulator = 0;
  let available = 0;
  let coefficient = 0;
  for (let offset = SECRET_KEY_PREFIX_LENGTH; offset < SECRET_KEY_PREFIX_LENGTH + length; offset++) {
    accumulator |= secretKey[offset]! << available;
    available += 8;
    while (available >= bits) {
      if ((accumulator & mask) > maxEncoded) {
        const vector = coefficient < parameters.l * COEFFICIENTS_PER_POLYNOMIAL ? 's1' : 's2';
        throw new InvalidPrivateKeyError(
          `secretKey is not a valid ${algorithm} signing key: a coefficient of ${vector} is ` +
            `outside [-${parameters.eta}, ${parameters.eta}]; the key is corrupted`,
        );
      }
      accumulator >>>= bits;
      available -= bits;
      coefficient++;
    }
  }
}

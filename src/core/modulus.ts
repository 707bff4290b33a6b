/** The FIPS 203 encapsulation-key modulus check, in TypeScript so it runs without the module. */
import { InvalidPublicKeyError } from '../errors.js';

/** The ML-KEM modulus q = 3329 = 13 * 2^8 + 1. */
export const ML_KEM_Q = 3329;

/**
 * Throws unless every 12-bit coefficient packed in the first 384k bytes of `publicKey` is below
 * q (FIPS 203, section 7.2, "modulus check"). The length must already have been checked.
 */
export function checkMlKemModulus(algorithm: string, publicKey: Uint8Array, k: number): void {
  const packedLength = 384 * k;
  for (let offset = 0; offset < packedLength; offset += 3) {
    const b0 = publicKey[offset]!;
    const b1 = publicKey[offset + 1]!;
    const b2 = publicKey[offset + 2]!;
    const first = b0 | ((b1 & 0x0f) << 8);
    const second = (b1 >> 4) | (b2 << 4);
    if (first >= ML_KEM_Q || second >= ML_KEM_Q) {
      const index = (offset / 3) * 2 + (first >= ML_KEM_Q ? 0 : 1);
      throw new InvalidPublicKeyError(
        `publicKey is not a valid ${algorithm} encapsulation key: coefficient ${index} is ` +
          `not below q = ${ML_KEM_Q} (FIPS 203 modulus check); the key is corrupted or ` +
          `belongs to another algorithm`,
      );
    }
  }
}

/**
 * Checks of registered public keys that go beyond the SDK's length and modulus checks. A key whose
 * part derived from the secret key is all zero is well formed, but the matching secret follows
 * from the public key alone.
 */
import { HttpError } from './http.js';

/** Bytes of the public seed ρ in ML-KEM (FIPS 203) and ML-DSA (FIPS 204) public keys. */
const RHO_LENGTH = 32;

function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

function degenerateKeyError(field: string, part: string, consequence: string): HttpError {
  return new HttpError(
    400,
    'ERR_INVALID_PUBLIC_KEY',
    `${field} is invalid: its ${part} is all zero, so ${consequence}. Generate a new key pair`,
  );
}

/**
 * Throws 400 when the encoded t̂ of an ML-KEM encapsulation key `publicKey` (every byte before
 * the final 32-byte ρ) is all zero. Then the ciphertext hides the message under nothing but
 * small noise, and anyone can decapsulate without the secret key.
 */
export function rejectZeroKemKey(publicKey: Uint8Array, field: string): void {
  if (isAllZero(publicKey.subarray(0, publicKey.length - RHO_LENGTH))) {
    throw degenerateKeyError(field, 't̂ part', 'anyone can decapsulate without the secret key');
  }
}

/**
 * Throws 400 when t1 of an ML-DSA public key `publicKey` (every byte after the first 32-byte ρ)
 * is all zero. Then verification does not depend on the secret key, and anyone can sign.
 */
export function rejectZeroSignatureKey(publicKey: Uint8Array, field: string): void {
  if (isAllZero(publicKey.subarray(RHO_LENGTH))) {
    throw degenerateKeyError(field, 't1 part', 'anyone can make signatures that verify');
  }
}

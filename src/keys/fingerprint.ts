/**
 * Stable identifiers for public keys: base64url (RFC 4648, section 5, no padding) of SHA-256 over
 * the DER SubjectPublicKeyInfo. Hashing the SPKI rather than the raw key binds the algorithm, so
 * the same bytes under two parameter sets can never share a fingerprint.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { InvalidArgumentError } from '../errors.js';
import {
  requireKemAlgorithm,
  requireSignatureAlgorithm,
  resolveKeyAlgorithm,
} from './algorithms.js';
import type { KeyAlgorithm } from './algorithms.js';
import { encodeBase64Url } from './base64.js';
import { concatBytes } from './der.js';
import { checkPublicKey } from './public-key-check.js';
import { encodeSubjectPublicKeyInfo } from './spki.js';

/** A public key together with the name of its parameter set. */
export interface AlgorithmPublicKey {
  /** Parameter set name, for example `ML-KEM-768` or `ML-DSA-65`. */
  algorithm: string;
  /** Raw FIPS 203 / FIPS 204 public key. */
  publicKey: Uint8Array;
}

function requireObject(value: unknown, parameter: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(
      `${parameter} must be an object { algorithm, publicKey }, got ${value === null ? 'null' : typeof value}`,
    );
  }
}

/**
 * Returns the fingerprint of `publicKey`: 43 base64url characters of SHA-256 over its DER
 * SubjectPublicKeyInfo. Throws `InvalidLengthError` for a key of the wrong length and, for
 * ML-KEM, `InvalidPublicKeyError` for a key that fails the modulus check.
 */
export function fingerprintPublicKey(algorithm: KeyAlgorithm, publicKey: Uint8Array): string {
  const info = resolveKeyAlgorithm(algorithm);
  const bytes = checkPublicKey(info, publicKey);

  return encodeBase64Url(sha256(encodeSubjectPublicKeyInfo(info, bytes)));
}

/**
 * Returns the identifier of a KEM and signature key pair: 43 base64url characters of SHA-256
 * over SPKI(kem) || SPKI(signature). Each SPKI is a self-delimiting DER SEQUENCE, so the
 * concatenation is unambiguous. Throws `InvalidArgumentError` unless `kem` is an ML-KEM key and
 * `signature` an ML-DSA key.
 */
export function keyPairId(kem: AlgorithmPublicKey, signature: AlgorithmPublicKey): string {
  requireObject(kem, 'kem');
  requireObject(signature, 'signature');

  const kemInfo = requireKemAlgorithm(kem.algorithm, 'kem.algorithm');
  const signatureInfo = requireSignatureAlgorithm(signature.algorithm, 'signature.algorithm');
  const kemKey = checkPublicKey(kemInfo, kem.publicKey, 'kem.publicKey');
  const signatureKey = checkPublicKey(signatureInfo, signature.publicKey, 'signature.publicKey');

  const kemSpki = encodeSubjectPublicKeyInfo(kemInfo, kemKey);
  const signatureSpki = encodeSubjectPublicKeyInfo(signatureInfo, signatureKey);
  return encodeBase64Url(sha256(concatBytes(kemSpki, signatureSpki)));
}

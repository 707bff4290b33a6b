/**
 * Import of ML-KEM and ML-DSA private keys from PKCS#8 (DER or PEM) and AKP JWK. A seed is
 * expanded through the caller's keygen, so the result never depends on an expanded key that
 * someone else computed. Every public or expanded key stored beside the seed must match.
 */
import { InvalidArgumentError, InvalidPrivateKeyError } from '../errors.js';
import { requireBytes, requireOptions } from '../core/validate.js';
import type { KeyPair } from '../core/types.js';
import { resolveKeyAlgorithm } from './algorithms.js';
import type { KeyAlgorithm, KeyAlgorithmInfo } from './algorithms.js';
import {
  checkKeyConsistency,
  checkMlKemSecretKey,
  embeddedMlKemPublicKey,
  equalBytes,
} from './consistency.js';
import { parseJwk } from './jwk.js';
import { decodePem } from './pem.js';
import { decodePkcs8 } from './pkcs8.js';
import type { DecodedPkcs8 } from './pkcs8.js';
import { requirePrivateKeyFormat } from './private-key.js';
import type { EncodedPrivateKey, PrivateKeyFormat } from './private-key.js';
import { checkPublicKey } from './public-key-check.js';

/** Names of the fields of {@link ImportPrivateKeyOptions}. */
const IMPORT_OPTIONS: readonly string[] = ['publicKey'];

/** Options of {@link importPrivateKey}. */
export interface ImportPrivateKeyOptions {
  /**
   * Public key of the pair. Required to import an ML-DSA key that holds only the expanded key and
   * no v2 `publicKey` field, because the signing key stores tr = H(publicKey) but not t1. When
   * given in other cases it must match the imported key.
   */
  publicKey?: Uint8Array;
}

/** Result of {@link importPrivateKey}. */
export interface ImportedPrivateKey {
  /** Seed, when the encoding contained one. */
  seed?: Uint8Array;
  /** Expanded secret key. */
  secretKey: Uint8Array;
  /** Raw public key. */
  publicKey: Uint8Array;
}

/** Key generation from a seed, such as `pqc.kem(algorithm).keygen` or `pqc.signature(...).keygen`. */
export type DeriveKeyPair = (seed: Uint8Array) => KeyPair;

/** Calls `deriveFromSeed` and checks that its result has the lengths of `info`. */
function derive(info: KeyAlgorithmInfo, deriveFromSeed: DeriveKeyPair, seed: Uint8Array): KeyPair {
  const pair = deriveFromSeed(seed);
  const valid =
    typeof pair === 'object' &&
    pair !== null &&
    pair.publicKey instanceof Uint8Array &&
    pair.publicKey.length === info.publicKeyLength &&
    pair.secretKey instanceof Uint8Array &&
    pair.secretKey.length === info.secretKeyLength;
  if (!valid) {
    throw new InvalidArgumentError(
      `deriveFromSeed did not return a ${info.name} key pair { publicKey, secretKey } of ` +
        `${info.publicKeyLength} and ${info.secretKeyLength} bytes; pass the keygen of ${info.name}`,
    );
  }
  return pair;
}

function requireSamePublicKey(
  info: KeyAlgorithmInfo,
  derived: Uint8Array,
  stated: Uint8Array | undefined,
  source: string,
): void {
  if (stated !== undefined && !equalBytes(derived, stated)) {
    throw new InvalidPrivateKeyError(
      `${source} does not match the public key computed from the ${info.name} private key; ` +
        `the two come from different key pairs`,
    );
  }
}

function resolveFromSeed(
  info: KeyAlgorithmInfo,
  decoded: DecodedPkcs8,
  seed: Uint8Array,
  deriveFromSeed: DeriveKeyPair,
): ImportedPrivateKey {
  const pair = derive(info, deriveFromSeed, seed);

  if (decoded.expandedKey !== undefined && !equalBytes(pair.secretKey, decoded.expandedKey)) {
    throw new InvalidPrivateKeyError(
      `the seed and the expandedKey of this ${info.name} private key do not match: keygen from ` +
        `the seed gives a different expanded key; the encoding is corrupted or was assembled ` +
        `from two keys`,
    );
  }
  return { seed: seed.slice(), secretKey: pair.secretKey, publicKey: pair.publicKey };
}

function resolveFromExpandedKey(
  info: KeyAlgorithmInfo,
  expandedKey: Uint8Array,
  publicKey: Uint8Array | undefined,
): ImportedPrivateKey {
  if (info.family === 'ML-KEM') {
    checkMlKemSecretKey(info, expandedKey);
    return { secretKey: expandedKey.slice(), publicKey: embeddedMlKemPublicKey(info, expandedKey) };
  }

  if (publicKey === undefined) {
    throw new InvalidArgumentError(
      `this ${info.name} private key holds only the expanded signing key, which does not ` +
        `contain the public key; pass options.publicKey, or export the key with its seed`,
    );
  }
  checkKeyConsistency(info, { secretKey: expandedKey, publicKey });
  return { secretKey: expandedKey.slice(), publicKey: publicKey.slice() };
}

function decodeInput(
  info: KeyAlgorithmInfo,
  data: unknown,
  format: PrivateKeyFormat,
): DecodedPkcs8 {
  if (format === 'jwk') {
    const { seed, publicKey } = parseJwk(info, data, 'private');
    return { form: 'seed', seed, publicKey };
  }
  if (format === 'pkcs8-der') {
    return decodePkcs8(info, requireBytes(data, 'pkcs8-der private key data'));
  }

  if (typeof data !== 'string') {
    throw new InvalidArgumentError(
      `pkcs8-pem private key data must be a string, got ${typeof data}`,
    );
  }
  const der = decodePem(data, 'PRIVATE KEY');
  try {
    return decodePkcs8(info, der);
  } finally {
    der.fill(0);
  }
}

/**
 * Decodes a private key of `algorithm` from `format` and returns the seed (when present), the
 * expanded secret key and the public key.
 *
 * - A seed is expanded with `deriveFromSeed`. An expanded key stored beside it must equal the
 *   result, and so must a public key from the JWK `pub`, the PKCS#8 v2 `publicKey` field or
 *   `options.publicKey`.
 * - An ML-KEM expanded key alone must pass the FIPS 203 hash check, and its public key is the
 *   encapsulation key stored inside it.
 * - An ML-DSA expanded key alone needs the public key from the PKCS#8 v2 field or
 *   `options.publicKey`, checked against rho and tr in the signing key. Its s1 and s2 ranges are
 *   checked when the key is used to sign, not here.
 *
 * Throws `InvalidEncodingError` or `InvalidLengthError` for malformed input, and
 * `InvalidPrivateKeyError` when the parts of the key do not belong together.
 */
export function importPrivateKey(
  algorithm: KeyAlgorithm,
  data: EncodedPrivateKey,
  format: PrivateKeyFormat,
  deriveFromSeed: DeriveKeyPair,
  options?: ImportPrivateKeyOptions,
): ImportedPrivateKey {
  const info = resolveKeyAlgorithm(algorithm);
  const checkedFormat = requirePrivateKeyFormat(format);
  if (typeof deriveFromSeed !== 'function') {
    throw new InvalidArgumentError(
      `deriveFromSeed must be a function, such as (seed) => pqc.kem('ML-KEM-768').keygen(seed), ` +
        `got ${typeof deriveFromSeed}`,
    );
  }
  const fields = requireOptions(options, 'importPrivateKey', IMPORT_OPTIONS);
  const statedPublicKey =
    fields['publicKey'] === undefined
      ? undefined
      : checkPublicKey(info, fields['publicKey'], 'options.publicKey');

  const decoded = decodeInput(info, data, checkedFormat);
  const embeddedSource =
    checkedFormat === 'jwk' ? 'the JWK pub member' : 'the PKCS#8 publicKey field';
  try {
    if (decoded.publicKey !== undefined) {
      checkPublicKey(info, decoded.publicKey, embeddedSource);
    }

    const imported =
      decoded.seed !== undefined
        ? resolveFromSeed(info, decoded, decoded.seed, deriveFromSeed)
        : resolveFromExpandedKey(info, decoded.expandedKey!, decoded.publicKey ?? statedPublicKey);

    requireSamePublicKey(info, imported.publicKey, decoded.publicKey, embeddedSource);
    requireSamePublicKey(info, imported.publicKey, statedPublicKey, 'options.publicKey');
    return imported;
  } finally {
    decoded.seed?.fill(0);
    decoded.expandedKey?.fill(0);
  }
}

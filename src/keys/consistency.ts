/**
 * Checks, in TypeScript and without the WebAssembly module, that a seed, an expanded secret key
 * and a public key belong to one key pair. They compare the parts each value determines cheaply:
 *
 * - ML-KEM (FIPS 203, algorithms 13 and 16): the decapsulation key is
 *   dkPKE || ek || H(ek) || z, the encapsulation key ek ends with rho, and (rho, sigma) =
 *   SHA3-512(d || k). So the seed d || z fixes z and rho, and dk contains ek in full.
 * - ML-DSA (FIPS 204, algorithms 6 and 24): (rho, rho', K) = SHAKE256(xi || k || l, 128 bytes),
 *   the signing key begins rho || K || tr with tr = SHAKE256(pk, 64 bytes), and pk begins with rho.
 *
 * A seed check is partial: it proves that the secret key was derived from the seed only when the
 * remaining parts also match, which importing through the core's keygen confirms.
 */
import { sha3_256, sha3_512, shake256 } from '@noble/hashes/sha3.js';
import { InvalidPrivateKeyError, InvalidPublicKeyError } from '../errors.js';
import { checkMlKemModulus } from '../core/modulus.js';
import type { KeyAlgorithmInfo } from './algorithms.js';

/** Length of rho, K, z and every hash that the layouts above place side by side, in bytes. */
const PART_LENGTH = 32;
/** Length of the ML-DSA public key hash tr, in bytes. */
const ML_DSA_TR_LENGTH = 64;
/** Output of SHAKE256(xi || k || l) in ML-DSA key generation: rho (32), rho' (64), K (32). */
const ML_DSA_SEED_EXPANSION_LENGTH = 128;
/** Bytes of one packed ML-KEM polynomial vector entry: 256 coefficients of 12 bits. */
const ML_KEM_POLYNOMIAL_BYTES = 384;

/** Compares `a` and `b` in time that depends only on their lengths. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  let difference = 0;
  for (let index = 0; index < a.length; index++) {
    difference |= a[index]! ^ b[index]!;
  }
  return difference === 0;
}

function mismatch(info: KeyAlgorithmInfo, first: string, second: string, part: string): never {
  throw new InvalidPrivateKeyError(
    `${first} and ${second} do not belong to the same ${info.name} key pair (${part} differs); ` +
      `pass values taken from one key pair`,
  );
}

/** Returns a copy of the encapsulation key ek stored inside the ML-KEM decapsulation key. */
export function embeddedMlKemPublicKey(info: KeyAlgorithmInfo, secretKey: Uint8Array): Uint8Array {
  const start = ML_KEM_POLYNOMIAL_BYTES * info.k;
  return secretKey.slice(start, start + info.publicKeyLength);
}

/**
 * Throws `InvalidPrivateKeyError` unless the ek inside the ML-KEM decapsulation key passes the
 * modulus check and the stored H(ek) equals SHA3-256(ek) (the FIPS 203, section 7.3 input check).
 */
export function checkMlKemSecretKey(info: KeyAlgorithmInfo, secretKey: Uint8Array): void {
  const publicKey = embeddedMlKemPublicKey(info, secretKey);
  try {
    checkMlKemModulus(info.name, publicKey, info.k);
  } catch (error) {
    if (!(error instanceof InvalidPublicKeyError)) throw error;
    throw new InvalidPrivateKeyError(
      `secretKey is not a valid ${info.name} decapsulation key: the encapsulation key inside it ` +
        `fails the FIPS 203 modulus check`,
      { cause: error },
    );
  }

  const hashStart = ML_KEM_POLYNOMIAL_BYTES * info.k + info.publicKeyLength;
  const storedHash = secretKey.subarray(hashStart, hashStart + PART_LENGTH);
  if (!equalBytes(sha3_256(publicKey), storedHash)) {
    throw new InvalidPrivateKeyError(
      `secretKey is not a valid ${info.name} decapsulation key: the hash H(ek) stored in it does ` +
        `not match the encapsulation key stored in it (FIPS 203 input check)`,
    );
  }
}

/** Returns rho and, for ML-DSA, K as derived from `seed`. */
function seedParts(
  info: KeyAlgorithmInfo,
  seed: Uint8Array,
): { rho: Uint8Array; key?: Uint8Array } {
  if (info.family === 'ML-KEM') {
    const input = new Uint8Array(PART_LENGTH + 1);
    input.set(seed.subarray(0, PART_LENGTH));
    input[PART_LENGTH] = info.k;
    const expanded = sha3_512(input);
    const rho = expanded.slice(0, PART_LENGTH);
    input.fill(0);
    expanded.fill(0);
    return { rho };
  }

  const input = new Uint8Array(seed.length + 2);
  input.set(seed);
  input[seed.length] = info.k;
  input[seed.length + 1] = info.l;
  const expanded = shake256(input, { dkLen: ML_DSA_SEED_EXPANSION_LENGTH });
  const rho = expanded.slice(0, PART_LENGTH);
  const key = expanded.slice(ML_DSA_SEED_EXPANSION_LENGTH - PART_LENGTH);
  input.fill(0);
  expanded.fill(0);
  return { rho, key };
}

/** Throws `InvalidPrivateKeyError` if `secretKey` visibly was not derived from `seed`. */
export function checkSecretKeyMatchesSeed(
  info: KeyAlgorithmInfo,
  seed: Uint8Array,
  secretKey: Uint8Array,
): void {
  const { rho, key } = seedParts(info, seed);

  if (info.family === 'ML-KEM') {
    const z = seed.subarray(PART_LENGTH);
    if (!equalBytes(z, secretKey.subarray(secretKey.length - PART_LENGTH))) {
      mismatch(info, 'seed', 'secretKey', 'z');
    }
    const rhoStart = ML_KEM_POLYNOMIAL_BYTES * info.k + info.publicKeyLength - PART_LENGTH;
    if (!equalBytes(rho, secretKey.subarray(rhoStart, rhoStart + PART_LENGTH))) {
      mismatch(info, 'seed', 'secretKey', 'rho');
    }
    return;
  }

  if (!equalBytes(rho, secretKey.subarray(0, PART_LENGTH))) {
    mismatch(info, 'seed', 'secretKey', 'rho');
  }
  if (!equalBytes(key!, secretKey.subarray(PART_LENGTH, 2 * PART_LENGTH))) {
    mismatch(info, 'seed', 'secretKey', 'K');
  }
}

/** Throws `InvalidPrivateKeyError` if `publicKey` visibly was not derived from `seed`. */
export function checkPublicKeyMatchesSeed(
  info: KeyAlgorithmInfo,
  seed: Uint8Array,
  publicKey: Uint8Array,
): void {
  const { rho } = seedParts(info, seed);
  const rhoStart = info.family === 'ML-KEM' ? publicKey.length - PART_LENGTH : 0;

  if (!equalBytes(rho, publicKey.subarray(rhoStart, rhoStart + PART_LENGTH))) {
    mismatch(info, 'seed', 'publicKey', 'rho');
  }
}

/**
 * Throws `InvalidPrivateKeyError` unless `publicKey` belongs to `secretKey`. For ML-KEM the
 * decapsulation key contains the public key in full. For ML-DSA the signing key contains rho and
 * tr = SHAKE256(publicKey), which binds the whole public key.
 */
export function checkPublicKeyMatchesSecretKey(
  info: KeyAlgorithmInfo,
  publicKey: Uint8Array,
  secretKey: Uint8Array,
): void {
  if (info.family === 'ML-KEM') {
    if (!equalBytes(publicKey, embeddedMlKemPublicKey(info, secretKey))) {
      mismatch(info, 'publicKey', 'secretKey', 'the encapsulation key');
    }
    return;
  }

  if (!equalBytes(publicKey.subarray(0, PART_LENGTH), secretKey.subarray(0, PART_LENGTH))) {
    mismatch(info, 'publicKey', 'secretKey', 'rho');
  }
  const tr = shake256(publicKey, { dkLen: ML_DSA_TR_LENGTH });
  const trStart = 2 * PART_LENGTH;
  if (!equalBytes(tr, secretKey.subarray(trStart, trStart + ML_DSA_TR_LENGTH))) {
    mismatch(info, 'publicKey', 'secretKey', 'tr = H(publicKey)');
  }
}

/** Runs every check above that the present values allow. */
export function checkKeyConsistency(
  info: KeyAlgorithmInfo,
  values: { seed?: Uint8Array; secretKey?: Uint8Array; publicKey?: Uint8Array },
): void {
  const { seed, secretKey, publicKey } = values;
  if (seed !== undefined && secretKey !== undefined) {
    checkSecretKeyMatchesSeed(info, seed, secretKey);
  }
  if (seed !== undefined && publicKey !== undefined) {
    checkPublicKeyMatchesSeed(info, seed, publicKey);
  }
  if (publicKey !== undefined && secretKey !== undefined) {
    checkPublicKeyMatchesSecretKey(info, publicKey, secretKey);
  }
}

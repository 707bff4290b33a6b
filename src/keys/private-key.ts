/**
 * Export and import of ML-KEM and ML-DSA private keys as PKCS#8 (DER or PEM) and AKP JWK. The seed
 * is the preferred form: importing it recomputes the key pair through the caller's keygen, so
 * the result never depends on an expanded key that someone else computed.
 */
import { InternalError, InvalidArgumentError, InvalidPrivateKeyError } from '../errors.js';
import { requireBytes, requireLength } from '../core/validate.js';
import type { KeyPair } from '../core/types.js';
import { resolveKeyAlgorithm } from './algorithms.js';
import type { KeyAlgorithm, KeyAlgorithmInfo } from './algorithms.js';
import {
  checkKeyConsistency,
  checkMlKemSecretKey,
  embeddedMlKemPublicKey,
  equalBytes,
} from './consistency.js';
import { encodePrivateJwk, parseJwk } from './jwk.js';
import type { AkpPrivateJwk } from './jwk.js';
import { decodePem, encodePem } from './pem.js';
import { decodePkcs8, encodePkcs8, PRIVATE_KEY_FORMS } from './pkcs8.js';
import type { DecodedPkcs8, PrivateKeyForm } from './pkcs8.js';
import { checkPublicKey } from './public-key-check.js';

/** Private key encodings: PKCS#8 OneAsymmetricKey as DER or PEM, or an AKP JSON Web Key. */
export type PrivateKeyFormat = 'pkcs8-der' | 'pkcs8-pem' | 'jwk';

/** Every private key format. */
export const PRIVATE_KEY_FORMATS: readonly PrivateKeyFormat[] = ['pkcs8-der', 'pkcs8-pem', 'jwk'];

/** An encoded private key: bytes for `pkcs8-der`, a string for `pkcs8-pem`, an object for `jwk`. */
export type EncodedPrivateKey = Uint8Array | string | AkpPrivateJwk;

/** Key material to export; a whole `KeyPair` from keygen fits. */
export interface PrivateKeyMaterial {
  /** Key-generation seed: d || z (64 bytes) for ML-KEM, xi (32 bytes) for ML-DSA. */
  seed?: Uint8Array;
  /** Expanded secret key. */
  secretKey?: Uint8Array;
  /** Raw public key; required for an ML-DSA JWK and for `includePublicKey` with ML-DSA. */
  publicKey?: Uint8Array;
}

/** Options of {@link exportPrivateKey}. */
export interface ExportPrivateKeyOptions {
  /** PKCS#8 private key CHOICE to write; `seed` by default. A JWK always carries the seed. */
  form?: PrivateKeyForm;
  /** Writes a OneAsymmetricKey v2 with the `publicKey` field (PKCS#8 only); false by default. */
  includePublicKey?: boolean;
}

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

function requireFormat(format: unknown): PrivateKeyFormat {
  if (!PRIVATE_KEY_FORMATS.includes(format as PrivateKeyFormat)) {
    throw new InvalidArgumentError(
      `unknown private key format ${JSON.stringify(String(format))}; use one of ` +
        PRIVATE_KEY_FORMATS.join(', '),
    );
  }
  return format as PrivateKeyFormat;
}

function requireObject(value: unknown, parameter: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) {
    const actual =
      value === null ? 'null' : value instanceof Uint8Array ? 'a Uint8Array' : typeof value;
    throw new InvalidArgumentError(`${parameter} must be an object, got ${actual}`);
  }
  return value as Record<string, unknown>;
}

/** Validates the lengths of the present fields of `key` and that they belong together. */
function readMaterial(info: KeyAlgorithmInfo, key: unknown): PrivateKeyMaterial {
  const fields = requireObject(key, 'key');
  const material: PrivateKeyMaterial = {};
  if (fields['seed'] !== undefined) {
    material.seed = requireLength(fields['seed'], 'seed', info.name, info.seedLength);
  }
  if (fields['secretKey'] !== undefined) {
    material.secretKey = requireLength(
      fields['secretKey'],
      'secretKey',
      info.name,
      info.secretKeyLength,
    );
  }
  if (fields['publicKey'] !== undefined) {
    material.publicKey = checkPublicKey(info, fields['publicKey']);
  }

  checkKeyConsistency(info, material);
  return material;
}

function requireField(
  value: Uint8Array | undefined,
  field: string,
  purpose: string,
  fix: string,
): Uint8Array {
  if (value === undefined) {
    throw new InvalidArgumentError(`${purpose} needs key.${field}; ${fix}`);
  }
  return value;
}

/** Returns the public key of `material`, which ML-KEM secret keys contain in full. */
function publicKeyOf(
  info: KeyAlgorithmInfo,
  material: PrivateKeyMaterial,
  purpose: string,
): Uint8Array {
  if (material.publicKey !== undefined) {
    return material.publicKey;
  }
  if (info.family === 'ML-KEM' && material.secretKey !== undefined) {
    return embeddedMlKemPublicKey(info, material.secretKey);
  }
  return requireField(undefined, 'publicKey', purpose, 'pass the whole key pair from keygen');
}

function readExportOptions(options: unknown): { form?: PrivateKeyForm; includePublicKey: boolean } {
  const fields = options === undefined ? {} : requireObject(options, 'options');
  const form = fields['form'];
  if (form !== undefined && !PRIVATE_KEY_FORMS.includes(form as PrivateKeyForm)) {
    throw new InvalidArgumentError(
      `unknown private key form ${JSON.stringify(String(form))}; use one of ` +
        PRIVATE_KEY_FORMS.join(', '),
    );
  }
  const includePublicKey = fields['includePublicKey'] ?? false;
  if (typeof includePublicKey !== 'boolean') {
    throw new InvalidArgumentError(
      `options.includePublicKey must be a boolean, got ${typeof includePublicKey}`,
    );
  }
  return { form: form as PrivateKeyForm | undefined, includePublicKey };
}

function exportJwk(
  info: KeyAlgorithmInfo,
  material: PrivateKeyMaterial,
  form: PrivateKeyForm | undefined,
): AkpPrivateJwk {
  if (form !== undefined && form !== 'seed') {
    throw new InvalidArgumentError(
      `a JWK private key always carries the seed, so form '${form}' is not available; omit ` +
        `options.form or use pkcs8-der`,
    );
  }
  const seed = requireField(
    material.seed,
    'seed',
    `a ${info.name} JWK`,
    'a key imported without its seed can be exported as PKCS#8 with form expandedKey',
  );
  return encodePrivateJwk(info, publicKeyOf(info, material, `a ${info.name} JWK`), seed);
}

function exportPkcs8(
  info: KeyAlgorithmInfo,
  material: PrivateKeyMaterial,
  form: PrivateKeyForm,
  includePublicKey: boolean,
): Uint8Array {
  const purpose = `PKCS#8 form '${form}'`;
  const seed =
    form === 'expandedKey'
      ? undefined
      : requireField(
          material.seed,
          'seed',
          purpose,
          'a key imported without its seed can only be exported with form expandedKey',
        );
  const expandedKey =
    form === 'seed'
      ? undefined
      : requireField(
          material.secretKey,
          'secretKey',
          purpose,
          'pass the whole key pair from keygen',
        );
  const publicKey = includePublicKey ? publicKeyOf(info, material, 'includePublicKey') : undefined;

  return encodePkcs8(info, form, { seed, expandedKey, publicKey });
}

/**
 * Encodes the private key `key` of `algorithm` in `format`. PKCS#8 writes `options.form`
 * (default `seed`, the form the LAMPS profiles prefer); a JWK always writes the seed and the
 * public key. Fields that are present must belong to one key pair: a mismatch that the seed,
 * rho, K, z or tr reveal raises `InvalidPrivateKeyError`.
 */
export function exportPrivateKey(
  algorithm: KeyAlgorithm,
  key: PrivateKeyMaterial,
  format: 'pkcs8-der',
  options?: ExportPrivateKeyOptions,
): Uint8Array;
export function exportPrivateKey(
  algorithm: KeyAlgorithm,
  key: PrivateKeyMaterial,
  format: 'pkcs8-pem',
  options?: ExportPrivateKeyOptions,
): string;
export function exportPrivateKey(
  algorithm: KeyAlgorithm,
  key: PrivateKeyMaterial,
  format: 'jwk',
  options?: ExportPrivateKeyOptions,
): AkpPrivateJwk;
export function exportPrivateKey(
  algorithm: KeyAlgorithm,
  key: PrivateKeyMaterial,
  format: PrivateKeyFormat,
  options?: ExportPrivateKeyOptions,
): EncodedPrivateKey;
export function exportPrivateKey(
  algorithm: KeyAlgorithm,
  key: PrivateKeyMaterial,
  format: PrivateKeyFormat,
  options?: ExportPrivateKeyOptions,
): EncodedPrivateKey {
  const info = resolveKeyAlgorithm(algorithm);
  const checkedFormat = requireFormat(format);
  const { form, includePublicKey } = readExportOptions(options);
  const material = readMaterial(info, key);

  if (checkedFormat === 'jwk') {
    return exportJwk(info, material, form);
  }

  const der = exportPkcs8(info, material, form ?? 'seed', includePublicKey);
  if (checkedFormat === 'pkcs8-der') {
    return der;
  }
  // NOTE: the PEM string keeps the secret until it is garbage collected; strings cannot be wiped.
  const pem = encodePem('PRIVATE KEY', der);
  der.fill(0);
  return pem;
}

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
    throw new InternalError(
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
        `the encoding was assembled from two different keys`,
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
  const checkedFormat = requireFormat(format);
  if (typeof deriveFromSeed !== 'function') {
    throw new InvalidArgumentError(
      `deriveFromSeed must be a function, such as pqc.kem('ML-KEM-768').keygen bound to its ` +
        `object, got ${typeof deriveFromSeed}`,
    );
  }
  const fields = options === undefined ? {} : requireObject(options, 'options');
  const statedPublicKey =
    fields['publicKey'] === undefined
      ? undefined
      : checkPublicKey(info, fields['publicKey'], 'options.publicKey');

  const decoded = decodeInput(info, data, checkedFormat);
  const embeddedSource =
    checkedFormat === 'jwk' ? 'the JWK pub member' : 'the PKCS#8 publicKey field';
  if (decoded.publicKey !== undefined) {
    checkPublicKey(info, decoded.publicKey, embeddedSource);
  }
  if (decoded.publicKey !== undefined && statedPublicKey !== undefined) {
    requireSamePublicKey(info, decoded.publicKey, statedPublicKey, 'options.publicKey');
  }

  const imported =
    decoded.seed !== undefined
      ? resolveFromSeed(info, decoded, decoded.seed, deriveFromSeed)
      : resolveFromExpandedKey(info, decoded.expandedKey!, decoded.publicKey ?? statedPublicKey);

  requireSamePublicKey(info, imported.publicKey, decoded.publicKey, embeddedSource);
  requireSamePublicKey(info, imported.publicKey, statedPublicKey, 'options.publicKey');
  decoded.seed?.fill(0);
  decoded.expandedKey?.fill(0);
  return imported;
}

/**
 * Private key formats and the export of ML-KEM and ML-DSA private keys as PKCS#8 (DER or PEM) and
 * AKP JWK. The seed is the preferred form because it is small and every other form follows from
 * it; the import side is in private-key-import.ts.
 */
import { InvalidArgumentError } from '../errors.js';
import { requireLength, requireOptions } from '../core/validate.js';
import { resolveKeyAlgorithm } from './algorithms.js';
import type { KeyAlgorithm, KeyAlgorithmInfo } from './algorithms.js';
import { checkKeyConsistency, checkMlKemSecretKey, embeddedMlKemPublicKey } from './consistency.js';
import { encodePrivateJwk } from './jwk.js';
import type { AkpPrivateJwk } from './jwk.js';
import { encodePem } from './pem.js';
import { encodePkcs8, PRIVATE_KEY_FORMS } from './pkcs8.js';
import type { PrivateKeyForm } from './pkcs8.js';
import { checkPublicKey } from './public-key-check.js';

/** Private key encodings: PKCS#8 OneAsymmetricKey as DER or PEM, or an AKP JSON Web Key. */
export type PrivateKeyFormat = 'pkcs8-der' | 'pkcs8-pem' | 'jwk';

/** Every private key format. */
export const PRIVATE_KEY_FORMATS: readonly PrivateKeyFormat[] = Object.freeze([
  'pkcs8-der',
  'pkcs8-pem',
  'jwk',
]);

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

/** Names of the fields of {@link ExportPrivateKeyOptions}. */
const EXPORT_OPTIONS: readonly string[] = ['form', 'includePublicKey'];

/** Throws unless `format` is one of {@link PRIVATE_KEY_FORMATS}. */
export function requirePrivateKeyFormat(format: unknown): PrivateKeyFormat {
  if (!PRIVATE_KEY_FORMATS.includes(format as PrivateKeyFormat)) {
    throw new InvalidArgumentError(
      `unknown private key format ${JSON.stringify(String(format))}; use one of ` +
        PRIVATE_KEY_FORMATS.join(', '),
    );
  }
  return format as PrivateKeyFormat;
}

/** Throws unless `value` is a non-null object other than a byte array. */
export function requireObject(value: unknown, parameter: string): Record<string, unknown> {
  if (value === null) {
    throw new InvalidArgumentError(`${parameter} must be an object, got null`);
  }
  if (value instanceof Uint8Array) {
    throw new InvalidArgumentError(`${parameter} must be an object, got a Uint8Array`);
  }
  if (typeof value !== 'object') {
    throw new InvalidArgumentError(`${parameter} must be an object, got ${typeof value}`);
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
    if (info.family === 'ML-KEM') {
      checkMlKemSecretKey(info, material.secretKey);
    }
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
  const fields = requireOptions(options, 'exportPrivateKey', EXPORT_OPTIONS);
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
 * (default `seed`, the smallest form); a JWK always writes the seed and the
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
  const checkedFormat = requirePrivateKeyFormat(format);
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

/** Export and import of ML-KEM and ML-DSA public keys in raw, base64, SPKI and JWK form. */
import { InvalidArgumentError } from '../errors.js';
import { requireBytes } from '../core/validate.js';
import { resolveKeyAlgorithm } from './algorithms.js';
import type { KeyAlgorithm } from './algorithms.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { encodePublicJwk, parseJwk } from './jwk.js';
import type { AkpPublicJwk } from './jwk.js';
import { decodePem, encodePem } from './pem.js';
import { checkPublicKey } from './public-key-check.js';
import { decodeSubjectPublicKeyInfo, encodeSubjectPublicKeyInfo } from './spki.js';

/**
 * Public key encodings: `raw` (the FIPS 203 / FIPS 204 bytes), `base64` (padded base64 of the raw
 * bytes), `spki-der` and `spki-pem` (SubjectPublicKeyInfo) and `jwk` (AKP JSON Web Key).
 *
 * Import of `base64` ignores whitespace before and after the text, such as the final newline of
 * a file, as the PEM decoder does. Whitespace inside the text is rejected with its position,
 * because the base64 of a key is written as one line.
 */
export type PublicKeyFormat = 'raw' | 'base64' | 'spki-der' | 'spki-pem' | 'jwk';

/** Every public key format. */
export const PUBLIC_KEY_FORMATS: readonly PublicKeyFormat[] = Object.freeze([
  'raw',
  'base64',
  'spki-der',
  'spki-pem',
  'jwk',
]);

/** An encoded public key: bytes for `raw` and `spki-der`, a string for `base64` and `spki-pem`. */
export type EncodedPublicKey = Uint8Array | string | AkpPublicJwk;

function requireFormat(format: unknown): PublicKeyFormat {
  if (!PUBLIC_KEY_FORMATS.includes(format as PublicKeyFormat)) {
    throw new InvalidArgumentError(
      `unknown public key format ${JSON.stringify(String(format))}; use one of ` +
        PUBLIC_KEY_FORMATS.join(', '),
    );
  }
  return format as PublicKeyFormat;
}

function requireString(data: unknown, format: PublicKeyFormat): string {
  if (typeof data !== 'string') {
    const actual = data instanceof Uint8Array ? 'a Uint8Array' : typeof data;
    throw new InvalidArgumentError(`${format} public key data must be a string, got ${actual}`);
  }
  return data;
}

/** Decodes the `base64` format, ignoring whitespace around the text but not inside it. */
function decodeTrimmedBase64(text: string): Uint8Array {
  const leading = text.length - text.trimStart().length;
  return decodeBase64(text.trim(), 'base64 public key', leading);
}

/**
 * Encodes the raw `publicKey` of `algorithm` in `format`. Throws `InvalidLengthError` for a key of
 * the wrong length and, for ML-KEM, `InvalidPublicKeyError` for a key that fails the modulus check.
 */
export function exportPublicKey(
  algorithm: KeyAlgorithm,
  publicKey: Uint8Array,
  format: 'raw' | 'spki-der',
): Uint8Array;
export function exportPublicKey(
  algorithm: KeyAlgorithm,
  publicKey: Uint8Array,
  format: 'base64' | 'spki-pem',
): string;
export function exportPublicKey(
  algorithm: KeyAlgorithm,
  publicKey: Uint8Array,
  format: 'jwk',
): AkpPublicJwk;
export function exportPublicKey(
  algorithm: KeyAlgorithm,
  publicKey: Uint8Array,
  format: PublicKeyFormat,
): EncodedPublicKey;
export function exportPublicKey(
  algorithm: KeyAlgorithm,
  publicKey: Uint8Array,
  format: PublicKeyFormat,
): EncodedPublicKey {
  const info = resolveKeyAlgorithm(algorithm);
  const checkedFormat = requireFormat(format);
  const key = checkPublicKey(info, publicKey);

  switch (checkedFormat) {
    case 'raw':
      return key.slice();
    case 'base64':
      return encodeBase64(key);
    case 'spki-der':
      return encodeSubjectPublicKeyInfo(info, key);
    case 'spki-pem':
      return encodePem('PUBLIC KEY', encodeSubjectPublicKeyInfo(info, key));
    case 'jwk':
      return encodePublicJwk(info, key);
  }
}

/**
 * Decodes a public key of `algorithm` from `format` and returns the raw key. `jwk` accepts an
 * object or its JSON text. Throws `InvalidEncodingError` for malformed input or a key of another
 * algorithm, `InvalidLengthError` for a key of the wrong length and, for ML-KEM,
 * `InvalidPublicKeyError` for a key that fails the FIPS 203 modulus check.
 */
export function importPublicKey(
  algorithm: KeyAlgorithm,
  data: EncodedPublicKey,
  format: PublicKeyFormat,
): Uint8Array {
  const info = resolveKeyAlgorithm(algorithm);
  const checkedFormat = requireFormat(format);

  let publicKey: Uint8Array;
  switch (checkedFormat) {
    case 'raw':
      publicKey = requireBytes(data, 'raw public key data').slice();
      break;
    case 'base64':
      publicKey = decodeTrimmedBase64(requireString(data, checkedFormat));
      break;
    case 'spki-der':
      publicKey = decodeSubjectPublicKeyInfo(info, requireBytes(data, 'spki-der public key data'));
      break;
    case 'spki-pem':
      publicKey = decodeSubjectPublicKeyInfo(
        info,
        decodePem(requireString(data, checkedFormat), 'PUBLIC KEY'),
      );
      break;
    case 'jwk':
      publicKey = parseJwk(info, data, 'public').publicKey;
      break;
  }

  return checkPublicKey(info, publicKey);
}

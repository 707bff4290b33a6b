/**
 * JSON Web Keys of key type `AKP` (Algorithm Key Pair), as draft-ietf-cose-dilithium defines them
 * for ML-DSA: `alg` names the parameter set, `pub` is the base64url raw public key and `priv` the
 * base64url 32-byte seed xi. ML-KEM keys use the same shape with `alg` set to `ML-KEM-512`,
 * `ML-KEM-768` or `ML-KEM-1024` and `priv` the 64-byte seed d || z.
 *
 * NOTE: no JOSE specification registers ML-KEM `alg` values for AKP keys yet. Other software may
 * not read ML-KEM JWKs, and the shape may change once a specification exists.
 */
import { InvalidEncodingError, InvalidLengthError } from '../errors.js';
import { ALL_ALGORITHMS } from '../core/algorithms.js';
import type { KeyAlgorithm, KeyAlgorithmInfo } from './algorithms.js';
import { decodeBase64Url, encodeBase64Url } from './base64.js';

/** Key type of every JWK this module reads and writes. */
export const AKP_KEY_TYPE = 'AKP';

/** Public AKP JSON Web Key. */
export interface AkpPublicJwk {
  /** Always `AKP`. */
  kty: 'AKP';
  /** Parameter set name, for example `ML-DSA-65`. */
  alg: KeyAlgorithm;
  /** base64url (no padding) of the raw public key. */
  pub: string;
}

/** Private AKP JSON Web Key. */
export interface AkpPrivateJwk extends AkpPublicJwk {
  /** base64url (no padding) of the key-generation seed. */
  priv: string;
}

/** Key material read from a JWK; lengths are checked, key contents are not. */
export interface ParsedJwk {
  /** Raw public key from `pub`. */
  publicKey: Uint8Array;
  /** Seed from `priv`, present only in private keys. */
  seed?: Uint8Array;
}

/** Builds the public JWK of `publicKey`. */
export function encodePublicJwk(info: KeyAlgorithmInfo, publicKey: Uint8Array): AkpPublicJwk {
  return { kty: AKP_KEY_TYPE, alg: info.name, pub: encodeBase64Url(publicKey) };
}

/** Builds the private JWK of `publicKey` and its seed. */
export function encodePrivateJwk(
  info: KeyAlgorithmInfo,
  publicKey: Uint8Array,
  seed: Uint8Array,
): AkpPrivateJwk {
  return { ...encodePublicJwk(info, publicKey), priv: encodeBase64Url(seed) };
}

function toObject(data: unknown): Record<string, unknown> {
  let value = data;
  if (typeof data === 'string') {
    try {
      value = JSON.parse(data) as unknown;
    } catch (error) {
      throw new InvalidEncodingError('invalid JWK: the string is not valid JSON', { cause: error });
    }
  }

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const actual = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new InvalidEncodingError(`invalid JWK: expected a JSON object, got ${actual}`);
  }
  return value as Record<string, unknown>;
}

function readBase64UrlMember(jwk: Record<string, unknown>, member: string): Uint8Array {
  const value = jwk[member];
  if (typeof value !== 'string') {
    throw new InvalidEncodingError(
      `invalid JWK: member '${member}' must be a base64url string, got ${typeof value}`,
    );
  }
  return decodeBase64Url(value, `JWK member '${member}'`);
}

/**
 * Reads an AKP JWK of `info` from an object or a JSON string. With `kind` `public` a `priv`
 * member is rejected, and with `private` it is required, so a key never crosses that line
 * silently. Members other than `kty`, `alg`, `pub` and `priv` (such as `kid`) are ignored.
 */
export function parseJwk(
  info: KeyAlgorithmInfo,
  data: unknown,
  kind: 'public' | 'private',
): ParsedJwk {
  const jwk = toObject(data);

  if (jwk['kty'] !== AKP_KEY_TYPE) {
    throw new InvalidEncodingError(
      `invalid JWK: kty is ${JSON.stringify(jwk['kty'])}, expected "AKP" for ${info.name}`,
    );
  }
  if (jwk['alg'] !== info.name) {
    const known = ALL_ALGORITHMS.includes(String(jwk['alg']));
    const hint = known ? '; import it with the algorithm it was made for' : '';
    throw new InvalidEncodingError(
      `invalid JWK: alg is ${JSON.stringify(jwk['alg'])}, expected "${info.name}"${hint}`,
    );
  }

  const publicKey = readBase64UrlMember(jwk, 'pub');
  if (publicKey.length !== info.publicKeyLength) {
    throw new InvalidLengthError('publicKey', info.name, info.publicKeyLength, publicKey.length);
  }

  if (kind === 'public') {
    if ('priv' in jwk) {
      throw new InvalidEncodingError(
        'invalid public JWK: it contains the private member "priv"; import it with ' +
          'importPrivateKey, or remove "priv" before sharing the key',
      );
    }
    return { publicKey };
  }

  if (!('priv' in jwk)) {
    throw new InvalidEncodingError(
      'invalid private JWK: the "priv" member is missing; a JWK without it is a public key',
    );
  }
  const seed = readBase64UrlMember(jwk, 'priv');
  if (seed.length !== info.seedLength) {
    throw new InvalidLengthError('seed', info.name, info.seedLength, seed.length);
  }
  return { publicKey, seed };
}

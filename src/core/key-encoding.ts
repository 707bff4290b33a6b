/**
 * Key import and export methods shared by the ML-KEM and ML-DSA objects. They bind the
 * algorithm name and the seed-based key generation to the functions of src/keys.
 */
import { fingerprintPublicKey } from '../keys/fingerprint.js';
import type { AkpPrivateJwk, AkpPublicJwk } from '../keys/jwk.js';
import { exportPrivateKey } from '../keys/private-key.js';
import type {
  EncodedPrivateKey,
  ExportPrivateKeyOptions,
  PrivateKeyFormat,
  PrivateKeyMaterial,
} from '../keys/private-key.js';
import { importPrivateKey } from '../keys/private-key-import.js';
import type { ImportedPrivateKey, ImportPrivateKeyOptions } from '../keys/private-key-import.js';
import { exportPublicKey, importPublicKey } from '../keys/public-key.js';
import type { EncodedPublicKey, PublicKeyFormat } from '../keys/public-key.js';
import type { KemAlgorithm, KeyPair, SignatureAlgorithm } from './types.js';

export abstract class KeyEncoding {
  abstract readonly name: KemAlgorithm | SignatureAlgorithm;
  abstract keygen(seed?: Uint8Array): KeyPair;

  /** Encodes a raw public key as `raw`, `base64`, `spki-der`, `spki-pem` or `jwk`. */
  exportPublicKey(publicKey: Uint8Array, format: 'raw' | 'spki-der'): Uint8Array;
  exportPublicKey(publicKey: Uint8Array, format: 'base64' | 'spki-pem'): string;
  exportPublicKey(publicKey: Uint8Array, format: 'jwk'): AkpPublicJwk;
  exportPublicKey(publicKey: Uint8Array, format: PublicKeyFormat): EncodedPublicKey;
  exportPublicKey(publicKey: Uint8Array, format: PublicKeyFormat): EncodedPublicKey {
    return exportPublicKey(this.name, publicKey, format);
  }

  /** Decodes a public key from `format` and returns the raw key, after the length and modulus checks. */
  importPublicKey(data: EncodedPublicKey, format: PublicKeyFormat): Uint8Array {
    return importPublicKey(this.name, data, format);
  }

  /** Encodes a private key as PKCS#8 (DER or PEM; seed form by default) or as a JWK. */
  exportPrivateKey(key: PrivateKeyMaterial, format: 'pkcs8-der', options?: ExportPrivateKeyOptions): Uint8Array;
  exportPrivateKey(key: PrivateKeyMaterial, format: 'pkcs8-pem', options?: ExportPrivateKeyOptions): string;
  exportPrivateKey(key: PrivateKeyMaterial, format: 'jwk', options?: ExportPrivateKeyOptions): AkpPrivateJwk;
  exportPrivateKey(
    key: PrivateKeyMaterial,
    format: PrivateKeyFormat,
    options?: ExportPrivateKeyOptions,
  ): EncodedPrivateKey;
  exportPrivateKey(
    key: PrivateKeyMaterial,
    format: PrivateKeyFormat,
    options?: ExportPrivateKeyOptions,
  ): EncodedPrivateKey {
    return exportPrivateKey(this.name, key, format, options);
  }

  /** Decodes a private key; a seed is expanded again with this algorithm's key generation. */
  importPrivateKey(
    data: EncodedPrivateKey,
    format: PrivateKeyFormat,
    options?: ImportPrivateKeyOptions,
  ): ImportedPrivateKey {
    return importPrivateKey(this.name, data, format, (seed) => this.keygen(seed), options);
  }

  /** Returns the base64url SHA-256 fingerprint of the public key's SubjectPublicKeyInfo. */
  fingerprint(publicKey: Uint8Array): string {
    return fingerprintPublicKey(this.name, publicKey);
  }
}

/**
 * Key encodings for ML-KEM and ML-DSA: raw, base64, SubjectPublicKeyInfo and PKCS#8 (DER and
 * PEM) as the IETF LAMPS profiles define them, AKP JSON Web Keys, and SPKI fingerprints. Pure
 * TypeScript, so it runs in Node and in browsers without the WebAssembly module.
 */
export {
  ML_DSA_44_OID,
  ML_DSA_65_OID,
  ML_DSA_87_OID,
  ML_KEM_1024_OID,
  ML_KEM_512_OID,
  ML_KEM_768_OID,
} from './algorithms.js';
export type { KeyAlgorithm } from './algorithms.js';
export { fingerprintPublicKey, keyPairId } from './fingerprint.js';
export type { AlgorithmPublicKey } from './fingerprint.js';
export type { AkpPrivateJwk, AkpPublicJwk } from './jwk.js';
export { PRIVATE_KEY_FORMS } from './pkcs8.js';
export type { PrivateKeyForm } from './pkcs8.js';
export { exportPrivateKey, PRIVATE_KEY_FORMATS } from './private-key.js';
export type {
  EncodedPrivateKey,
  ExportPrivateKeyOptions,
  PrivateKeyFormat,
  PrivateKeyMaterial,
} from './private-key.js';
export { importPrivateKey } from './private-key-import.js';
export type {
  DeriveKeyPair,
  ImportedPrivateKey,
  ImportPrivateKeyOptions,
} from './private-key-import.js';
export { checkMlKemPublicKeyModulus } from './public-key-check.js';
export { exportPublicKey, importPublicKey, PUBLIC_KEY_FORMATS } from './public-key.js';
export type { EncodedPublicKey, PublicKeyFormat } from './public-key.js';

/** Public types of the worker pool: the in-thread core's API with promises, plus batches. */
import type { LoadOptions } from '../core/loader.js';
import type {
  AlgorithmLengths,
  Encapsulation,
  KemAlgorithm,
  KeyPair,
  SignatureAlgorithm,
  SignOptions,
  VerifyOptions,
} from '../core/types.js';
import type { AkpPrivateJwk, AkpPublicJwk } from '../keys/jwk.js';
import type {
  EncodedPrivateKey,
  ExportPrivateKeyOptions,
  PrivateKeyFormat,
  PrivateKeyMaterial,
} from '../keys/private-key.js';
import type { ImportedPrivateKey, ImportPrivateKeyOptions } from '../keys/private-key-import.js';
import type { EncodedPublicKey, PublicKeyFormat } from '../keys/public-key.js';
import type { VerifyItem } from './protocol.js';

export type { VerifyItem };

/** Logger the pool reports worker starts, exits and crashes to; `pino` loggers fit. */
export interface PoolLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Options of {@link createPqcPool}; the WebAssembly source fields are those of `loadPqc`. */
export interface PoolOptions extends LoadOptions {
  /**
   * Number of worker threads. Default: `os.availableParallelism()` in Node,
   * `navigator.hardwareConcurrency` in browsers (2 when a browser does not report it).
   */
  size?: number;
  /**
   * Maximum number of tasks waiting for a worker; a call that would exceed it rejects with
   * `ERR_QUEUE_FULL` before anything is queued. A single call is one task. A batch is one task
   * per 64 items, and at least 4 × `size` tasks when it has that many items. Infinity turns
   * the limit off. Default: 1024 × `size`.
   */
  maxQueue?: number;
  /**
   * Milliseconds an idle worker lives before it exits; the pool starts a new one when work
   * arrives. 0 or Infinity keeps workers until the pool closes. Default: 0.
   */
  idleTimeout?: number;
  /** Aborting it terminates the pool: pending calls reject with `ERR_ABORTED`. */
  signal?: AbortSignal;
  /**
   * URL of the worker script, for bundlers that move it. In Node it must be an absolute file: or
   * data: URL, for example from `pathToFileURL(path)`. Default: `pool-worker.js` next to the
   * bundle (dist/pool-worker.js in Node, dist/browser/pool-worker.js in browsers).
   */
  workerUrl?: string | URL;
  /** Receives worker lifecycle events and caught errors; the pool is silent without it. */
  logger?: PoolLogger;
}

/** Options every pooled call accepts. */
export interface CallOptions {
  /** Aborts the call: before it starts it never runs; once running, its result is dropped. */
  signal?: AbortSignal;
  /**
   * Transfers the ArrayBuffers behind the byte-array inputs to the worker instead of copying
   * them, which detaches them in the caller. A view that covers only part of its buffer, a
   * buffer used twice in one call, and the secret key shared by the tasks of a batch are
   * copied instead. Default: false.
   */
  transfer?: boolean;
}

/** Options of a pooled `sign`. */
export interface PoolSignOptions extends SignOptions, CallOptions {}

/** Options of a pooled `verify`. */
export interface PoolVerifyOptions extends VerifyOptions, CallOptions {}

/** Options of `encapsulateBatch`. */
export interface EncapsulateBatchOptions extends CallOptions {
  /** One 32-byte message m per public key, for reproducible encapsulation; random by default. */
  randomness?: readonly Uint8Array[];
}

/** Options of `signBatch`. */
export interface SignBatchOptions extends CallOptions {
  /** FIPS 204 context string used for every message, at most 255 bytes. */
  context?: Uint8Array;
  /** One 32-byte rnd per message; fresh random bytes (hedged signing) by default. */
  randomness?: readonly Uint8Array[];
}

/** Options of a pooled `exportPrivateKey`. */
export interface PoolExportPrivateKeyOptions extends ExportPrivateKeyOptions, CallOptions {}

/** Options of a pooled `importPrivateKey`. */
export interface PoolImportPrivateKeyOptions extends ImportPrivateKeyOptions, CallOptions {}

/**
 * Key import, export and checks of a pooled parameter set. Each method resolves to what the
 * in-thread method of the same name returns and rejects with the same error classes and codes.
 * Everything runs on the calling thread because it needs no WebAssembly, except key generation
 * from the seed when `importPrivateKey` reads a key that contains one. That step runs in a
 * worker. `transfer` has no effect on the calling-thread methods, since their inputs never cross.
 */
export interface PooledKeyEncoding {
  /** Encodes a raw public key as `raw`, `base64`, `spki-der`, `spki-pem` or `jwk`. */
  exportPublicKey(
    publicKey: Uint8Array,
    format: 'raw' | 'spki-der',
    options?: CallOptions,
  ): Promise<Uint8Array>;
  exportPublicKey(
    publicKey: Uint8Array,
    format: 'base64' | 'spki-pem',
    options?: CallOptions,
  ): Promise<string>;
  exportPublicKey(
    publicKey: Uint8Array,
    format: 'jwk',
    options?: CallOptions,
  ): Promise<AkpPublicJwk>;
  exportPublicKey(
    publicKey: Uint8Array,
    format: PublicKeyFormat,
    options?: CallOptions,
  ): Promise<EncodedPublicKey>;
  /** Decodes a public key and resolves to the raw key, after the length and modulus checks. */
  importPublicKey(
    data: EncodedPublicKey,
    format: PublicKeyFormat,
    options?: CallOptions,
  ): Promise<Uint8Array>;
  /** Encodes a private key as PKCS#8 (DER or PEM; seed form by default) or as a JWK. */
  exportPrivateKey(
    key: PrivateKeyMaterial,
    format: 'pkcs8-der',
    options?: PoolExportPrivateKeyOptions,
  ): Promise<Uint8Array>;
  exportPrivateKey(
    key: PrivateKeyMaterial,
    format: 'pkcs8-pem',
    options?: PoolExportPrivateKeyOptions,
  ): Promise<string>;
  exportPrivateKey(
    key: PrivateKeyMaterial,
    format: 'jwk',
    options?: PoolExportPrivateKeyOptions,
  ): Promise<AkpPrivateJwk>;
  exportPrivateKey(
    key: PrivateKeyMaterial,
    format: PrivateKeyFormat,
    options?: PoolExportPrivateKeyOptions,
  ): Promise<EncodedPrivateKey>;
  /** Decodes a private key. A seed is expanded again by key generation in a worker. */
  importPrivateKey(
    data: EncodedPrivateKey,
    format: PrivateKeyFormat,
    options?: PoolImportPrivateKeyOptions,
  ): Promise<ImportedPrivateKey>;
  /** Resolves to the base64url SHA-256 fingerprint of the public key's SubjectPublicKeyInfo. */
  fingerprint(publicKey: Uint8Array, options?: CallOptions): Promise<string>;
  /**
   * Resolves if `publicKey` has the length of this parameter set and, for ML-KEM, passes the
   * FIPS 203 modulus check. Otherwise it rejects with the error the in-thread method throws.
   */
  checkPublicKey(publicKey: Uint8Array, options?: CallOptions): Promise<void>;
}

/**
 * An ML-KEM parameter set run in the pool. Each method returns a promise of what the in-thread
 * `Kem` method returns and rejects with the same error classes and codes.
 */
export interface PooledKem extends AlgorithmLengths, PooledKeyEncoding {
  readonly name: KemAlgorithm;
  /** Length of a ciphertext in bytes. */
  readonly ciphertextLength: number;
  /** Length of a shared secret in bytes (32). */
  readonly sharedSecretLength: number;
  /** Generates a key pair, from the 64-byte seed d || z when one is given. */
  keygen(seed?: Uint8Array, options?: CallOptions): Promise<KeyPair>;
  /** Encapsulates to `publicKey`, with the 32-byte message m when one is given. */
  encapsulate(
    publicKey: Uint8Array,
    randomness?: Uint8Array,
    options?: CallOptions,
  ): Promise<Encapsulation>;
  /** Decapsulates; a foreign or tampered ciphertext yields the implicit-rejection secret. */
  decapsulate(
    ciphertext: Uint8Array,
    secretKey: Uint8Array,
    options?: CallOptions,
  ): Promise<Uint8Array>;
  /** Generates `count` key pairs, or one per 64-byte seed when given an array of seeds. */
  keygenBatch(
    countOrSeeds: number | readonly Uint8Array[],
    options?: CallOptions,
  ): Promise<KeyPair[]>;
  /** Encapsulates once to each public key; results are in input order. */
  encapsulateBatch(
    publicKeys: readonly Uint8Array[],
    options?: EncapsulateBatchOptions,
  ): Promise<Encapsulation[]>;
  /** Decapsulates every ciphertext with one secret key; results are in input order. */
  decapsulateBatch(
    ciphertexts: readonly Uint8Array[],
    secretKey: Uint8Array,
    options?: CallOptions,
  ): Promise<Uint8Array[]>;
}

/**
 * An ML-DSA parameter set run in the pool. Each method returns a promise of what the in-thread
 * `SignatureScheme` method returns and rejects with the same error classes and codes.
 */
export interface PooledSignatureScheme extends AlgorithmLengths, PooledKeyEncoding {
  readonly name: SignatureAlgorithm;
  /** Length of a signature in bytes. */
  readonly signatureLength: number;
  /** Generates a key pair, from the 32-byte seed xi when one is given. */
  keygen(seed?: Uint8Array, options?: CallOptions): Promise<KeyPair>;
  /** Signs `message`; context and randomness are named options only. */
  sign(message: Uint8Array, secretKey: Uint8Array, options?: PoolSignOptions): Promise<Uint8Array>;
  /** Resolves to whether `signature` is valid; rejects only for arguments of the wrong type. */
  verify(
    message: Uint8Array,
    signature: Uint8Array,
    publicKey: Uint8Array,
    options?: PoolVerifyOptions,
  ): Promise<boolean>;
  /** Generates `count` key pairs, or one per 32-byte seed when given an array of seeds. */
  keygenBatch(
    countOrSeeds: number | readonly Uint8Array[],
    options?: CallOptions,
  ): Promise<KeyPair[]>;
  /** Signs every message with one secret key; signatures are in input order. */
  signBatch(
    messages: readonly Uint8Array[],
    secretKey: Uint8Array,
    options?: SignBatchOptions,
  ): Promise<Uint8Array[]>;
  /** Verifies every item; results are in input order. */
  verifyBatch(items: readonly VerifyItem[], options?: CallOptions): Promise<boolean[]>;
}

/** Options of `close()`. */
export interface CloseOptions {
  /**
   * Milliseconds to let queued and running calls finish before the workers are terminated and
   * the remaining calls reject with `ERR_CLOSE_TIMEOUT`. Default: 30000.
   */
  timeout?: number;
}

/** A snapshot of the pool's load. */
export interface PoolStats {
  /** Worker threads alive, including ones still starting. */
  workers: number;
  /** Tasks running in a worker. */
  running: number;
  /** Tasks waiting for a worker. */
  queued: number;
}

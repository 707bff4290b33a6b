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
   * `ERR_QUEUE_FULL`. A single call is one task and a batch is split into at most 4 × `size`
   * tasks. Default: 1024 × `size`.
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
   * URL of the worker script, for bundlers that move it. Default: `pool-worker.js` next to the
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

/**
 * An ML-KEM parameter set run in the pool. Each method returns a promise of what the in-thread
 * `Kem` method returns and rejects with the same error classes and codes.
 */
export interface PooledKem extends AlgorithmLengths {
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
export interface PooledSignatureScheme extends AlgorithmLengths {
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

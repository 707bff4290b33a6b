/** Public types of the in-thread core. The worker pool mirrors them with promises. */

/** ML-KEM parameter sets of FIPS 203. */
export const KEM_ALGORITHMS = Object.freeze(['ML-KEM-512', 'ML-KEM-768', 'ML-KEM-1024'] as const);
/** ML-DSA parameter sets of FIPS 204. */
export const SIGNATURE_ALGORITHMS = Object.freeze(['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const);

/** Name of an ML-KEM parameter set. */
export type KemAlgorithm = (typeof KEM_ALGORITHMS)[number];
/** Name of an ML-DSA parameter set. */
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

/** A key pair as raw FIPS 203 / FIPS 204 encodings. */
export interface KeyPair {
  /** Encapsulation key (ML-KEM) or verification key (ML-DSA). */
  publicKey: Uint8Array;
  /** Expanded decapsulation key (ML-KEM) or signing key (ML-DSA). */
  secretKey: Uint8Array;
  /** Seed the pair was derived from: d || z (64 bytes) for ML-KEM, xi (32 bytes) for ML-DSA. */
  seed: Uint8Array;
}

/** Result of an ML-KEM encapsulation. */
export interface Encapsulation {
  /** Ciphertext to send to the holder of the secret key. */
  ciphertext: Uint8Array;
  /** 32-byte shared secret. */
  sharedSecret: Uint8Array;
}

/** Options of {@link SignatureScheme.sign}. */
export interface SignOptions {
  /** FIPS 204 context string, at most 255 bytes; empty by default. */
  context?: Uint8Array;
  /**
   * 32 bytes of signing randomness (FIPS 204 `rnd`). 32 zero bytes give the deterministic
   * variant; by default fresh random bytes give the hedged variant.
   */
  randomness?: Uint8Array;
}

/** Options of {@link SignatureScheme.verify}. */
export interface VerifyOptions {
  /** FIPS 204 context string the signature was made with, at most 255 bytes. */
  context?: Uint8Array;
}

/** Byte lengths shared by both kinds of algorithm. */
export interface AlgorithmLengths {
  /** Length of a public key in bytes. */
  readonly publicKeyLength: number;
  /** Length of an expanded secret key in bytes. */
  readonly secretKeyLength: number;
  /** Length of a key-generation seed in bytes. */
  readonly seedLength: number;
}

/** An ML-KEM parameter set bound to a loaded module. */
export interface Kem extends AlgorithmLengths {
  /** Parameter set name, for example `ML-KEM-768`. */
  readonly name: KemAlgorithm;
  /** Length of a ciphertext in bytes. */
  readonly ciphertextLength: number;
  /** Length of a shared secret in bytes (32). */
  readonly sharedSecretLength: number;
  /** Generates a key pair, from the 64-byte seed d || z when one is given. */
  keygen(seed?: Uint8Array): KeyPair;
  /** Encapsulates to `publicKey`, with the 32-byte message m when one is given. */
  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Encapsulation;
  /** Decapsulates; a foreign or tampered ciphertext yields the implicit-rejection secret. */
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

/** An ML-DSA parameter set bound to a loaded module. */
export interface SignatureScheme extends AlgorithmLengths {
  /** Parameter set name, for example `ML-DSA-65`. */
  readonly name: SignatureAlgorithm;
  /** Length of a signature in bytes. */
  readonly signatureLength: number;
  /** Generates a key pair, from the 32-byte seed xi when one is given. */
  keygen(seed?: Uint8Array): KeyPair;
  /** Signs `message`; context and randomness are named options only. */
  sign(message: Uint8Array, secretKey: Uint8Array, options?: SignOptions): Uint8Array;
  /** Returns whether `signature` is valid; never throws for any signature or key bytes. */
  verify(
    message: Uint8Array,
    signature: Uint8Array,
    publicKey: Uint8Array,
    options?: VerifyOptions,
  ): boolean;
}

/** The loaded SDK: one WebAssembly instance and the algorithms bound to it. */
export interface Pqc {
  /** liboqs version compiled into the module, for example `0.13.0`. */
  readonly liboqsVersion: string;
  /** Returns the ML-KEM parameter set `name`. */
  kem(name: KemAlgorithm): Kem;
  /** Returns the ML-DSA parameter set `name`. */
  signature(name: SignatureAlgorithm): SignatureScheme;
}

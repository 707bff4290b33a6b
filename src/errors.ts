/**
 * Error hierarchy of the SDK. Every error is a {@link PqcError} with a stable `code`, so callers
 * branch on `error.code` rather than on the message. Messages name the value that was wrong and
 * what to do instead; they never contain key, seed or secret bytes.
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type PqcErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_LENGTH'
  | 'ERR_UNKNOWN_ALGORITHM'
  | 'ERR_INVALID_PUBLIC_KEY'
  | 'ERR_INVALID_PRIVATE_KEY'
  | 'ERR_CONTEXT_TOO_LONG'
  | 'ERR_RANDOMNESS_LENGTH'
  | 'ERR_INVALID_ENCODING'
  | 'ERR_WASM_LOAD'
  | 'ERR_INTERNAL'
  | 'ERR_QUEUE_FULL'
  | 'ERR_WORKER_TERMINATED'
  | 'ERR_POOL_CLOSED'
  | 'ERR_CLOSE_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_STORE_CONFLICT'
  | 'ERR_STORE_NOT_FOUND'
  | 'ERR_STORE_VALIDATION'
  | 'ERR_MIGRATION_LOCKED'
  | 'ERR_MIGRATION_FAILED'
  | 'ERR_DATABASE';

/** Options accepted by every error constructor. */
export interface PqcErrorOptions {
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
}

/**
 * Key of the marker property on PqcError.prototype. Symbol.for returns the same symbol to the
 * ESM and the CommonJS build, and to any other copy of the package loaded in the same thread,
 * so {@link isPqcError} recognises their errors although `instanceof` does not.
 */
const PQC_ERROR_MARKER = Symbol.for('@qynauth/pqc.PqcError');

/** Base class of every error the SDK throws. */
export class PqcError extends Error {
  /** Stable machine-readable code. */
  readonly code: PqcErrorCode;

  constructor(code: PqcErrorCode, message: string, options?: PqcErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

Object.defineProperty(PqcError.prototype, PQC_ERROR_MARKER, { value: true });

/** A parameter has the wrong type or an unsupported value. */
export class InvalidArgumentError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** A byte string has the wrong length for the algorithm. */
export class InvalidLengthError extends PqcError {
  /** Name of the parameter, for example `publicKey`. */
  readonly parameter: string;
  /** Length the algorithm requires, in bytes. */
  readonly expected: number;
  /** Length that was passed, in bytes. */
  readonly actual: number;

  constructor(parameter: string, algorithm: string, expected: number, actual: number) {
    super(
      'ERR_INVALID_LENGTH',
      `${parameter} must be ${expected} bytes for ${algorithm}, got ${actual}`,
    );
    this.parameter = parameter;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The algorithm name is not one the SDK implements, or names an algorithm of the other kind
 * (a signature algorithm passed where a KEM is expected, or the reverse). `message` replaces
 * the default message, which lists the `known` names.
 */
export class UnknownAlgorithmError extends PqcError {
  constructor(name: unknown, known: readonly string[], message?: string) {
    const listing = `unknown algorithm ${JSON.stringify(String(name))}; use one of ${known.join(', ')}`;
    super('ERR_UNKNOWN_ALGORITHM', message ?? listing);
  }
}

/** A public key failed the standard's input check (FIPS 203 modulus check, for example). */
export class InvalidPublicKeyError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_INVALID_PUBLIC_KEY', message, options);
  }
}

/** A private key failed the standard's input check (FIPS 203 hash check, for example). */
export class InvalidPrivateKeyError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_INVALID_PRIVATE_KEY', message, options);
  }
}

/** An ML-DSA context string is longer than the 255 bytes FIPS 204 allows. */
export class ContextTooLongError extends PqcError {
  constructor(actual: number) {
    super(
      'ERR_CONTEXT_TOO_LONG',
      `context must be at most 255 bytes (FIPS 204), got ${actual}; shorten or hash it`,
    );
  }
}

/** A key or signature encoding (DER, PEM, JWK, base64) is malformed. */
export class InvalidEncodingError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_INVALID_ENCODING', message, options);
  }
}

/** The WebAssembly module could not be fetched, compiled or instantiated. */
export class WasmLoadError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_WASM_LOAD', message, options);
  }
}

/** An invariant of the SDK itself failed; this is a bug, please report it. */
export class InternalError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_INTERNAL', message, options);
  }
}

/**
 * Narrows an unknown value to an SDK error, with the given code if one is passed. Unlike
 * `instanceof PqcError` it also recognises errors thrown by the other build of this package
 * (the `require` build for an ESM caller, and the reverse), because it checks the marker that
 * every PqcError inherits rather than the class.
 */
export function isPqcError(value: unknown, code?: PqcErrorCode): value is PqcError {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const fields = value as { [PQC_ERROR_MARKER]?: unknown; code?: unknown };
  return fields[PQC_ERROR_MARKER] === true && (code === undefined || fields.code === code);
}

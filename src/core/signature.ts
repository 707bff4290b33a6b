/**
 * ML-DSA (FIPS 204) bound to one module instance. Signing is hedged by default (fresh random
 * rnd); 32 zero bytes of `randomness` give the deterministic variant. Context and randomness
 * are named options only, so bytes passed positionally are never mistaken for either.
 * `verify` returns false for a signature or public key of any wrong length or content.
 */
import { ContextTooLongError, InternalError } from '../errors.js';
import {
  ML_DSA_MAX_CONTEXT_LENGTH,
  ML_DSA_RANDOMNESS_LENGTH,
  ML_DSA_SEED_LENGTH,
  SIGNATURE_PARAMETERS,
} from './algorithms.js';
import type { SignatureParameters } from './algorithms.js';
import { KeyEncoding } from './key-encoding.js';
import { fillRandom } from './random.js';
import { align, Status } from './runtime.js';
import { checkMlDsaSecretKey } from './secret-key-check.js';
import type { WasmRuntime } from './runtime.js';
import type {
  KeyPair,
  SignatureAlgorithm,
  SignatureScheme,
  SignOptions,
  VerifyOptions,
} from './types.js';
import { requireBytes, requireLength, requireOptions } from './validate.js';

/** Size of the size_t that receives the signature length, in bytes (wasm32). */
const SIZE_T_LENGTH = 4;
const EMPTY = new Uint8Array(0);
/** Names of the fields of {@link SignOptions} and {@link VerifyOptions}. */
const SIGN_OPTIONS: readonly string[] = ['context', 'randomness'];
const VERIFY_OPTIONS: readonly string[] = ['context'];

export class MlDsa extends KeyEncoding implements SignatureScheme {
  readonly name: SignatureAlgorithm;
  readonly publicKeyLength: number;
  readonly secretKeyLength: number;
  readonly signatureLength: number;
  readonly seedLength = ML_DSA_SEED_LENGTH;
  private readonly parameters: SignatureParameters;
  private readonly runtime: WasmRuntime;

  constructor(name: SignatureAlgorithm, runtime: WasmRuntime) {
    super();
    this.name = name;
    this.parameters = SIGNATURE_PARAMETERS[name];
    this.publicKeyLength = this.parameters.publicKeyLength;
    this.secretKeyLength = this.parameters.secretKeyLength;
    this.signatureLength = this.parameters.signatureLength;
    this.runtime = runtime;
    // PqcInstance shares one object per algorithm, so a caller's assignment would change the
    // lengths every other caller is checked against. Subclasses stay unfrozen to add fields.
    if (new.target === MlDsa) Object.freeze(this);
  }

  keygen(seed?: Uint8Array): KeyPair {
    if (seed !== undefined) requireLength(seed, 'seed', this.name, ML_DSA_SEED_LENGTH);

    const length = align(this.publicKeyLength) + align(this.secretKeyLength) + ML_DSA_SEED_LENGTH;
    const publicKeyAt = this.runtime.reserve(length);
    const secretKeyAt = publicKeyAt + align(this.publicKeyLength);
    const seedAt = secretKeyAt + align(this.secretKeyLength);
    const seedRegion = this.runtime.view().subarray(seedAt, seedAt + ML_DSA_SEED_LENGTH);
    if (seed === undefined) {
      fillRandom(seedRegion);
    } else {
      seedRegion.set(seed);
    }

    let status: number = Status.OK;
    try {
      status = this.runtime.glue.qyn_sig_keypair(this.parameters.index, publicKeyAt, secretKeyAt, seedAt);
      this.throwOnFailure(status, 'keygen');
      return {
        publicKey: this.runtime.read(publicKeyAt, this.publicKeyLength),
        secretKey: this.runtime.read(secretKeyAt, this.secretKeyLength),
        seed: this.runtime.read(seedAt, ML_DSA_SEED_LENGTH),
      };
    } finally {
      this.runtime.clearAfter(`${this.name}:keygen`, status, length);
    }
  }

  sign(message: Uint8Array, secretKey: Uint8Array, options?: SignOptions): Uint8Array {
    requireBytes(message, 'message');
    requireLength(secretKey, 'secretKey', this.name, this.secretKeyLength);
    const { context, randomness } = this.readSignOptions(options);
    checkMlDsaSecretKey(this.name, secretKey, this.parameters);

    const length =
      align(this.signatureLength) + align(SIZE_T_LENGTH) + align(this.secretKeyLength) +
      align(ML_DSA_RANDOMNESS_LENGTH) + align(context.length) + message.length;
    const signatureAt = this.runtime.reserve(length);
    const signatureLengthAt = signatureAt + align(this.signatureLength);
    const secretKeyAt = signatureLengthAt + align(SIZE_T_LENGTH);
    const randomnessAt = secretKeyAt + align(this.secretKeyLength);
    const contextAt = randomnessAt + align(ML_DSA_RANDOMNESS_LENGTH);
    const messageAt = contextAt + align(context.length);
    this.runtime.write(secretKeyAt, secretKey);
    if (randomness !== undefined) this.runtime.write(randomnessAt, randomness);
    this.runtime.write(contextAt, context);
    this.runtime.write(messageAt, message);

    let status: number = Status.OK;
    try {
      status = this.runtime.glue.qyn_sig_sign(
        this.parameters.index,
        signatureAt,
        signatureLengthAt,
        messageAt,
        message.length,
        contextAt,
        context.length,
        secretKeyAt,
        randomness === undefined ? 0 : randomnessAt,
      );
      this.throwOnFailure(status, 'sign');
      const written = this.runtime.readUint32(signatureLengthAt);
      if (written !== this.signatureLength) {
        throw new InternalError(`${this.name} sign wrote ${written} bytes, expected ${this.signatureLength}`);
      }
      return this.runtime.read(signatureAt, this.signatureLength);
    } finally {
      this.runtime.clearAfter(`${this.name}:sign`, status, length);
    }
  }

  verify(
    message: Uint8Array,
    signature: Uint8Array,
    publicKey: Uint8Array,
    options?: VerifyOptions,
  ): boolean {
    requireBytes(message, 'message');
    requireBytes(signature, 'signature');
    requireBytes(publicKey, 'publicKey');
    const context = this.readContext(requireOptions(options, 'verify', VERIFY_OPTIONS).context);
    if (signature.length !== this.signatureLength || publicKey.length !== this.publicKeyLength) {
      return false;
    }

    const length =
      align(this.signatureLength) + align(this.publicKeyLength) + align(context.length) +
      message.length;
    const signatureAt = this.runtime.reserve(length);
    const publicKeyAt = signatureAt + align(this.signatureLength);
    const contextAt = publicKeyAt + align(this.publicKeyLength);
    const messageAt = contextAt + align(context.length);
    this.runtime.write(signatureAt, signature);
    this.runtime.write(publicKeyAt, publicKey);
    this.runtime.write(contextAt, context);
    this.runtime.write(messageAt, message);

    let status: number = Status.OK;
    try {
      status = this.runtime.glue.qyn_sig_verify(
        this.parameters.index,
        messageAt,
        message.length,
        signatureAt,
        signature.length,
        contextAt,
        context.length,
        publicKeyAt,
      );
      return status === Status.OK;
    } finally {
      this.runtime.clearAfter(`${this.name}:verify`, status, length);
    }
  }

  /** Throws unless `publicKey` has the length of an ML-DSA public key of this parameter set. */
  checkPublicKey(publicKey: Uint8Array): void {
    requireLength(publicKey, 'publicKey', this.name, this.publicKeyLength);
  }

  private readSignOptions(options: unknown): { context: Uint8Array; randomness?: Uint8Array } {
    const fields = requireOptions(options, 'sign', SIGN_OPTIONS);
    const context = this.readContext(fields.context);
    if (fields.randomness === undefined) {
      return { context };
    }
    const randomness = requireLength(fields.randomness, 'randomness', this.name, ML_DSA_RANDOMNESS_LENGTH);
    return { context, randomness };
  }

  private readContext(value: unknown): Uint8Array {
    if (value === undefined) {
      return EMPTY;
    }
    const context = requireBytes(value, 'context');
    if (context.length > ML_DSA_MAX_CONTEXT_LENGTH) {
      throw new ContextTooLongError(context.length);
    }
    return context;
  }

  private throwOnFailure(status: number, operation: string): void {
    if (status !== Status.OK) {
      throw new InternalError(`${this.name} ${operation} failed in liboqs with status ${status}`);
    }
  }
}

/**
 * ML-KEM (FIPS 203) bound to one module instance. Encapsulation rejects a public key that
 * fails the modulus check, and decapsulation rejects a secret key whose embedded hash H(ek)
 * does not match; a tampered ciphertext is not an error but yields the implicit-rejection
 * secret, as FIPS 203 requires.
 */
import { InternalError, InvalidPrivateKeyError, InvalidPublicKeyError } from '../errors.js';
import {
  KEM_PARAMETERS,
  ML_KEM_RANDOMNESS_LENGTH,
  ML_KEM_SEED_LENGTH,
  ML_KEM_SHARED_SECRET_LENGTH,
} from './algorithms.js';
import type { KemParameters } from './algorithms.js';
import { checkMlKemModulus } from './modulus.js';
import { KeyEncoding } from './key-encoding.js';
import { fillRandom } from './random.js';
import { align, Status } from './runtime.js';
import type { WasmRuntime } from './runtime.js';
import type { Encapsulation, Kem, KemAlgorithm, KeyPair } from './types.js';
import { requireBytes, requireLength } from './validate.js';

export class MlKem extends KeyEncoding implements Kem {
  readonly name: KemAlgorithm;
  readonly publicKeyLength: number;
  readonly secretKeyLength: number;
  readonly ciphertextLength: number;
  readonly sharedSecretLength = ML_KEM_SHARED_SECRET_LENGTH;
  readonly seedLength = ML_KEM_SEED_LENGTH;
  private readonly parameters: KemParameters;
  private readonly runtime: WasmRuntime;

  constructor(name: KemAlgorithm, runtime: WasmRuntime) {
    super();
    this.name = name;
    this.parameters = KEM_PARAMETERS[name];
    this.publicKeyLength = this.parameters.publicKeyLength;
    this.secretKeyLength = this.parameters.secretKeyLength;
    this.ciphertextLength = this.parameters.ciphertextLength;
    this.runtime = runtime;
    // PqcInstance shares one object per algorithm, so a caller's assignment would change the
    // lengths every other caller is checked against. Subclasses stay unfrozen to add fields.
    if (new.target === MlKem) Object.freeze(this);
  }

  keygen(seed?: Uint8Array): KeyPair {
    if (seed !== undefined) requireLength(seed, 'seed', this.name, ML_KEM_SEED_LENGTH);

    const publicKeyAt = this.runtime.reserve(this.keygenLayoutLength());
    const secretKeyAt = publicKeyAt + align(this.publicKeyLength);
    const seedAt = secretKeyAt + align(this.secretKeyLength);
    const seedRegion = this.runtime.view().subarray(seedAt, seedAt + ML_KEM_SEED_LENGTH);
    if (seed === undefined) {
      fillRandom(seedRegion);
    } else {
      seedRegion.set(seed);
    }

    let status: number = Status.OK;
    try {
      status = this.runtime.glue.qyn_kem_keypair(this.parameters.index, publicKeyAt, secretKeyAt, seedAt);
      this.throwOnFailure(status, 'keygen');
      return {
        publicKey: this.runtime.read(publicKeyAt, this.publicKeyLength),
        secretKey: this.runtime.read(secretKeyAt, this.secretKeyLength),
        seed: this.runtime.read(seedAt, ML_KEM_SEED_LENGTH),
      };
    } finally {
      this.runtime.clearAfter(`${this.name}:keygen`, status, this.keygenLayoutLength());
    }
  }

  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Encapsulation {
    requireLength(publicKey, 'publicKey', this.name, this.publicKeyLength);
    if (randomness !== undefined) {
      requireLength(randomness, 'randomness', this.name, ML_KEM_RANDOMNESS_LENGTH);
    }

    const length =
      align(this.ciphertextLength) + align(ML_KEM_SHARED_SECRET_LENGTH) + align(this.publicKeyLength) +
      ML_KEM_RANDOMNESS_LENGTH;
    const ciphertextAt = this.runtime.reserve(length);
    const sharedSecretAt = ciphertextAt + align(this.ciphertextLength);
    const publicKeyAt = sharedSecretAt + align(ML_KEM_SHARED_SECRET_LENGTH);
    const randomnessAt = publicKeyAt + align(this.publicKeyLength);
    this.runtime.write(publicKeyAt, publicKey);
    if (randomness !== undefined) this.runtime.write(randomnessAt, randomness);

    let status: number = Status.OK;
    try {
      status = this.runtime.glue.qyn_kem_encapsulate(
        this.parameters.index,
        ciphertextAt,
        sharedSecretAt,
        publicKeyAt,
        randomness === undefined ? 0 : randomnessAt,
      );
      if (status === Status.OQS_ERROR) {
        // mlkem-native rejects exactly the keys that fail the modulus check; name the coefficient.
        checkMlKemModulus(this.name, publicKey, this.parameters.k);
        throw new InvalidPublicKeyError(`publicKey was rejected by ${this.name} encapsulation`);
      }
      this.throwOnFailure(status, 'encapsulate');
      return {
        ciphertext: this.runtime.read(ciphertextAt, this.ciphertextLength),
        sharedSecret: this.runtime.read(sharedSecretAt, ML_KEM_SHARED_SECRET_LENGTH),
      };
    } finally {
      this.runtime.clearAfter(`${this.name}:encapsulate`, status, length);
    }
  }

  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
    requireLength(ciphertext, 'ciphertext', this.name, this.ciphertextLength);
    requireLength(secretKey, 'secretKey', this.name, this.secretKeyLength);

    const length =
      align(ML_KEM_SHARED_SECRET_LENGTH) + align(this.ciphertextLength) + this.secretKeyLength;
    const sharedSecretAt = this.runtime.reserve(length);
    const ciphertextAt = sharedSecretAt + align(ML_KEM_SHARED_SECRET_LENGTH);
    const secretKeyAt = ciphertextAt + align(this.ciphertextLength);
    this.runtime.write(ciphertextAt, ciphertext);
    this.runtime.write(secretKeyAt, secretKey);

    let status: number = Status.OK;
    try {
      status = this.runtime.glue.qyn_kem_decapsulate(
        this.parameters.index,
        sharedSecretAt,
        ciphertextAt,
        secretKeyAt,
      );
      if (status === Status.OQS_ERROR) {
        throw new InvalidPrivateKeyError(
          `secretKey is not a valid ${this.name} decapsulation key: the hash H(ek) stored in it ` +
            `does not match the encapsulation key stored in it (FIPS 203 input check); the key ` +
            `is corrupted or was assembled from two different keys`,
        );
      }
      this.throwOnFailure(status, 'decapsulate');
      return this.runtime.read(sharedSecretAt, ML_KEM_SHARED_SECRET_LENGTH);
    } finally {
      this.runtime.clearAfter(`${this.name}:decapsulate`, status, length);
    }
  }

  /**
   * Throws unless `publicKey` is a well-formed encapsulation key: the right length, and every
   * coefficient below q. Use it to vet keys made elsewhere before storing them.
   */
  checkPublicKey(publicKey: Uint8Array): void {
    requireBytes(publicKey, 'publicKey');
    requireLength(publicKey, 'publicKey', this.name, this.publicKeyLength);
    checkMlKemModulus(this.name, publicKey, this.parameters.k);
  }

  private keygenLayoutLength(): number {
    return align(this.publicKeyLength) + align(this.secretKeyLength) + ML_KEM_SEED_LENGTH;
  }

  private throwOnFailure(status: number, operation: string): void {
    if (status !== Status.OK) {
      throw new InternalError(`${this.name} ${operation} failed in liboqs with status ${status}`);
    }
  }
}

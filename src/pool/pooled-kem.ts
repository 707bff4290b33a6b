/** ML-KEM (FIPS 203) run in the worker pool; see {@link PooledKem}. */
import {
  KEM_PARAMETERS,
  ML_KEM_SEED_LENGTH,
  ML_KEM_SHARED_SECRET_LENGTH,
} from '../core/algorithms.js';
import type { Encapsulation, KemAlgorithm, KeyPair } from '../core/types.js';
import {
  readCallOptions,
  requireArray,
  requireParallel,
  runBatch,
  runKeygenBatch,
  runSingle,
} from './batches.js';
import type { BatchCall, CheckedCallOptions } from './batches.js';
import { PoolKeyEncoding } from './pooled-keys.js';
import type { Scheduler } from './scheduler.js';
import type { CallOptions, EncapsulateBatchOptions, PooledKem } from './types.js';

/** Names of the fields of {@link EncapsulateBatchOptions} besides the call options. */
const ENCAPSULATE_BATCH_OPTIONS: readonly (keyof EncapsulateBatchOptions)[] = ['randomness'];

export class PoolKem extends PoolKeyEncoding implements PooledKem {
  readonly name: KemAlgorithm;
  readonly publicKeyLength: number;
  readonly secretKeyLength: number;
  readonly ciphertextLength: number;
  readonly sharedSecretLength = ML_KEM_SHARED_SECRET_LENGTH;
  readonly seedLength = ML_KEM_SEED_LENGTH;
  /** Number of tasks a batch is spread over when it has at least that many items. */
  private readonly batchSpread: number;

  constructor(name: KemAlgorithm, scheduler: Scheduler, batchSpread: number) {
    super(scheduler);
    const parameters = KEM_PARAMETERS[name];
    this.name = name;
    this.publicKeyLength = parameters.publicKeyLength;
    this.secretKeyLength = parameters.secretKeyLength;
    this.ciphertextLength = parameters.ciphertextLength;
    this.batchSpread = batchSpread;
  }

  async keygen(seed?: Uint8Array, options?: CallOptions): Promise<KeyPair> {
    const operation = `${this.name} keygen`;
    const checked = readCallOptions(options, 'keygen', operation, []);

    const request = {
      kind: 'kem-keygen' as const,
      algorithm: this.name,
      count: 1,
      ...(seed === undefined ? {} : { seeds: [seed] }),
    };
    return runSingle<'kem-keygen'>(this.scheduler, operation, request, [seed], checked);
  }

  async encapsulate(
    publicKey: Uint8Array,
    randomness?: Uint8Array,
    options?: CallOptions,
  ): Promise<Encapsulation> {
    const operation = `${this.name} encapsulate`;
    const checked = readCallOptions(options, 'encapsulate', operation, []);

    const request = {
      kind: 'kem-encapsulate' as const,
      algorithm: this.name,
      publicKeys: [publicKey],
      ...(randomness === undefined ? {} : { randomness: [randomness] }),
    };
    return runSingle<'kem-encapsulate'>(
      this.scheduler,
      operation,
      request,
      [publicKey, randomness],
      checked,
    );
  }

  async decapsulate(
    ciphertext: Uint8Array,
    secretKey: Uint8Array,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    const operation = `${this.name} decapsulate`;
    const checked = readCallOptions(options, 'decapsulate', operation, []);

    const request = {
      kind: 'kem-decapsulate' as const,
      algorithm: this.name,
      ciphertexts: [ciphertext],
      secretKey,
    };
    return runSingle<'kem-decapsulate'>(
      this.scheduler,
      operation,
      request,
      [ciphertext, secretKey],
      checked,
    );
  }

  async keygenBatch(
    countOrSeeds: number | readonly Uint8Array[],
    options?: CallOptions,
  ): Promise<KeyPair[]> {
    const operation = `${this.name} keygenBatch`;
    const checked = readCallOptions(options, 'keygenBatch', operation, []);

    return runKeygenBatch<'kem-keygen'>(
      this.batchCall(operation, checked),
      countOrSeeds,
      (count, seeds) => ({
        kind: 'kem-keygen',
        algorithm: this.name,
        count,
        ...(seeds === undefined ? {} : { seeds }),
      }),
    );
  }

  async encapsulateBatch(
    publicKeys: readonly Uint8Array[],
    options?: EncapsulateBatchOptions,
  ): Promise<Encapsulation[]> {
    const operation = `${this.name} encapsulateBatch`;
    const checked = readCallOptions(
      options,
      'encapsulateBatch',
      operation,
      ENCAPSULATE_BATCH_OPTIONS,
    );
    const keys = requireArray<Uint8Array>(publicKeys, 'publicKeys', operation);
    const randomness = requireParallel<Uint8Array>(
      checked.randomness,
      'randomness',
      keys.length,
      operation,
    );

    return runBatch<'kem-encapsulate', Uint8Array>(
      this.batchCall(operation, checked),
      keys,
      (slice, start, end) => ({
        kind: 'kem-encapsulate',
        algorithm: this.name,
        publicKeys: slice,
        ...(randomness === undefined ? {} : { randomness: randomness.slice(start, end) }),
      }),
      (request) => [...request.publicKeys, ...(request.randomness ?? [])],
    );
  }

  async decapsulateBatch(
    ciphertexts: readonly Uint8Array[],
    secretKey: Uint8Array,
    options?: CallOptions,
  ): Promise<Uint8Array[]> {
    const operation = `${this.name} decapsulateBatch`;
    const checked = readCallOptions(options, 'decapsulateBatch', operation, []);
    const items = requireArray<Uint8Array>(ciphertexts, 'ciphertexts', operation);

    return runBatch<'kem-decapsulate', Uint8Array>(
      this.batchCall(operation, checked),
      items,
      (slice) => ({ kind: 'kem-decapsulate', algorithm: this.name, ciphertexts: slice, secretKey }),
      (request) => [...request.ciphertexts, request.secretKey],
    );
  }

  private batchCall(operation: string, options: CheckedCallOptions): BatchCall {
    return { scheduler: this.scheduler, operation, spread: this.batchSpread, options };
  }

  protected expandSeed(
    seed: Uint8Array,
    operation: string,
    signal: AbortSignal | undefined,
  ): Promise<KeyPair> {
    const request = { kind: 'kem-keygen' as const, algorithm: this.name, count: 1, seeds: [seed] };
    return runSingle<'kem-keygen'>(this.scheduler, operation, request, [seed], {
      signal,
      transfer: true,
    });
  }
}

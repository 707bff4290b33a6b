/** ML-DSA (FIPS 204) run in the worker pool; see {@link PooledSignatureScheme}. */
import { ML_DSA_SEED_LENGTH, SIGNATURE_PARAMETERS } from '../core/algorithms.js';
import type { KeyPair, SignatureAlgorithm } from '../core/types.js';
import { InvalidArgumentError } from '../errors.js';
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
import type { VerifyItem } from './protocol.js';
import type { Scheduler } from './scheduler.js';
import type {
  CallOptions,
  PooledSignatureScheme,
  PoolSignOptions,
  PoolVerifyOptions,
  SignBatchOptions,
} from './types.js';

/**
 * Names of the fields of {@link PoolSignOptions} and {@link SignBatchOptions} besides the call
 * options.
 * NOTE: the core keeps its own unexported lists in src/core/signature.ts, so an option added
 * there is rejected by the pool until it is added here too.
 */
const SIGN_OPTIONS: readonly (keyof SignBatchOptions & keyof PoolSignOptions)[] = [
  'context',
  'randomness',
];

/** Names of the fields of {@link PoolVerifyOptions} besides the call options. */
const VERIFY_OPTIONS: readonly (keyof PoolVerifyOptions)[] = ['context'];

/** Copies the optional FIPS 204 fields of `options` that are set. */
function signFields(options: Record<string, unknown>): {
  context?: Uint8Array;
  randomness?: Uint8Array;
} {
  const fields: { context?: Uint8Array; randomness?: Uint8Array } = {};
  if (options.context !== undefined) fields.context = options.context as Uint8Array;
  if (options.randomness !== undefined) fields.randomness = options.randomness as Uint8Array;
  return fields;
}

function verifyFields(item: VerifyItem): VerifyItem {
  const { message, signature, publicKey, context } = item;
  return context === undefined
    ? { message, signature, publicKey }
    : { message, signature, publicKey, context };
}

export class PoolSignatureScheme extends PoolKeyEncoding implements PooledSignatureScheme {
  readonly name: SignatureAlgorithm;
  readonly publicKeyLength: number;
  readonly secretKeyLength: number;
  readonly signatureLength: number;
  readonly seedLength = ML_DSA_SEED_LENGTH;
  /** Number of tasks a batch is spread over when it has at least that many items. */
  private readonly batchSpread: number;

  constructor(name: SignatureAlgorithm, scheduler: Scheduler, batchSpread: number) {
    super(scheduler);
    const parameters = SIGNATURE_PARAMETERS[name];
    this.name = name;
    this.publicKeyLength = parameters.publicKeyLength;
    this.secretKeyLength = parameters.secretKeyLength;
    this.signatureLength = parameters.signatureLength;
    this.batchSpread = batchSpread;
  }

  async keygen(seed?: Uint8Array, options?: CallOptions): Promise<KeyPair> {
    const operation = `${this.name} keygen`;
    const checked = readCallOptions(options, 'keygen', operation, []);

    const request = {
      kind: 'signature-keygen' as const,
      algorithm: this.name,
      count: 1,
      ...(seed === undefined ? {} : { seeds: [seed] }),
    };
    return runSingle<'signature-keygen'>(this.scheduler, operation, request, [seed], checked);
  }

  async sign(
    message: Uint8Array,
    secretKey: Uint8Array,
    options?: PoolSignOptions,
  ): Promise<Uint8Array> {
    const operation = `${this.name} sign`;
    const checked = readCallOptions(options, 'sign', operation, SIGN_OPTIONS);
    const { context, randomness } = signFields(checked);

    const request = {
      kind: 'signature-sign' as const,
      algorithm: this.name,
      messages: [message],
      secretKey,
      ...(context === undefined ? {} : { context }),
      ...(randomness === undefined ? {} : { randomness: [randomness] }),
    };
    return runSingle<'signature-sign'>(
      this.scheduler,
      operation,
      request,
      [message, secretKey, context, randomness],
      checked,
    );
  }

  async verify(
    message: Uint8Array,
    signature: Uint8Array,
    publicKey: Uint8Array,
    options?: PoolVerifyOptions,
  ): Promise<boolean> {
    const operation = `${this.name} verify`;
    const checked = readCallOptions(options, 'verify', operation, VERIFY_OPTIONS);
    const { context } = signFields(checked);

    const item: VerifyItem = {
      message,
      signature,
      publicKey,
      ...(context === undefined ? {} : { context }),
    };
    const request = { kind: 'signature-verify' as const, algorithm: this.name, items: [item] };
    return runSingle<'signature-verify'>(
      this.scheduler,
      operation,
      request,
      [message, signature, publicKey, context],
      checked,
    );
  }

  async keygenBatch(
    countOrSeeds: number | readonly Uint8Array[],
    options?: CallOptions,
  ): Promise<KeyPair[]> {
    const operation = `${this.name} keygenBatch`;
    const checked = readCallOptions(options, 'keygenBatch', operation, []);

    return runKeygenBatch<'signature-keygen'>(
      this.batchCall(operation, checked),
      countOrSeeds,
      (count, seeds) => ({
        kind: 'signature-keygen',
        algorithm: this.name,
        count,
        ...(seeds === undefined ? {} : { seeds }),
      }),
    );
  }

  async signBatch(
    messages: readonly Uint8Array[],
    secretKey: Uint8Array,
    options?: SignBatchOptions,
  ): Promise<Uint8Array[]> {
    const operation = `${this.name} signBatch`;
    const checked = readCallOptions(options, 'signBatch', operation, SIGN_OPTIONS);
    const items = requireArray<Uint8Array>(messages, 'messages', operation);
    const randomness = requireParallel<Uint8Array>(
      checked.randomness,
      'randomness',
      items.length,
      operation,
    );
    const context = checked.context as Uint8Array | undefined;

    return runBatch<'signature-sign', Uint8Array>(
      this.batchCall(operation, checked),
      items,
      (slice, start, end) => ({
        kind: 'signature-sign',
        algorithm: this.name,
        messages: slice,
        secretKey,
        ...(context === undefined ? {} : { context }),
        ...(randomness === undefined ? {} : { randomness: randomness.slice(start, end) }),
      }),
      (request) => [
        ...request.messages,
        request.secretKey,
        request.context,
        ...(request.randomness ?? []),
      ],
    );
  }

  async verifyBatch(items: readonly VerifyItem[], options?: CallOptions): Promise<boolean[]> {
    const operation = `${this.name} verifyBatch`;
    const checked = readCallOptions(options, 'verifyBatch', operation, []);
    const list = requireArray<VerifyItem>(items, 'items', operation);
    list.forEach((item, index) => {
      if (typeof item !== 'object' || item === null) {
        throw new InvalidArgumentError(
          `${operation}: items[${index}] must be an object ` +
            `{ message, signature, publicKey, context? }`,
        );
      }
    });

    return runBatch<'signature-verify', VerifyItem>(
      this.batchCall(operation, checked),
      list,
      // Only the known fields are sent, so extra properties of the caller's objects never cross.
      (slice) => ({
        kind: 'signature-verify',
        algorithm: this.name,
        items: slice.map(verifyFields),
      }),
      (request) =>
        request.items.flatMap((item) => [
          item.message,
          item.signature,
          item.publicKey,
          item.context,
        ]),
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
    const request = {
      kind: 'signature-keygen' as const,
      algorithm: this.name,
      count: 1,
      seeds: [seed],
    };
    return runSingle<'signature-keygen'>(this.scheduler, operation, request, [seed], {
      signal,
      transfer: true,
    });
  }
}

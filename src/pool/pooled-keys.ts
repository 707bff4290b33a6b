/**
 * Key import, export and checks of the pooled ML-KEM and ML-DSA objects; see
 * {@link PooledKeyEncoding}. They call the src/keys functions that the in-thread core calls, so
 * results, checks and errors are the same. Those functions need no WebAssembly and run on the
 * calling thread. The one exception is key generation from a seed inside `importPrivateKey`,
 * which runs in a worker as a pooled `keygen`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { KeyPair } from '../core/types.js';
import { resolveKeyAlgorithm } from '../keys/algorithms.js';
import type { KeyAlgorithm } from '../keys/algorithms.js';
import { equalBytes } from '../keys/consistency.js';
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
import { checkPublicKey } from '../keys/public-key-check.js';
import { exportPublicKey, importPublicKey } from '../keys/public-key.js';
import type { EncodedPublicKey, PublicKeyFormat } from '../keys/public-key.js';
import { readCallOptions } from './batches.js';
import type { CheckedCallOptions } from './batches.js';
import type { Scheduler } from './scheduler.js';
import type {
  CallOptions,
  PooledKeyEncoding,
  PoolExportPrivateKeyOptions,
  PoolImportPrivateKeyOptions,
} from './types.js';

/** Names of the fields of {@link ExportPrivateKeyOptions}. */
const EXPORT_PRIVATE_KEY_OPTIONS: readonly (keyof ExportPrivateKeyOptions)[] = [
  'form',
  'includePublicKey',
];

/** Names of the fields of {@link ImportPrivateKeyOptions}. */
const IMPORT_PRIVATE_KEY_OPTIONS: readonly (keyof ImportPrivateKeyOptions)[] = ['publicKey'];

/**
 * Thrown by the key generation passed to the first decoding pass of `importPrivateKey`, to stop
 * that pass at the seed. It carries a copy, because src/keys zeroes the decoded seed on the
 * way out. It never leaves this module.
 */
class SeedReached {
  constructor(readonly seed: Uint8Array) {}
}

export abstract class PoolKeyEncoding implements PooledKeyEncoding {
  abstract readonly name: KeyAlgorithm;
  protected readonly scheduler: Scheduler;

  constructor(scheduler: Scheduler) {
    this.scheduler = scheduler;
  }

  /**
   * Runs key generation from `seed` in a worker as part of `operation`, which names the call in
   * errors. The seed buffer is transferred.
   */
  protected abstract expandSeed(
    seed: Uint8Array,
    operation: string,
    signal: AbortSignal | undefined,
  ): Promise<KeyPair>;

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
  async exportPublicKey(
    publicKey: Uint8Array,
    format: PublicKeyFormat,
    options?: CallOptions,
  ): Promise<EncodedPublicKey> {
    this.startLocalCall(options, 'exportPublicKey', []);
    return exportPublicKey(this.name, publicKey, format);
  }

  async importPublicKey(
    data: EncodedPublicKey,
    format: PublicKeyFormat,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    this.startLocalCall(options, 'importPublicKey', []);
    return importPublicKey(this.name, data, format);
  }

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
  async exportPrivateKey(
    key: PrivateKeyMaterial,
    format: PrivateKeyFormat,
    options?: PoolExportPrivateKeyOptions,
  ): Promise<EncodedPrivateKey> {
    const checked = this.startLocalCall(options, 'exportPrivateKey', EXPORT_PRIVATE_KEY_OPTIONS);
    return exportPrivateKey(this.name, key, format, withoutCallOptions(checked));
  }

  /**
   * Decodes a private key in two passes of the src/keys import, which expects synchronous key
   * generation. The first pass runs every check up to the seed and stops there, or returns
   * the result when the key has no seed. The worker then expands the seed, and the second
   * pass repeats the decoding with that key pair, so it compares an expanded key or public
   * key stored beside the seed exactly as the core does.
   */
  async importPrivateKey(
    data: EncodedPrivateKey,
    format: PrivateKeyFormat,
    options?: PoolImportPrivateKeyOptions,
  ): Promise<ImportedPrivateKey> {
    const operation = `${this.name} importPrivateKey`;
    const checked = this.startLocalCall(options, 'importPrivateKey', IMPORT_PRIVATE_KEY_OPTIONS);
    const keyOptions = withoutCallOptions(checked);

    let seed: Uint8Array;
    try {
      return importPrivateKey(this.name, data, format, stopAtSeed, keyOptions);
    } catch (error) {
      if (!(error instanceof SeedReached)) throw error;
      seed = error.seed;
    }

    let pair: KeyPair;
    try {
      // The seed is this call's own copy, so transferring it leaves no copy on this thread, and
      // the worker zeroes its copy after key generation.
      pair = await this.expandSeed(seed, operation, checked.signal);
    } finally {
      // A seed sent to the worker is detached here. A seed that was never sent, because the
      // call was aborted or the pool closed first, is zeroed.
      if (seed.byteLength > 0) seed.fill(0);
    }

    let imported: ImportedPrivateKey | undefined;
    try {
      imported = importPrivateKey(
        this.name,
        data,
        format,
        (secondSeed) => {
          if (!equalBytes(secondSeed, pair.seed)) {
            throw new InvalidArgumentError(
              `${operation}: the private key data changed while the call was pending; do not ` +
                `modify an input until the promise settles`,
            );
          }
          return pair;
        },
        keyOptions,
      );
      return imported;
    } finally {
      // The result reuses the pair's secretKey and publicKey. Every other copy is zeroed.
      for (const bytes of [pair.seed, pair.secretKey, pair.publicKey]) {
        if (bytes !== imported?.secretKey && bytes !== imported?.publicKey) bytes.fill(0);
      }
    }
  }

  async fingerprint(publicKey: Uint8Array, options?: CallOptions): Promise<string> {
    this.startLocalCall(options, 'fingerprint', []);
    return fingerprintPublicKey(this.name, publicKey);
  }

  async checkPublicKey(publicKey: Uint8Array, options?: CallOptions): Promise<void> {
    this.startLocalCall(options, 'checkPublicKey', []);
    checkPublicKey(resolveKeyAlgorithm(this.name), publicKey);
  }

  /**
   * Checks the call options of a method that runs on the calling thread, and throws what a
   * queued call gets when the pool is closed or the signal has already fired.
   */
  private startLocalCall(
    options: unknown,
    method: string,
    names: readonly string[],
  ): Record<string, unknown> & CheckedCallOptions {
    const operation = `${this.name} ${method}`;
    const checked = readCallOptions(options, method, operation, names);
    const error = this.scheduler.newCallError(operation, checked.signal);
    if (error !== undefined) {
      throw error;
    }
    return checked;
  }
}

/**
 * Returns the fields of `checked` other than the call options, for the src/keys functions,
 * which reject `signal` and `transfer` as unknown options.
 */
function withoutCallOptions(checked: Record<string, unknown> & CheckedCallOptions): object {
  const { signal: _signal, transfer: _transfer, ...keyOptions } = checked;
  return keyOptions;
}

function stopAtSeed(seed: Uint8Array): never {
  throw new SeedReached(seed.slice());
}

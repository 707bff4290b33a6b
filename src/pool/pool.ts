/** The pool object returned by createPqcPool: the shape of loadPqc()'s result, with promises. */
import { ALL_ALGORITHMS, isKemAlgorithm, isSignatureAlgorithm } from '../core/algorithms.js';
import type { KemAlgorithm, SignatureAlgorithm } from '../core/types.js';
import { InvalidArgumentError, UnknownAlgorithmError } from '../errors.js';
import { TASKS_PER_WORKER } from './batches.js';
import { WorkerTerminatedError } from './errors.js';
import { PoolKem } from './pooled-kem.js';
import { PoolSignatureScheme } from './pooled-signature.js';
import type { Scheduler } from './scheduler.js';
import type { CloseOptions, PooledKem, PooledSignatureScheme, PoolStats } from './types.js';

/** Default time `close()` lets pending calls finish, in ms. */
export const DEFAULT_CLOSE_TIMEOUT = 30_000;

const schedulers = new WeakMap<PqcPool, Scheduler>();

/**
 * A pool of worker threads that each hold one instance of the WebAssembly module. Every
 * operation runs off the calling thread; calls queue in FIFO order when all workers are busy.
 */
export class PqcPool {
  /** Maximum number of worker threads. */
  readonly size: number;
  private readonly scheduler: Scheduler;
  private readonly kems = new Map<KemAlgorithm, PoolKem>();
  private readonly signatures = new Map<SignatureAlgorithm, PoolSignatureScheme>();

  constructor(scheduler: Scheduler) {
    this.scheduler = scheduler;
    this.size = scheduler.size;
    schedulers.set(this, scheduler);
  }

  /** liboqs version compiled into the module, for example `0.13.0`. */
  get liboqsVersion(): string {
    return this.scheduler.liboqsVersion;
  }

  /** Current number of workers, running tasks and queued tasks. */
  get stats(): PoolStats {
    return this.scheduler.stats;
  }

  /** Returns the ML-KEM parameter set `name`; throws UnknownAlgorithmError for other names. */
  kem(name: KemAlgorithm): PooledKem {
    if (!isKemAlgorithm(name)) {
      throw new UnknownAlgorithmError(name, ALL_ALGORITHMS);
    }
    let kem = this.kems.get(name);
    if (kem === undefined) {
      kem = new PoolKem(name, this.scheduler, this.size * TASKS_PER_WORKER);
      this.kems.set(name, kem);
    }
    return kem;
  }

  /** Returns the ML-DSA parameter set `name`; throws UnknownAlgorithmError for other names. */
  signature(name: SignatureAlgorithm): PooledSignatureScheme {
    if (!isSignatureAlgorithm(name)) {
      throw new UnknownAlgorithmError(name, ALL_ALGORITHMS);
    }
    let scheme = this.signatures.get(name);
    if (scheme === undefined) {
      scheme = new PoolSignatureScheme(name, this.scheduler, this.size * TASKS_PER_WORKER);
      this.signatures.set(name, scheme);
    }
    return scheme;
  }

  /**
   * Closes the pool gracefully: new calls reject with `ERR_POOL_CLOSED`, queued and running
   * calls finish, and after `timeout` ms (default 30000) the workers are terminated and the
   * calls still pending reject with `ERR_CLOSE_TIMEOUT`. Resolves once every worker has exited.
   */
  close(options: CloseOptions = {}): Promise<void> {
    const timeout = options.timeout ?? DEFAULT_CLOSE_TIMEOUT;
    if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
      return Promise.reject(
        new InvalidArgumentError(
          `close: timeout must be a non-negative number of ms, got ${String(timeout)}`,
        ),
      );
    }
    return this.scheduler.close(timeout);
  }

  /**
   * Terminates every worker at once. Queued and running calls reject with
   * `ERR_WORKER_TERMINATED` before this returns its promise; new calls reject with
   * `ERR_POOL_CLOSED`. Resolves once every worker has exited.
   */
  terminate(): Promise<void> {
    return this.scheduler.stop(
      (operation) =>
        new WorkerTerminatedError(`${operation} failed: the worker pool was terminated`),
    );
  }
}

/** Returns the scheduler behind `pool`; for the test helpers in testing.ts only. */
export function schedulerOf(pool: PqcPool): Scheduler {
  const scheduler = schedulers.get(pool);
  if (scheduler === undefined) {
    throw new TypeError('not a PqcPool created by createPqcPool()');
  }
  return scheduler;
}

/**
 * Worker pool: the SDK's operations run in worker threads (Node's worker_threads, or Web
 * Workers in browsers), so the calling thread only sends inputs and receives results.
 *
 * ```ts
 * const pool = await createPqcPool({ size: 4 });
 * const { publicKey, secretKey } = await pool.kem('ML-KEM-768').keygen();
 * const keys = await pool.signature('ML-DSA-65').keygenBatch(1000);
 * await pool.close();
 * ```
 *
 * The module is compiled once on the calling thread and posted to every worker, which
 * instantiates it once. See docs/pool.md for what the pool can and cannot do about copies of
 * secret keys that cross threads.
 */
import { compilePqcModule } from '../core/loader.js';
import { InvalidArgumentError } from '../errors.js';
import { AbortError, PoolClosedError } from './errors.js';
import { createPlatform } from './platform.js';
import { PqcPool } from './pool.js';
import { Scheduler } from './scheduler.js';
import type { PoolLogger, PoolOptions } from './types.js';

/** Queue slots per worker when `maxQueue` is not given. */
const DEFAULT_QUEUE_PER_WORKER = 1024;

/**
 * Returns whether `signal` has fired. TypeScript narrows an inline `signal.aborted` check after
 * the first one, which would hide the later checks after each await.
 */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function requireInteger(value: number, name: string, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new InvalidArgumentError(
      `createPqcPool: ${name} must be an integer >= ${minimum}, got ${String(value)}`,
    );
  }
  return value;
}

function readIdleTimeout(value: number | undefined): number {
  if (value === undefined || value === 0 || value === Infinity) {
    return Infinity;
  }
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(
      `createPqcPool: idleTimeout must be a non-negative number of ms (0 keeps workers), ` +
        `got ${String(value)}`,
    );
  }
  return value;
}

/** Methods of {@link PoolLogger} that the pool calls. */
const LOGGER_METHODS: readonly (keyof PoolLogger)[] = ['debug', 'info', 'warn', 'error'];

/**
 * Returns `logger` once it is known to have every method the pool calls. Checking here keeps a
 * missing method from throwing later inside a worker event handler, where nothing can catch it.
 */
function readLogger(logger: unknown): PoolLogger | undefined {
  if (logger === undefined) {
    return undefined;
  }
  const methods = `${LOGGER_METHODS.slice(0, -1).join(', ')} and ${LOGGER_METHODS.at(-1)}`;
  if ((typeof logger !== 'object' && typeof logger !== 'function') || logger === null) {
    throw new InvalidArgumentError(
      `createPqcPool: logger must be an object with ${methods} methods, got ` +
        `${logger === null ? 'null' : typeof logger}; a pino logger fits`,
    );
  }
  const missing = LOGGER_METHODS.find(
    (method) => typeof (logger as Record<string, unknown>)[method] !== 'function',
  );
  if (missing !== undefined) {
    throw new InvalidArgumentError(
      `createPqcPool: logger has no ${missing} method; it needs ${methods} methods taking ` +
        `(fields, message), as a pino logger has`,
    );
  }
  return logger as PoolLogger;
}

/**
 * Compiles the WebAssembly module, starts the workers and resolves once every worker has
 * instantiated it. Rejects with the workers' error (for example WasmLoadError) if they cannot.
 */
export async function createPqcPool(options: PoolOptions = {}): Promise<PqcPool> {
  const { signal } = options;
  if (isAborted(signal)) {
    throw new AbortError('createPqcPool', { cause: signal?.reason });
  }
  const idleTimeout = readIdleTimeout(options.idleTimeout);
  const logger = readLogger(options.logger);

  // Every option that is not a pool option names the module's source, as for loadPqc().
  const {
    size: _size,
    maxQueue: _maxQueue,
    idleTimeout: _idle,
    signal: _signal,
    workerUrl,
    logger: _logger,
    ...loadOptions
  } = options;
  const [module, platform] = await Promise.all([
    compilePqcModule(loadOptions),
    createPlatform(workerUrl),
  ]);
  if (isAborted(signal)) {
    throw new AbortError('createPqcPool', { cause: signal?.reason });
  }
  const size = requireInteger(options.size ?? platform.defaultSize, 'size', 1);
  const maxQueue =
    options.maxQueue === Infinity
      ? Infinity
      : requireInteger(options.maxQueue ?? DEFAULT_QUEUE_PER_WORKER * size, 'maxQueue', 0);

  const scheduler = new Scheduler({
    size,
    maxQueue,
    idleTimeout,
    module,
    platform,
    ...(signal === undefined ? {} : { signal }),
    ...(logger === undefined ? {} : { logger }),
  });
  try {
    await scheduler.start();
  } catch (error) {
    await scheduler.stop((operation) => new PoolClosedError(operation));
    if (isAborted(signal)) {
      throw new AbortError('createPqcPool', { cause: signal?.reason });
    }
    throw error;
  }
  return new PqcPool(scheduler);
}

export { PqcPool, DEFAULT_CLOSE_TIMEOUT } from './pool.js';
export {
  AbortError,
  CloseTimeoutError,
  PoolClosedError,
  QueueFullError,
  WorkerTerminatedError,
} from './errors.js';
export type {
  CallOptions,
  CloseOptions,
  EncapsulateBatchOptions,
  PooledKem,
  PooledKeyEncoding,
  PooledSignatureScheme,
  PoolExportPrivateKeyOptions,
  PoolImportPrivateKeyOptions,
  PoolLogger,
  PoolOptions,
  PoolSignOptions,
  PoolStats,
  PoolVerifyOptions,
  SignBatchOptions,
  VerifyItem,
} from './types.js';

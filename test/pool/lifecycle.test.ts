// Worker crashes, aborts, close(), terminate() and the queue limit, on real worker threads.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, loadPqc } from '../../src/index.js';
import type { KeyPair } from '../../src/index.js';
import { MAX_BATCH_LENGTH, MAX_ITEMS_PER_TASK } from '../../src/pool/batches.js';
import {
  AbortError,
  CloseTimeoutError,
  PoolClosedError,
  QueueFullError,
  WorkerTerminatedError,
} from '../../src/pool/index.js';
import type { PoolOptions, PqcPool } from '../../src/pool/index.js';
import { terminateWorkerForTesting } from '../../src/pool/testing.js';
import { pattern, rejectionOf, SLOW_MESSAGE_LENGTH, startPool } from './helpers.js';

const pools: PqcPool[] = [];
const signer: KeyPair = (await loadPqc()).signature('ML-DSA-87').keygen(pattern(32, 0));
const slowMessage = new Uint8Array(SLOW_MESSAGE_LENGTH);

async function openPool(options: PoolOptions): Promise<PqcPool> {
  const pool = await startPool(options);
  pools.push(pool);
  return pool;
}

/** Starts a call that keeps one worker busy for tens of milliseconds. */
function slowCall(pool: PqcPool, signal?: AbortSignal): Promise<Uint8Array> {
  return pool.signature('ML-DSA-87').sign(slowMessage, signer.secretKey, { signal });
}

/** Resolves to how `promise` settled, or rejects if it has not settled within `ms`. */
async function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
  label: string,
): Promise<PromiseSettledResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  try {
    const [settled] = await Promise.race([Promise.allSettled([promise]), timeout]);
    return settled!;
  } finally {
    clearTimeout(timer);
  }
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.terminate()));
});

describe('worker crash', () => {
  it('rejects only the crashed call and replaces the worker', async () => {
    const logged: Array<{ level: string; fields: object; message: string }> = [];
    const record =
      (level: string) =>
      (fields: object, message: string): void => {
        logged.push({ level, fields, message });
      };
    const logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const pool = await openPool({ size: 2, logger });
    const doomed = slowCall(pool);
    await vi.waitFor(() => expect(pool.stats.running).toBe(1));

    await terminateWorkerForTesting(pool);
    const error = await rejectionOf(doomed);

    expect(error).toBeInstanceOf(WorkerTerminatedError);
    expect((error as WorkerTerminatedError).code).toBe('ERR_WORKER_TERMINATED');
    expect(error.name).toBe('WorkerTerminatedError');
    expect(error.message).toContain('ML-DSA-87 sign failed: pool worker');
    await vi.waitFor(() => expect(pool.stats.workers).toBe(2));
    const pair = await pool.kem('ML-KEM-768').keygen(pattern(64, 5));
    expect(pair.publicKey).toHaveLength(1184);
    const crash = logged.find((entry) => entry.message === 'pool worker stopped unexpectedly');
    expect(crash?.level).toBe('warn');
    expect(crash?.fields).toMatchObject({ operation: 'ML-DSA-87 sign' });
    expect(logged.some((entry) => entry.message === 'replacing pool worker')).toBe(true);
  });

  it('leaves calls on other workers unaffected', async () => {
    const pool = await openPool({ size: 2 });
    const first = slowCall(pool);
    const second = slowCall(pool);
    await vi.waitFor(() => expect(pool.stats.running).toBe(2));

    await terminateWorkerForTesting(pool);
    const settled = await Promise.allSettled([first, second]);

    const rejected = settled.filter((result) => result.status === 'rejected');
    const fulfilled = settled.filter((result) => result.status === 'fulfilled');
    expect(rejected).toHaveLength(1);
    expect(fulfilled).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(WorkerTerminatedError);
  });

  it('rejects a batch whose task was on the crashed worker', async () => {
    const pool = await openPool({ size: 1 });
    const batch = pool
      .signature('ML-DSA-87')
      .signBatch([slowMessage, slowMessage], signer.secretKey);
    await vi.waitFor(() => expect(pool.stats.running).toBe(1));

    await terminateWorkerForTesting(pool);

    await expect(batch).rejects.toThrow(WorkerTerminatedError);
    expect(pool.stats.queued).toBe(0);
    await expect(pool.signature('ML-DSA-44').keygenBatch(3)).resolves.toHaveLength(3);
  });
});

describe('abort', () => {
  it('rejects at once when the signal is already aborted', async () => {
    const pool = await openPool({ size: 1 });
    const reason = new Error('caller gave up');

    const error = await rejectionOf(
      pool.kem('ML-KEM-512').keygen(undefined, { signal: AbortSignal.abort(reason) }),
    );

    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).code).toBe('ERR_ABORTED');
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe(reason);
    expect(pool.stats.queued).toBe(0);
  });

  it('never sends a queued call that was aborted', async () => {
    const pool = await openPool({ size: 1 });
    const busy = slowCall(pool);
    const controller = new AbortController();
    const seed = pattern(64, 9);
    // With transfer, the seed's buffer would be detached the moment the call was sent.
    const queued = pool
      .kem('ML-KEM-768')
      .keygen(seed, { signal: controller.signal, transfer: true });
    expect(pool.stats.queued).toBe(1);

    controller.abort();

    await expect(queued).rejects.toThrow(AbortError);
    expect(pool.stats.queued).toBe(0);
    await busy;
    expect(seed.byteLength).toBe(64);
    expect(seed).toEqual(pattern(64, 9));
  });

  it('rejects a running call at once and keeps the worker', async () => {
    const pool = await openPool({ size: 1 });
    const controller = new AbortController();
    const running = slowCall(pool, controller.signal);
    await vi.waitFor(() => expect(pool.stats.running).toBe(1));

    controller.abort();

    await expect(running).rejects.toThrow(AbortError);
    await expect(pool.kem('ML-KEM-512').keygen()).resolves.toHaveProperty('secretKey');
    expect(pool.stats.workers).toBe(1);
  });

  it('drops the unsent tasks of an aborted batch', async () => {
    const pool = await openPool({ size: 1 });
    const controller = new AbortController();
    const batch = pool
      .signature('ML-DSA-87')
      .signBatch([slowMessage, slowMessage, slowMessage], signer.secretKey, {
        signal: controller.signal,
      });
    await vi.waitFor(() => expect(pool.stats.running).toBe(1));
    expect(pool.stats.queued).toBe(2);

    controller.abort();

    await expect(batch).rejects.toThrow(AbortError);
    expect(pool.stats.queued).toBe(0);
  });

  it('terminates the pool when the pool signal aborts', async () => {
    const controller = new AbortController();
    const pool = await openPool({ size: 1, signal: controller.signal });
    const running = slowCall(pool);
    const queued = pool.kem('ML-KEM-512').keygen();

    controller.abort();

    await expect(running).rejects.toThrow(AbortError);
    await expect(queued).rejects.toThrow(AbortError);
    const late = await rejectionOf(pool.kem('ML-KEM-512').keygen());
    expect(late).toBeInstanceOf(PoolClosedError);
    expect((late as PoolClosedError).code).toBe('ERR_POOL_CLOSED');
    await vi.waitFor(() => expect(pool.stats.workers).toBe(0));
  });
});

describe('close', () => {
  it('lets queued and running calls finish', async () => {
    const pool = await openPool({ size: 1 });
    const running = slowCall(pool);
    const queued = pool.signature('ML-DSA-44').keygenBatch(4);

    await pool.close();

    await expect(running).resolves.toHaveLength(4627);
    await expect(queued).resolves.toHaveLength(4);
    expect(pool.stats).toEqual({ workers: 0, running: 0, queued: 0 });
  });

  it('rejects calls made after close', async () => {
    const pool = await openPool({ size: 1 });
    const closing = pool.close();

    const error = await rejectionOf(pool.kem('ML-KEM-512').keygen());
    await closing;

    expect(error).toBeInstanceOf(PoolClosedError);
    expect(error.message).toBe(
      'ML-KEM-512 keygen failed: the worker pool is closed; create a new pool',
    );
    await expect(pool.signature('ML-DSA-44').verifyBatch([])).rejects.toThrow(PoolClosedError);
  });

  it('cuts off calls that outlast the timeout', async () => {
    const pool = await openPool({ size: 1 });
    const running = slowCall(pool);
    const queued = slowCall(pool);
    await vi.waitFor(() => expect(pool.stats.running).toBe(1));

    const errors = Promise.all([running, queued].map(rejectionOf));

    await pool.close({ timeout: 1 });

    for (const error of await errors) {
      expect(error).toBeInstanceOf(CloseTimeoutError);
      expect((error as CloseTimeoutError).code).toBe('ERR_CLOSE_TIMEOUT');
    }
    expect(pool.stats.workers).toBe(0);
  });
});

describe('terminate', () => {
  it('rejects queued and running calls with ERR_WORKER_TERMINATED', async () => {
    const pool = await openPool({ size: 1 });
    const calls = [slowCall(pool), slowCall(pool), pool.kem('ML-KEM-768').keygenBatch(10)];
    const errors = Promise.all(calls.map(rejectionOf));

    await pool.terminate();

    for (const error of await errors) {
      expect(error).toBeInstanceOf(WorkerTerminatedError);
      expect(error.message).toContain('the worker pool was terminated');
    }
    await expect(pool.kem('ML-KEM-768').keygen()).rejects.toThrow(PoolClosedError);
  });
});

describe('queue limit', () => {
  it('rejects calls beyond maxQueue with QueueFullError', async () => {
    const pool = await openPool({ size: 1, maxQueue: 2 });
    const running = slowCall(pool);
    const queued = [pool.kem('ML-KEM-512').keygen(), pool.kem('ML-KEM-512').keygen()];

    const error = await rejectionOf(pool.kem('ML-KEM-512').keygen());
    const batchError = await rejectionOf(pool.kem('ML-KEM-512').keygenBatch(2));

    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).code).toBe('ERR_QUEUE_FULL');
    expect((error as QueueFullError).maxQueue).toBe(2);
    expect(batchError).toBeInstanceOf(QueueFullError);
    await Promise.all([running, ...queued]);
    await expect(pool.kem('ML-KEM-512').keygenBatch(2)).resolves.toHaveLength(2);
  });
});

describe('batch splitting', () => {
  it('splits a batch into bounded tasks', async () => {
    const pool = await openPool({ size: 1 });
    const count = 10 * MAX_ITEMS_PER_TASK + 1;

    const batch = pool.kem('ML-KEM-512').keygenBatch(count);

    // One task is running and the other ten of the eleven wait.
    expect(pool.stats.running).toBe(1);
    expect(pool.stats.queued).toBe(10);
    await expect(batch).resolves.toHaveLength(count);
  });

  it('keeps order across tasks', async () => {
    const pool = await openPool({ size: 2 });
    const core = (await loadPqc()).kem('ML-KEM-512');
    const seeds = Array.from({ length: 3 * MAX_ITEMS_PER_TASK + 5 }, (_, i) => pattern(64, i));

    const pairs = await pool.kem('ML-KEM-512').keygenBatch(seeds);

    expect(pairs).toHaveLength(seeds.length);
    pairs.forEach((pair, i) => {
      expect(pair.publicKey, `pair ${i}`).toEqual(core.keygen(seeds[i]).publicKey);
    });
    const publicKeys = pairs.map((pair) => pair.publicKey);
    const failing = 2 * MAX_ITEMS_PER_TASK + 3;
    publicKeys[failing] = pattern(7, 0);
    const error = await rejectionOf(pool.kem('ML-KEM-512').encapsulateBatch(publicKeys));
    expect(error.message).toBe(
      `publicKey must be 800 bytes for ML-KEM-512, got 7 (item ${failing} of the batch)`,
    );
  });

  it('stops an aborted large batch soon', async () => {
    const pool = await openPool({ size: 1 });
    const controller = new AbortController();
    // About 1000 tasks of ML-DSA-87 key generation, several seconds of work for one worker.
    const batch = pool
      .signature('ML-DSA-87')
      .keygenBatch(1000 * MAX_ITEMS_PER_TASK, { signal: controller.signal });
    const outcome = rejectionOf(batch);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const rssAtAbort = process.memoryUsage().rss;
    controller.abort();
    const error = await outcome;
    const next = await settleWithin(
      pool.kem('ML-KEM-512').keygen(pattern(64, 3)),
      1500,
      'the call after the abort',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rssGrowth = process.memoryUsage().rss - rssAtAbort;

    expect(error).toBeInstanceOf(AbortError);
    expect(next.status).toBe('fulfilled');
    expect(pool.stats.running).toBe(0);
    expect(pool.stats.queued).toBe(0);
    expect(rssGrowth).toBeLessThan(64 << 20);
  });

  it('rejects an oversized batch at once', async () => {
    const pool = await openPool({ size: 1 });
    const { publicKey } = await pool.kem('ML-KEM-512').keygen();

    const keygen = await settleWithin(
      pool.kem('ML-KEM-512').keygenBatch(1_000_000),
      1000,
      'keygenBatch(1000000)',
    );
    const encapsulate = await settleWithin(
      pool.kem('ML-KEM-512').encapsulateBatch(new Array<Uint8Array>(1_000_000).fill(publicKey)),
      1000,
      'encapsulateBatch of 1000000 keys',
    );

    for (const result of [keygen, encapsulate]) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as QueueFullError;
      expect(reason).toBeInstanceOf(QueueFullError);
      expect(reason.code).toBe('ERR_QUEUE_FULL');
      expect(reason.maxQueue).toBe(1024);
    }
    expect(pool.stats.running).toBe(0);
    expect(pool.stats.queued).toBe(0);
  });

  it('rejects a batch over the maximum length', async () => {
    const pool = await openPool({ size: 1, maxQueue: Infinity });

    const result = await settleWithin(
      pool.kem('ML-KEM-512').keygenBatch(1e9),
      1000,
      'keygenBatch(1e9)',
    );

    expect(result.status).toBe('rejected');
    const reason = (result as PromiseRejectedResult).reason as InvalidArgumentError;
    expect(reason).toBeInstanceOf(InvalidArgumentError);
    expect(reason.code).toBe('ERR_INVALID_ARGUMENT');
    expect(reason.message).toBe(
      `ML-KEM-512 keygenBatch: a batch may have at most ${MAX_BATCH_LENGTH} items, ` +
        `got 1000000000; split it into several calls`,
    );
    expect(pool.stats.running).toBe(0);
    expect(pool.stats.queued).toBe(0);
  });

  it('counts batch tasks against maxQueue', async () => {
    const pool = await openPool({ size: 1, maxQueue: 10 });

    // Twelve tasks: one runs at once and eleven would wait, one more than maxQueue.
    const tooMany = await rejectionOf(
      pool.kem('ML-KEM-512').keygenBatch(11 * MAX_ITEMS_PER_TASK + 1),
    );
    const fits = pool.kem('ML-KEM-512').keygenBatch(11 * MAX_ITEMS_PER_TASK);

    expect(tooMany).toBeInstanceOf(QueueFullError);
    expect(tooMany.message).toContain('this call needs 12 slots');
    expect(pool.stats.queued).toBe(10);
    await expect(fits).resolves.toHaveLength(11 * MAX_ITEMS_PER_TASK);
  });
});

describe('idle timeout', () => {
  it('stops idle workers and starts new ones on demand', async () => {
    const pool = await openPool({ size: 2, idleTimeout: 20 });
    await pool.kem('ML-KEM-512').keygenBatch(4);

    await vi.waitFor(() => expect(pool.stats.workers).toBe(0), { timeout: 5000 });
    const pair = await pool.kem('ML-KEM-512').keygen(pattern(64, 1));

    expect(pair.publicKey).toHaveLength(800);
    expect(pool.stats.workers).toBeGreaterThanOrEqual(1);
  });
});

describe('options', () => {
  it('rejects invalid pool options', async () => {
    await expect(startPool({ size: 0 })).rejects.toThrow('size must be an integer >= 1, got 0');
    await expect(startPool({ maxQueue: -1 })).rejects.toThrow('maxQueue must be an integer >= 0');
    await expect(startPool({ idleTimeout: -5 })).rejects.toThrow(
      'idleTimeout must be a non-negative number',
    );
    await expect(startPool({ signal: AbortSignal.abort() })).rejects.toThrow(AbortError);
  });

  it('rejects a logger without the pool methods', async () => {
    const cases: Array<[string, unknown, string]> = [
      [
        'warn and error only',
        { warn() {}, error() {} },
        'createPqcPool: logger has no debug method; it needs debug, info, warn and error ' +
          'methods taking (fields, message), as a pino logger has',
      ],
      [
        'no info',
        { debug() {}, warn() {}, error() {} },
        'createPqcPool: logger has no info method',
      ],
      [
        'number',
        5,
        'createPqcPool: logger must be an object with debug, info, warn and error methods, ' +
          'got number; a pino logger fits',
      ],
      ['null', null, 'logger must be an object with debug, info, warn and error methods, got null'],
    ];

    for (const [label, logger, message] of cases) {
      const error = await rejectionOf(openPool({ size: 1, logger: logger as never }));
      expect(error, label).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code, label).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message, label).toContain(message);
    }
  });

  it('accepts a logger with prototype methods', async () => {
    const messages: string[] = [];
    class Logger {
      debug(_fields: object, message: string): void {
        messages.push(message);
      }
      info(): void {}
      warn(): void {}
      error(): void {}
    }

    const pool = await openPool({ size: 1, logger: new Logger() });

    expect(messages).toContain('pool worker started');
    await expect(pool.kem('ML-KEM-512').keygen()).resolves.toHaveProperty('publicKey');
  });

  it('rejects a workerUrl that is not a URL', async () => {
    const scriptPath = fileURLToPath(new URL('../../dist/pool-worker.js', import.meta.url));
    const example =
      "for example new URL('./pool-worker.js', import.meta.url) or a file: URL from " +
      "pathToFileURL('/path/to/pool-worker.js') of node:url";
    const cases: Array<[unknown, string]> = [
      ['./w.js', `workerUrl must be an absolute URL, ${example}; got "./w.js"`],
      [
        scriptPath,
        `workerUrl must be an absolute URL, ${example}; got ${JSON.stringify(scriptPath)}`,
      ],
      [
        'node:worker',
        `workerUrl must be a file: or data: URL in Node, ${example}; got "node:worker"`,
      ],
      [5, `workerUrl must be a URL or a URL string, ${example}; got number`],
    ];

    for (const [workerUrl, message] of cases) {
      const error = await rejectionOf(openPool({ size: 1, workerUrl: workerUrl as never }));
      expect(error, String(workerUrl)).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code, String(workerUrl)).toBe(
        'ERR_INVALID_ARGUMENT',
      );
      expect(error.message, String(workerUrl)).toBe(`createPqcPool: ${message}`);
    }
  });

  it('accepts a file: URL string as workerUrl', async () => {
    const scriptPath = fileURLToPath(new URL('../../dist/pool-worker.js', import.meta.url));

    const pool = await openPool({ size: 1, workerUrl: pathToFileURL(scriptPath).href });

    await expect(pool.kem('ML-KEM-512').keygen()).resolves.toHaveProperty('publicKey');
  });

  it.each([0, 5, 20])('rejects creation aborted after %i ms', async (delay) => {
    const controller = new AbortController();
    const creating = startPool({ size: 2, signal: controller.signal });
    const outcome = rejectionOf(creating);

    // Starting takes well over 20 ms, so these delays abort while compiling or instantiating.
    await new Promise((resolve) => setTimeout(resolve, delay));
    controller.abort();

    expect(await outcome).toBeInstanceOf(AbortError);
  });
});

/**
 * Argument checks and task building shared by the pooled algorithm objects: splitting a batch
 * into tasks, choosing which input buffers to transfer, and checking the shapes that the
 * worker cannot check for itself (arrays, counts, options).
 */
import { InvalidArgumentError } from '../errors.js';
import { requireOptions } from '../core/validate.js';
import type { OperationKind, RequestOf, ResultOf } from './protocol.js';
import type { Scheduler, TaskInput } from './scheduler.js';
import type { CallOptions } from './types.js';

/**
 * Tasks per worker that a batch is spread over when it has enough items, so that a slow task
 * delays the batch less.
 */
export const TASKS_PER_WORKER = 4;

/**
 * Maximum number of items in one task. A task that has started runs to its end, so this bounds
 * the work an abort, close() or terminate() cannot stop. It was measured with keygenBatch(1024)
 * through a pool of 2 on a 2-vCPU AMD EPYC with Node 20.20, median of 31 rounds. For 16, 32, 64,
 * 128 and 256 items per task, ML-KEM-512 made 36.7k, 41.9k, 43.1k, 39.8k and 42.4k pairs/s, and
 * ML-KEM-768 28.6k, 29.3k, 31.5k, 29.4k and 29.4k. 64 is the smallest size within a few percent
 * of the best.
 * NOTE: runs moved by up to 15% under the shared load; one 21-round run had ML-KEM-512 13%
 * faster at 128 items. docs/pool.md has the details.
 */
export const MAX_ITEMS_PER_TASK = 64;

/**
 * Maximum number of items in one batch. The results of a larger batch would not fit in memory
 * (2^24 ML-KEM-512 key pairs alone are 42 GB), and below it the range arithmetic of
 * {@link splitRanges} stays exact.
 */
export const MAX_BATCH_LENGTH = 2 ** 24;

/** The fields of {@link CallOptions}, checked. */
export interface CheckedCallOptions {
  signal: AbortSignal | undefined;
  transfer: boolean;
}

/** Names of the {@link CallOptions} fields, which every pooled method accepts. */
const CALL_OPTION_NAMES: readonly (keyof CallOptions)[] = ['signal', 'transfer'];

/**
 * Checks `options` of `method` and returns its fields, including the call options. `names`
 * lists the method's own options. As in the core, an array or any other key is rejected, so a
 * misspelled option such as `ctx` fails instead of being ignored. Messages about the options
 * object itself name only the method, as the core's do.
 */
export function readCallOptions(
  options: unknown,
  method: string,
  operation: string,
  names: readonly string[],
): Record<string, unknown> & CheckedCallOptions {
  const fields = requireOptions(options, method, [...names, ...CALL_OPTION_NAMES]);
  const { signal, transfer } = fields;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(
      `${operation}: signal must be an AbortSignal, got ${typeof signal}`,
    );
  }
  if (transfer !== undefined && typeof transfer !== 'boolean') {
    throw new InvalidArgumentError(
      `${operation}: transfer must be a boolean, got ${typeof transfer}`,
    );
  }
  return { ...fields, signal, transfer: transfer === true };
}

/** Throws unless `value` is an array; `parameter` names it in the message. */
export function requireArray<T>(
  value: readonly T[] | unknown,
  parameter: string,
  operation: string,
): readonly T[] {
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(
      `${operation}: ${parameter} must be an array, got ${typeof value}`,
    );
  }
  return value as readonly T[];
}

/** Throws unless the optional `values` has exactly one entry per item. */
export function requireParallel<T>(
  values: unknown,
  parameter: string,
  expected: number,
  operation: string,
): readonly T[] | undefined {
  if (values === undefined) {
    return undefined;
  }
  const array = requireArray<T>(values, parameter, operation);
  if (array.length !== expected) {
    throw new InvalidArgumentError(
      `${operation}: ${parameter} must have one entry per item (${expected}), got ${array.length}`,
    );
  }
  return array;
}

/** Throws unless `count` is a non-negative safe integer. */
export function requireCount(count: number, operation: string): number {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new InvalidArgumentError(
      `${operation}: count must be a non-negative integer, got ${String(count)}`,
    );
  }
  return count;
}

/** Splits `length` items into `parts` contiguous ranges whose sizes differ by at most one. */
export function splitRanges(length: number, parts: number): Array<[start: number, end: number]> {
  const count = Math.max(1, Math.min(length, parts));
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    ranges.push([Math.floor((i * length) / count), Math.floor(((i + 1) * length) / count)]);
  }
  return ranges;
}

/**
 * Returns, per task, the input buffers to transfer. Nothing is transferred unless `enabled`.
 * A buffer is transferred only when one Uint8Array covers all of it and no other task or
 * input of the call uses it. Otherwise transferring would hand over unrelated bytes, or
 * detach a buffer that a later task still has to send.
 */
export function planTransfers(
  enabled: boolean,
  taskInputs: readonly (readonly unknown[])[],
): ArrayBuffer[][] {
  if (!enabled) {
    return taskInputs.map(() => []);
  }

  const uses = new Map<ArrayBuffer, number>();
  for (const inputs of taskInputs) {
    for (const value of inputs) {
      if (value instanceof Uint8Array && value.buffer instanceof ArrayBuffer) {
        uses.set(value.buffer, (uses.get(value.buffer) ?? 0) + 1);
      }
    }
  }

  return taskInputs.map((inputs) => {
    const buffers: ArrayBuffer[] = [];
    for (const value of inputs) {
      if (!(value instanceof Uint8Array) || !(value.buffer instanceof ArrayBuffer)) continue;
      const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
      if (whole && uses.get(value.buffer) === 1) buffers.push(value.buffer);
    }
    return buffers;
  });
}

/** One batch call: the scheduler that runs it, its name and its checked options. */
export interface BatchCall {
  scheduler: Scheduler;
  /** Name used in error messages, for example `ML-KEM-768 keygenBatch`. */
  operation: string;
  /** Number of tasks the batch is spread over when it has at least that many items. */
  spread: number;
  options: CheckedCallOptions;
}

/**
 * Returns the number of tasks a batch of `length` items is split into: `spread`, or one per
 * item when there are fewer, or more when needed to keep each task at
 * {@link MAX_ITEMS_PER_TASK} items or fewer.
 */
export function batchTaskCount(length: number, spread: number): number {
  if (length === 0) {
    return 0;
  }
  return Math.max(Math.min(length, spread), Math.ceil(length / MAX_ITEMS_PER_TASK));
}

/**
 * Returns the number of tasks for a batch of `length` items. Throws when the batch is longer
 * than {@link MAX_BATCH_LENGTH}, when the pool is closed or the signal has fired, or when the
 * tasks would exceed `maxQueue`. It runs before any task is built, so a huge batch is rejected
 * without allocating anything.
 */
function admitBatch(batch: BatchCall, length: number): number {
  if (length > MAX_BATCH_LENGTH) {
    throw new InvalidArgumentError(
      `${batch.operation}: a batch may have at most ${MAX_BATCH_LENGTH} items, got ${length}; ` +
        `split it into several calls`,
    );
  }
  const taskCount = batchTaskCount(length, batch.spread);
  const error = batch.scheduler.newCallError(batch.operation, batch.options.signal, taskCount);
  if (error !== undefined) {
    throw error;
  }
  return taskCount;
}

/**
 * Splits `items` into tasks and runs them, resolving to the results in item order.
 * `makeRequest` builds the request for one slice, and `inputsOf` lists the byte arrays of a
 * request that may be transferred.
 */
export function runBatch<K extends OperationKind, T>(
  batch: BatchCall,
  items: readonly T[],
  makeRequest: (slice: T[], start: number, end: number) => RequestOf<K>,
  inputsOf: (request: RequestOf<K>) => unknown[],
): Promise<ResultOf<K>[]> {
  const taskCount = admitBatch(batch, items.length);
  if (taskCount === 0) {
    return submitBatch(batch, []);
  }
  const requests = splitRanges(items.length, taskCount).map(([start, end]) =>
    makeRequest(items.slice(start, end), start, end),
  );
  const transfers = planTransfers(batch.options.transfer, requests.map(inputsOf));
  const tasks = requests.map((request, i) => ({ request, transfer: transfers[i] ?? [] }));
  return submitBatch(batch, tasks);
}

/** Submits one single-item request and resolves to its result. */
export async function runSingle<K extends OperationKind>(
  scheduler: Scheduler,
  operation: string,
  request: RequestOf<K>,
  inputs: readonly unknown[],
  options: CheckedCallOptions,
): Promise<ResultOf<K>> {
  const [transfer = []] = planTransfers(options.transfer, [inputs]);
  const results = await scheduler.submit(operation, [{ request, transfer }], {
    signal: options.signal,
    isBatch: false,
  });
  return results[0]!;
}

/** Runs a keygen batch of `count` random key pairs, or of one key pair per seed. */
export function runKeygenBatch<K extends 'kem-keygen' | 'signature-keygen'>(
  batch: BatchCall,
  countOrSeeds: unknown,
  makeRequest: (count: number, seeds?: Uint8Array[]) => RequestOf<K>,
): Promise<ResultOf<K>[]> {
  if (typeof countOrSeeds !== 'number') {
    const seeds = requireArray<Uint8Array>(countOrSeeds, 'seeds', batch.operation);
    return runBatch<K, Uint8Array>(
      batch,
      seeds,
      (slice) => makeRequest(slice.length, slice),
      (request) => request.seeds ?? [],
    );
  }

  const count = requireCount(countOrSeeds, batch.operation);
  const taskCount = admitBatch(batch, count);
  if (taskCount === 0) {
    return submitBatch(batch, []);
  }
  const tasks = splitRanges(count, taskCount).map(([start, end]) => ({
    request: makeRequest(end - start),
    transfer: [],
  }));
  return submitBatch(batch, tasks);
}

function submitBatch<K extends OperationKind>(
  batch: BatchCall,
  tasks: TaskInput<K>[],
): Promise<ResultOf<K>[]> {
  return batch.scheduler.submit(batch.operation, tasks, {
    signal: batch.options.signal,
    isBatch: true,
  });
}

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

/** Tasks a batch is split into per worker, so that a slow task delays the batch less. */
export const TASKS_PER_WORKER = 4;

/** The fields of {@link CallOptions}, checked. */
export interface CheckedCallOptions {
  signal: AbortSignal | undefined;
  transfer: boolean;
}

/**
 * Checks `options` of `method` and returns its fields, including the call options. Messages
 * about the options object itself name only the method, as the core's do.
 */
export function readCallOptions(
  options: unknown,
  method: string,
  operation: string,
): Record<string, unknown> & CheckedCallOptions {
  const fields = requireOptions(options, method);
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

/**
 * Splits `items` into at most `parts` tasks. `makeRequest` builds the request for one slice,
 * and `inputsOf` lists the byte arrays of a request that may be transferred.
 */
export function buildTasks<K extends OperationKind, T>(
  items: readonly T[],
  parts: number,
  transfer: boolean,
  makeRequest: (slice: T[], start: number, end: number) => RequestOf<K>,
  inputsOf: (request: RequestOf<K>) => unknown[],
): TaskInput<K>[] {
  if (items.length === 0) {
    return [];
  }
  const requests = splitRanges(items.length, parts).map(([start, end]) =>
    makeRequest(items.slice(start, end), start, end),
  );
  const transfers = planTransfers(transfer, requests.map(inputsOf));
  return requests.map((request, i) => ({ request, transfer: transfers[i] ?? [] }));
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

/** Builds the tasks of a keygen batch from a count or from one seed per key pair. */
export function keygenTasks<K extends 'kem-keygen' | 'signature-keygen'>(
  countOrSeeds: unknown,
  parts: number,
  options: CheckedCallOptions,
  operation: string,
  makeRequest: (count: number, seeds?: Uint8Array[]) => RequestOf<K>,
): TaskInput<K>[] {
  if (typeof countOrSeeds === 'number') {
    const count = requireCount(countOrSeeds, operation);
    if (count === 0) {
      return [];
    }
    return splitRanges(count, parts).map(([start, end]) => ({
      request: makeRequest(end - start),
      transfer: [],
    }));
  }

  const seeds = requireArray<Uint8Array>(countOrSeeds, 'seeds', operation);
  return buildTasks<K, Uint8Array>(
    seeds,
    parts,
    options.transfer,
    (slice) => makeRequest(slice.length, slice),
    (request) => request.seeds ?? [],
  );
}

/** Errors raised by the worker pool itself, as opposed to errors of the operations it runs. */
import { PqcError } from '../errors.js';
import type { PqcErrorOptions } from '../errors.js';

/** The queue already contains `maxQueue` tasks waiting for a worker. */
export class QueueFullError extends PqcError {
  /** The pool's `maxQueue` option. */
  readonly maxQueue: number;

  constructor(maxQueue: number, needed: number) {
    super(
      'ERR_QUEUE_FULL',
      `the worker pool queue is full (maxQueue ${maxQueue}, this call needs ${needed} ` +
        `slot${needed === 1 ? '' : 's'}); retry later, await earlier calls or raise maxQueue`,
    );
    this.maxQueue = maxQueue;
  }
}

/**
 * The worker running or about to run the call exited: it crashed, was terminated from outside,
 * or the pool was terminated. The pool replaces a crashed worker unless it is shutting down.
 */
export class WorkerTerminatedError extends PqcError {
  constructor(message: string, options?: PqcErrorOptions) {
    super('ERR_WORKER_TERMINATED', message, options);
  }
}

/** The pool was closed or terminated before the call was made. */
export class PoolClosedError extends PqcError {
  constructor(operation: string) {
    super('ERR_POOL_CLOSED', `${operation} failed: the worker pool is closed; create a new pool`);
  }
}

/** `close()` reached its timeout before the call finished, so the call was cut off. */
export class CloseTimeoutError extends PqcError {
  constructor(operation: string, timeout: number) {
    super(
      'ERR_CLOSE_TIMEOUT',
      `${operation} was cut off because the worker pool closed and the call had not finished ` +
        `within the close timeout of ${timeout} ms; pass a longer timeout to close()`,
    );
  }
}

/**
 * The call's or the pool's AbortSignal fired. A call that had not started never runs; a call
 * that was running finishes in its worker and its result is discarded. `cause` is the signal's
 * `reason`. The name is `AbortError`, as for aborted platform APIs such as `fetch`.
 */
export class AbortError extends PqcError {
  constructor(operation: string, options?: PqcErrorOptions) {
    super('ERR_ABORTED', `${operation} was aborted by its AbortSignal`, options);
  }
}

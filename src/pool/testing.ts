/**
 * Helpers for the pool's own tests; not exported from the package. They act on the real worker
 * threads from the main thread, so no test-only code runs inside a worker.
 */
import { schedulerOf } from './pool.js';
import type { PqcPool } from './pool.js';

/**
 * Terminates one worker thread of `pool` as a crash would: the worker running a task when
 * there is one, otherwise any worker. The pool handles it as an unexpected exit. Resolves once
 * the thread has stopped.
 */
export function terminateWorkerForTesting(pool: PqcPool): Promise<void> {
  return schedulerOf(pool).terminateWorkerForTesting();
}

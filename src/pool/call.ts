/**
 * A call (one method call on the public API) and the tasks it is split into. A call resolves
 * when all its tasks have, with their results concatenated in task order, and settles once.
 */
import { wipeAll } from './bytes.js';
import type { WorkerRequest } from './protocol.js';

export interface Call {
  /** Name used in error messages, for example `ML-KEM-768 decapsulate`. */
  readonly operation: string;
  /** Whether error messages name the failing item's index. */
  readonly isBatch: boolean;
  /** Results of each task, by task index, once it has finished. */
  readonly taskResults: (unknown[] | undefined)[];
  /** Tasks that have not finished. */
  remaining: number;
  settled: boolean;
  resolve(results: unknown[]): void;
  reject(error: Error): void;
  removeAbortListener?: () => void;
}

/** One message to one worker. */
export interface Task {
  readonly call: Call;
  readonly request: WorkerRequest;
  /** Input buffers to transfer rather than copy. */
  readonly transfer: Transferable[];
  /** Index of the task within its call. */
  readonly index: number;
  /** Index of the task's first item within its call. */
  readonly offset: number;
}

/** Stores the results of `task`; resolves its call when this was the last task. */
export function completeTask(task: Task, results: unknown[]): void {
  const { call } = task;
  call.taskResults[task.index] = results;
  call.remaining--;
  if (call.remaining > 0) {
    return;
  }

  call.settled = true;
  call.removeAbortListener?.();
  const [first] = call.taskResults;
  call.resolve(
    call.taskResults.length === 1 && first !== undefined ? first : call.taskResults.flat(),
  );
}

/**
 * Rejects `call` unless it has settled, and zeroes the results its finished tasks returned.
 * Returns whether it rejected the call.
 */
export function rejectCall(call: Call, error: Error): boolean {
  if (call.settled) {
    return false;
  }

  call.settled = true;
  call.removeAbortListener?.();
  for (const results of call.taskResults) {
    if (results !== undefined) wipeAll(results);
  }
  call.reject(error);
  return true;
}

/**
 * The pool's scheduler: a FIFO queue of tasks and a set of workers, each running at most one
 * task at a time. A call (one method call on the public API) is split into one or more tasks.
 * It resolves when all of them have. It rejects on the first failure, and its tasks still in
 * the queue are then dropped.
 *
 * Running one task per worker keeps aborts exact: a task still in the queue has not been sent,
 * so removing it guarantees it never runs.
 */
import { transfer } from 'comlink';
import { InvalidArgumentError } from '../errors.js';
import { containsDetachedBytes } from './bytes.js';
import { completeTask, rejectCall } from './call.js';
import type { Call, Task } from './call.js';
import { deserializeError } from './error-transport.js';
import { unpackResults, wipePacked } from './packing.js';
import {
  AbortError,
  CloseTimeoutError,
  PoolClosedError,
  QueueFullError,
  WorkerTerminatedError,
} from './errors.js';
import type { Platform } from './platform.js';
import { startFailure, startWorker } from './pool-worker.js';
import type { PoolWorker, WorkerListeners } from './pool-worker.js';
import { itemCount } from './protocol.js';
import type { OperationKind, RequestOf, ResultOf, WorkerResponse } from './protocol.js';
import type { PoolLogger, PoolStats } from './types.js';

/** Largest delay setTimeout accepts, in ms; longer timeouts are treated as no timeout. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** One message to a worker, with the input buffers to transfer rather than copy. */
export interface TaskInput<K extends OperationKind> {
  request: RequestOf<K>;
  transfer: Transferable[];
}

/** Settings of the scheduler, already validated. */
export interface SchedulerSettings {
  size: number;
  maxQueue: number;
  /** Idle lifetime of a worker in ms; Infinity keeps workers. */
  idleTimeout: number;
  module: WebAssembly.Module;
  platform: Platform;
  /** Aborting it stops the pool; pending calls reject with ERR_ABORTED. */
  signal?: AbortSignal;
  logger?: PoolLogger;
}

export class Scheduler {
  liboqsVersion = '';
  private readonly settings: SchedulerSettings;
  private readonly workers = new Set<PoolWorker>();
  /** Idle workers, most recently used last, so that the others can reach their idle timeout. */
  private readonly idleWorkers: PoolWorker[] = [];
  private queue: Task[] = [];
  private readonly calls = new Set<Call>();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private nextWorkerId = 1;
  private onDrained?: () => void;
  private closing?: Promise<void>;
  private stopping?: Promise<void>;
  private removeAbortListener?: () => void;
  private readonly listeners: WorkerListeners = {
    onStarted: (worker, liboqsVersion) => {
      if (this.liboqsVersion === '') this.liboqsVersion = liboqsVersion;
      this.settings.logger?.debug({ workerId: worker.id }, 'pool worker started');
      this.assignNext(worker);
    },
    onStartFailed: (worker, error) => this.onStartFailed(worker, error),
    onExit: (worker, reason) => this.onWorkerExit(worker, reason),
  };

  constructor(settings: SchedulerSettings) {
    this.settings = settings;

    const { signal } = settings;
    if (signal !== undefined) {
      const onAbort = (): void => {
        void this.stop((operation) => new AbortError(operation, { cause: signal.reason }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.removeAbortListener = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** Starts `size` workers and resolves once all of them have instantiated the module. */
  async start(): Promise<void> {
    const workers = Array.from({ length: this.settings.size }, () => this.spawn());
    await Promise.all(workers.map((worker) => worker.ready));
  }

  /** Maximum number of workers. */
  get size(): number {
    return this.settings.size;
  }

  get stats(): PoolStats {
    let running = 0;
    for (const worker of this.workers) {
      if (worker.task !== undefined) running++;
    }
    return { workers: this.workers.size, running, queued: this.queue.length };
  }

  /**
   * Queues the tasks of one call and resolves to their results, concatenated in task order.
   * `isBatch` adds the failing item's index to error messages.
   */
  submit<K extends OperationKind>(
    operation: string,
    inputs: readonly TaskInput<K>[],
    options: { signal?: AbortSignal | undefined; isBatch: boolean },
  ): Promise<ResultOf<K>[]> {
    const { signal } = options;
    const error = this.newCallError(operation, signal, inputs.length);
    if (error !== undefined) {
      return Promise.reject(error);
    }
    if (inputs.length === 0) {
      return Promise.resolve([]);
    }

    return new Promise<ResultOf<K>[]>((resolve, reject) => {
      const call: Call = {
        operation,
        isBatch: options.isBatch,
        taskResults: new Array<unknown[] | undefined>(inputs.length),
        remaining: inputs.length,
        settled: false,
        resolve: resolve as (results: unknown[]) => void,
        reject,
      };
      if (signal !== undefined) {
        const onAbort = (): void =>
          this.failCall(call, new AbortError(operation, { cause: signal.reason }));
        signal.addEventListener('abort', onAbort, { once: true });
        call.removeAbortListener = () => signal.removeEventListener('abort', onAbort);
      }
      this.calls.add(call);

      let offset = 0;
      inputs.forEach((input, index) => {
        this.queue.push({ call, request: input.request, transfer: input.transfer, index, offset });
        offset += itemCount(input.request);
      });
      this.dispatch();
    });
  }

  /**
   * Returns the error a new call of `operation` with `taskCount` tasks gets before anything
   * runs: PoolClosedError after `close()` or `terminate()`, AbortError when `signal` has already
   * fired, QueueFullError when the tasks that would wait for a worker exceed `maxQueue`,
   * otherwise undefined. Methods that run on the calling thread check it too, with no tasks,
   * so they reject in the same states.
   */
  newCallError(
    operation: string,
    signal: AbortSignal | undefined,
    taskCount = 0,
  ): Error | undefined {
    if (this.state !== 'open') {
      return new PoolClosedError(operation);
    }
    if (signal?.aborted === true) {
      return new AbortError(operation, { cause: signal.reason });
    }
    const waiting = this.queue.length + Math.max(0, taskCount - this.idleWorkers.length);
    if (taskCount > 0 && waiting > this.settings.maxQueue) {
      return new QueueFullError(this.settings.maxQueue, taskCount);
    }
    return undefined;
  }

  /** Lets queued and running tasks finish for up to `timeout` ms, then stops every worker. */
  close(timeout: number): Promise<void> {
    if (this.closing !== undefined) {
      return this.closing;
    }
    if (this.state === 'open') this.state = 'closing';
    this.closing = this.drainThenStop(timeout);
    return this.closing;
  }

  /** Rejects every pending call with `errorFor(operation)` and stops every worker at once. */
  stop(errorFor: (operation: string) => Error): Promise<void> {
    if (this.stopping !== undefined) {
      return this.stopping;
    }
    this.state = 'closed';
    this.removeAbortListener?.();
    for (const call of [...this.calls]) {
      this.failCall(call, errorFor(call.operation));
    }
    this.queue = [];
    this.onDrained?.();

    const exits: Promise<void>[] = [];
    for (const worker of [...this.workers]) {
      exits.push(this.retire(worker));
    }
    this.settings.logger?.debug({ workers: exits.length }, 'worker pool stopping');
    this.stopping = Promise.all(exits).then(() => undefined);
    return this.stopping;
  }

  /** Terminates the thread of the worker running a task (or any worker); for tests only. */
  terminateWorkerForTesting(): Promise<void> {
    const workers = [...this.workers];
    const worker = workers.find((candidate) => candidate.task !== undefined) ?? workers[0];
    return worker === undefined ? Promise.resolve() : worker.handle.terminate();
  }

  private async drainThenStop(timeout: number): Promise<void> {
    if (!this.isDrained()) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.onDrained = resolve;
        if (timeout <= MAX_TIMER_DELAY) timer = setTimeout(resolve, timeout);
      });
      clearTimeout(timer);
      this.onDrained = undefined;
    }
    await this.stop((operation) => new CloseTimeoutError(operation, timeout));
  }

  private isDrained(): boolean {
    return this.queue.length === 0 && this.calls.size === 0;
  }

  private checkDrained(): void {
    if (this.state === 'closing' && this.isDrained()) this.onDrained?.();
  }

  private spawn(): PoolWorker {
    const worker = startWorker(
      this.nextWorkerId++,
      this.settings.platform,
      this.settings.module,
      this.listeners,
    );
    this.workers.add(worker);
    return worker;
  }

  /** Gives `worker` the next queued task, or marks it idle when the queue is empty. */
  private assignNext(worker: PoolWorker): void {
    const task = this.queue.shift();
    if (task === undefined) {
      this.makeIdle(worker);
      return;
    }
    worker.state = 'busy';
    worker.task = task;
    worker.handle.setBusy(true);
    worker.run(transfer(task.request, task.transfer)).then(
      (response) => this.onResponse(worker, task, response),
      (error: unknown) => this.onSendFailed(worker, task, error),
    );
  }

  private makeIdle(worker: PoolWorker): void {
    worker.state = 'idle';
    worker.task = undefined;
    worker.handle.setBusy(false);
    this.idleWorkers.push(worker);

    const { idleTimeout } = this.settings;
    if (idleTimeout <= MAX_TIMER_DELAY && this.state === 'open') {
      worker.idleTimer = setTimeout(() => {
        this.settings.logger?.debug(
          { workerId: worker.id, idleTimeout },
          'pool worker idle, stopping',
        );
        void this.retire(worker);
      }, idleTimeout);
      (worker.idleTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Starts queued tasks on idle workers and spawns workers while tasks still wait. */
  private dispatch(): void {
    while (this.queue.length > 0 && this.idleWorkers.length > 0) {
      const worker = this.idleWorkers.pop()!;
      clearTimeout(worker.idleTimer);
      this.assignNext(worker);
    }

    let starting = 0;
    for (const worker of this.workers) {
      if (worker.state === 'starting') starting++;
    }
    const missing = Math.min(this.settings.size - this.workers.size, this.queue.length - starting);
    for (let i = 0; i < missing; i++) this.spawn();
  }

  private onResponse(worker: PoolWorker, task: Task, response: WorkerResponse): void {
    if (worker.task !== task) {
      // The worker was declared gone and the call already rejected.
      if (response.ok && 'packed' in response) wipePacked(response.packed);
      return;
    }
    this.assignNext(worker);

    const { call } = task;
    if (call.settled) {
      if (response.ok && 'packed' in response) wipePacked(response.packed);
    } else if (!response.ok) {
      const suffix = call.isBatch ? ` (item ${task.offset + response.index} of the batch)` : '';
      this.failCall(call, deserializeError(response.error, suffix));
    } else {
      completeTask(task, 'packed' in response ? unpackResults(response.packed) : response.results);
      if (call.settled) this.calls.delete(call);
    }
    this.dispatch();
    this.checkDrained();
  }

  /**
   * Handles a request that could not be posted, because an input is not cloneable or a byte
   * array's buffer is detached.
   */
  private onSendFailed(worker: PoolWorker, task: Task, error: unknown): void {
    if (worker.task !== task) return;
    this.assignNext(worker);
    const { operation } = task.call;
    const detail = error instanceof Error ? error.message : String(error);
    // Checked after the failure, because a buffer can be detached while the task is queued.
    const message = containsDetachedBytes(task.request)
      ? `${operation}: an input Uint8Array cannot be sent to a worker because its buffer is ` +
        `detached (${detail}). It was transferred away, for example by an earlier call with ` +
        `transfer: true; pass a copy made with slice() before the transfer`
      : `${operation}: the arguments could not be sent to a worker (${detail}); ` +
        `pass byte values as Uint8Array`;
    this.failCall(task.call, new InvalidArgumentError(message, { cause: error }));
    this.dispatch();
  }

  private failCall(call: Call, error: Error): void {
    if (!rejectCall(call, error)) {
      return;
    }
    this.calls.delete(call);
    if (this.queue.some((task) => task.call === call)) {
      this.queue = this.queue.filter((task) => task.call !== call);
    }
    this.checkDrained();
  }

  private onStartFailed(worker: PoolWorker, error: Error): void {
    this.settings.logger?.error({ workerId: worker.id, err: error }, 'pool worker failed to start');
    void this.retire(worker);
    this.failQueueIfNoWorkers(error);
  }

  /** Rejects the queued calls when no worker is left to run them, instead of retrying forever. */
  private failQueueIfNoWorkers(error: Error): void {
    if (this.workers.size > 0 || this.queue.length === 0) return;
    for (const task of [...this.queue]) {
      this.failCall(task.call, error);
    }
  }

  private onWorkerExit(worker: PoolWorker, reason: Error): void {
    const { state, task } = worker;
    this.forget(worker);
    if (state === 'stopping') return;

    if (state === 'starting') {
      this.settings.logger?.error(
        { workerId: worker.id, err: reason },
        'pool worker stopped before it was ready',
      );
      this.failQueueIfNoWorkers(startFailure(worker, reason));
      return;
    }

    this.settings.logger?.warn(
      { workerId: worker.id, err: reason, operation: task?.call.operation },
      'pool worker stopped unexpectedly',
    );
    if (task !== undefined) {
      this.failCall(
        task.call,
        new WorkerTerminatedError(
          `${task.call.operation} failed: pool worker ${worker.id} stopped while running it ` +
            `(${reason.message}); retry the call`,
          { cause: reason },
        ),
      );
    }
    if (this.state === 'open' && this.settings.idleTimeout === Infinity) {
      this.settings.logger?.info({ workerId: worker.id }, 'replacing pool worker');
      this.spawn();
    }
    this.dispatch();
  }

  /** Stops `worker` on purpose; its exit is then not treated as a crash. */
  private retire(worker: PoolWorker): Promise<void> {
    if (worker.state === 'starting') {
      worker.settleReady(
        new WorkerTerminatedError(`pool worker ${worker.id} was stopped while starting`),
      );
    }
    worker.state = 'stopping';
    this.forget(worker);
    return worker.handle.terminate();
  }

  private forget(worker: PoolWorker): void {
    clearTimeout(worker.idleTimer);
    worker.task = undefined;
    this.workers.delete(worker);
    const index = this.idleWorkers.indexOf(worker);
    if (index >= 0) this.idleWorkers.splice(index, 1);
  }
}

/**
 * The scheduler's record of one worker thread: its comlink proxy, its state and the task it
 * runs. `startWorker` starts the thread and sends it the compiled module.
 */
import { wrap } from 'comlink';
import type { Remote } from 'comlink';
import type { Task } from './call.js';
import { deserializeError } from './error-transport.js';
import { WorkerTerminatedError } from './errors.js';
import type { Platform, WorkerHandle } from './platform.js';
import type { WorkerApi } from './protocol.js';

export interface PoolWorker {
  readonly id: number;
  readonly handle: WorkerHandle;
  /** The worker's `run`, fetched from the comlink proxy once so that calls reuse it. */
  readonly run: Remote<WorkerApi>['run'];
  state: 'starting' | 'idle' | 'busy' | 'stopping';
  task?: Task;
  idleTimer?: ReturnType<typeof setTimeout>;
  /** Resolves once the worker has instantiated the module; rejects if it never does. */
  readonly ready: Promise<void>;
  settleReady(error?: Error): void;
}

/** Scheduler callbacks for a worker that starts, fails to start or exits. */
export interface WorkerListeners {
  onStarted(worker: PoolWorker, liboqsVersion: string): void;
  onStartFailed(worker: PoolWorker, error: Error): void;
  onExit(worker: PoolWorker, reason: Error): void;
}

/** Returns the error of a worker that stopped before it had instantiated the module. */
export function startFailure(worker: PoolWorker, reason: Error): Error {
  return new WorkerTerminatedError(
    `pool worker ${worker.id} stopped before it was ready: ${reason.message}`,
    { cause: reason },
  );
}

/** Starts worker `id` and sends it `module`, reporting the outcome to `listeners`. */
export function startWorker(
  id: number,
  platform: Platform,
  module: WebAssembly.Module,
  listeners: WorkerListeners,
): PoolWorker {
  const handle = platform.spawn(`qynpqc-pool-${id}`);
  const remote = wrap<WorkerApi>(handle.endpoint);
  let settleReady!: (error?: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    settleReady = (error) => (error === undefined ? resolve() : reject(error));
  });
  // The caller of start() observes the rejection; later workers report through their calls.
  ready.catch(() => undefined);

  const worker: PoolWorker = { id, handle, run: remote.run, state: 'starting', ready, settleReady };
  handle.setBusy(true);
  handle.onExit((reason) => {
    if (worker.state === 'starting') settleReady(startFailure(worker, reason));
    listeners.onExit(worker, reason);
  });

  const fail = (error: Error): void => {
    if (worker.state !== 'starting') return;
    settleReady(error);
    listeners.onStartFailed(worker, error);
  };
  remote.init(module).then(
    (reply) => {
      if (!reply.ok) {
        fail(deserializeError(reply.error));
      } else if (worker.state === 'starting') {
        settleReady();
        listeners.onStarted(worker, reply.liboqsVersion);
      }
    },
    (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
  );
  return worker;
}

/**
 * Starts worker threads: Node's worker_threads running dist/pool-worker.js, or module Web
 * Workers running pool-worker.js from the folder of the browser bundle. The rest of the pool
 * uses only {@link WorkerHandle}.
 */
import type { Endpoint } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { InternalError, InvalidArgumentError } from '../errors.js';

/** One started worker thread. */
export interface WorkerHandle {
  /** The comlink endpoint that talks to the thread. */
  readonly endpoint: Endpoint;
  /** Stops the thread, interrupting any running operation; resolves once it has stopped. */
  terminate(): Promise<void>;
  /**
   * Registers the listener for the thread's end: an exit (Node) or an uncaught error or
   * unreadable message (Node and browsers). It is called at most once.
   */
  onExit(listener: (reason: Error) => void): void;
  /** Marks the thread busy or idle; an idle Node thread does not keep the process alive. */
  setBusy(busy: boolean): void;
}

/** Worker factory of the current runtime. */
export interface Platform {
  /** Default pool size: the number of logical processors available. */
  readonly defaultSize: number;
  spawn(name: string): WorkerHandle;
}

/** Number of workers when a browser does not report `navigator.hardwareConcurrency`. */
const FALLBACK_BROWSER_SIZE = 2;

/** Returns whether the code runs in Node (worker_threads) rather than a browser. */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * Finds the Node worker script: next to this bundle in dist/, or in dist/ when this file runs
 * from src/pool in a source checkout (which then needs `npm run build` first).
 */
async function findNodeWorkerScript(): Promise<URL> {
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const candidates = [
    new URL('./pool-worker.js', import.meta.url),
    new URL('../../dist/pool-worker.js', import.meta.url),
  ];
  for (const candidate of candidates) {
    if (candidate.protocol !== 'file:' || existsSync(fileURLToPath(candidate))) {
      return candidate;
    }
  }
  const tried = candidates.map((candidate) => fileURLToPath(candidate)).join(', ');
  throw new InternalError(
    `pool-worker.js not found; looked in ${tried}. Run npm run build in a source checkout, ` +
      `reinstall the package, or pass workerUrl`,
  );
}

/** Examples of a valid worker URL, for the end of a message about an invalid one. */
const WORKER_URL_EXAMPLE =
  "for example new URL('./pool-worker.js', import.meta.url) or a file: URL from " +
  "pathToFileURL('/path/to/pool-worker.js') of node:url";

/**
 * Returns `workerUrl` as a URL that Node's Worker can start: an absolute file: or data: URL.
 * A relative path or a plain file path is not a URL, and Worker rejects other schemes.
 */
function readNodeWorkerUrl(workerUrl: string | URL): URL {
  let url: URL;
  try {
    url = new URL(workerUrl);
  } catch (error) {
    throw new InvalidArgumentError(
      `createPqcPool: workerUrl must be an absolute URL, ${WORKER_URL_EXAMPLE}; got ` +
        `${JSON.stringify(String(workerUrl))}`,
      { cause: error },
    );
  }
  if (url.protocol !== 'file:' && url.protocol !== 'data:') {
    throw new InvalidArgumentError(
      `createPqcPool: workerUrl must be a file: or data: URL in Node, ${WORKER_URL_EXAMPLE}; ` +
        `got ${JSON.stringify(url.href)}`,
    );
  }
  return url;
}

async function createNodePlatform(workerUrl?: string | URL): Promise<Platform> {
  const { Worker } = await import('node:worker_threads');
  const { availableParallelism } = await import('node:os');
  const script =
    workerUrl === undefined ? await findNodeWorkerScript() : readNodeWorkerUrl(workerUrl);

  return {
    defaultSize: availableParallelism(),
    spawn(name: string): WorkerHandle {
      const worker = new Worker(script, { name });
      let lastError: Error | undefined;
      let exitListener: ((reason: Error) => void) | undefined;
      let ended = false;
      const end = (reason: Error): void => {
        if (ended) return;
        ended = true;
        exitListener?.(reason);
      };

      worker.on('error', (error: Error) => {
        lastError = error;
      });
      worker.on('messageerror', (error: Error) => {
        lastError = error;
        void worker.terminate();
      });
      worker.on('exit', (exitCode: number) => {
        end(lastError ?? new Error(`the worker thread exited with code ${exitCode}`));
      });

      return {
        endpoint: nodeEndpoint(worker),
        async terminate() {
          await worker.terminate();
        },
        onExit(listener) {
          exitListener = listener;
        },
        setBusy(busy) {
          if (busy) worker.ref();
          else worker.unref();
        },
      };
    },
  };
}

function createBrowserPlatform(workerUrl?: string | URL): Platform {
  const hardwareConcurrency = globalThis.navigator?.hardwareConcurrency;

  return {
    defaultSize: hardwareConcurrency > 0 ? hardwareConcurrency : FALLBACK_BROWSER_SIZE,
    spawn(name: string): WorkerHandle {
      // The literal URL pattern lets bundlers find and emit the worker script.
      const worker =
        workerUrl === undefined
          ? new Worker(new URL('./pool-worker.js', import.meta.url), { type: 'module', name })
          : new Worker(workerUrl, { type: 'module', name });
      let exitListener: ((reason: Error) => void) | undefined;
      let ended = false;
      const end = (reason: Error): void => {
        if (ended) return;
        ended = true;
        worker.terminate();
        exitListener?.(reason);
      };

      worker.addEventListener('error', (event: ErrorEvent | Event) => {
        const detail =
          event instanceof ErrorEvent && event.message ? event.message : 'it failed to load';
        end(new Error(`the worker raised an uncaught error: ${detail}`));
      });
      worker.addEventListener('messageerror', () => {
        end(new Error('the worker sent a message that could not be deserialized'));
      });

      return {
        endpoint: worker,
        terminate() {
          ended = true;
          worker.terminate();
          return Promise.resolve();
        },
        onExit(listener) {
          exitListener = listener;
        },
        setBusy() {
          // Browsers keep a page's workers alive regardless of pending work.
        },
      };
    },
  };
}

/**
 * Returns the platform of the current runtime. Throws InvalidArgumentError when `workerUrl` is
 * neither a string nor a URL, or in Node when it is not an absolute file: or data: URL.
 */
export async function createPlatform(workerUrl?: string | URL): Promise<Platform> {
  if (workerUrl !== undefined && typeof workerUrl !== 'string' && !(workerUrl instanceof URL)) {
    const actual = workerUrl === null ? 'null' : typeof workerUrl;
    throw new InvalidArgumentError(
      `createPqcPool: workerUrl must be a URL or a URL string, ${WORKER_URL_EXAMPLE}; ` +
        `got ${actual}`,
    );
  }
  return isNode() ? createNodePlatform(workerUrl) : createBrowserPlatform(workerUrl);
}

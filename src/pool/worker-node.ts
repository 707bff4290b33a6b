/** Entry point of a pool worker under Node's worker_threads; bundled as dist/pool-worker.js. */
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import { createWorkerApi } from './worker-api.js';

if (parentPort === null) {
  throw new Error('pool-worker.js must be started as a worker thread by createPqcPool()');
}

expose(createWorkerApi(), nodeEndpoint(parentPort));

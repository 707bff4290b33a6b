/** Entry point of a pool worker in a browser; bundled as dist/browser/pool-worker.js. */
import { expose } from 'comlink';
import { createWorkerApi } from './worker-api.js';

expose(createWorkerApi(), globalThis as unknown as Parameters<typeof expose>[1]);

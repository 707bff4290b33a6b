// Shared setup of the pool tests. The pool runs dist/pool-worker.js, so these tests need
// `npm run build` first; the pool's main-thread code is imported from src.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPqcPool } from '../../src/pool/index.js';
import type { PoolOptions, PqcPool } from '../../src/pool/index.js';

/** Absolute path of the repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const WORKER_SCRIPT = fileURLToPath(new URL('../../dist/pool-worker.js', import.meta.url));

/** Creates a pool after checking that the worker script has been built. */
export async function startPool(options: PoolOptions = {}): Promise<PqcPool> {
  if (!existsSync(WORKER_SCRIPT)) {
    throw new Error(`${WORKER_SCRIPT} is missing; run npm run build before the pool tests`);
  }
  return createPqcPool(options);
}

/** Returns `length` bytes counting up from `start`, a reproducible seed or randomness. */
export function pattern(length: number, start: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
}

/** Resolves to the settled error of `promise`; throws if it fulfils. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it fulfilled');
}

/** A message large enough that ML-DSA-87 signing it keeps a worker busy for tens of ms. */
export const SLOW_MESSAGE_LENGTH = 8 << 20;

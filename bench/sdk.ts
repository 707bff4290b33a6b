/**
 * Imports this SDK from the built package (dist/), which is what users install, while type
 * checking against the sources so that `tsc --noEmit` works before a build.
 */
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type * as Sdk from '../src/index.js';
import type { CreatePool } from './pool.js';

/** Entry point of the built ES module bundle. */
export const DIST_ENTRY = new URL('../dist/index.js', import.meta.url);

/** Imports dist/index.js, or throws with the build command when it is missing. */
export async function importSdk(): Promise<typeof Sdk> {
  const path = fileURLToPath(DIST_ENTRY);
  try {
    await access(path);
  } catch {
    throw new Error(`${path} not found; build the package first with npm run build`);
  }

  return (await import(DIST_ENTRY.href)) as typeof Sdk;
}

/** The pool factory and where it came from, for the report. */
export interface PoolFactory {
  createPool: CreatePool;
  source: 'dist/index.js';
}

/** Returns `createPqcPool` from the built package; its workers run dist/pool-worker.js. */
export function getPoolFactory(sdk: typeof Sdk): PoolFactory {
  return { createPool: sdk.createPqcPool, source: 'dist/index.js' };
}
